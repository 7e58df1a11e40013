/**
 * sshguard's LOGREADER: a command line from root's own config file, run through `/bin/sh -c` as sshguard runs it
 * (the one place a shell is allowed), whose standard output is the log. stderr lines are logged; an exit is logged
 * at error level and the command restarted with backoff. A LOGREADER that only runs journalctl is better read
 * natively (JSON, cursor, trusted fields): `journalReaderOf` recognises those.
 */
import { basename } from 'node:path';
import { StreamLines } from './stream-lines.js';
import type { Logger } from '../log/logger.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { runChild, type RunningChild } from './child.js';
import type { JournalSourceOptions } from './journal.js';
import type { Source, SourceLine, SourceStatus } from './source.js';

export interface CommandSourceOptions {
  /** The shell command line, as in sshguard.conf's LOGREADER */
  command: string;
  log: Logger;
  backoff?: BackoffOptions;
}

export class CommandSource implements Source {
  readonly name: string;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private onLines: (lines: SourceLine[]) => void = () => {};
  private child: RunningChild | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private state: SourceStatus['state'] = 'waiting';
  private lines = 0;
  private errors = 0;
  private lastError: string | null = null;
  private lastLineAt: number | null = null;

  constructor(options: CommandSourceOptions) {
    this.name = options.command;
    this.log = options.log;
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
  }

  async start(onLines: (lines: SourceLine[]) => void): Promise<void> {
    this.onLines = onLines;
    this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (child) {
      // The whole group: a pipeline's commands would otherwise outlive the shell
      try {
        if (child.process.pid !== undefined) process.kill(-child.process.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await child.ended;
    }
    this.state = 'stopped';
  }

  status(): SourceStatus {
    return {
      name: this.name,
      kind: 'command',
      state: this.state,
      lines: this.lines,
      errors: this.errors,
      lastError: this.lastError,
      lastLineAt: this.lastLineAt,
      lagBytes: null,
    };
  }

  private run(): void {
    if (this.stopped) return;
    const startedAt = Date.now();
    const stream = new StreamLines(this.name, (lines) => {
      this.lines += lines.length;
      this.lastLineAt = Date.now();
      this.onLines(lines);
    });
    this.child = runChild('/bin/sh', ['-c', this.name], {
      stdout: (chunk) => stream.write(chunk),
      stderrLine: (text) => {
        this.errors++;
        this.lastError = text;
        this.log.warn({ command: this.name, stderr: text }, 'log reader command wrote to stderr');
      },
      end: ({ code, signal, error }) => {
        stream.end();
        this.child = null;
        if (this.stopped) return;
        const how = error ? error.message : signal ? `killed by ${signal}` : `exited with code ${code}`;
        const delay = this.backoff.next(Date.now() - startedAt);
        this.errors++;
        this.lastError = `log reader command ${how}`;
        this.state = 'waiting';
        this.log.error({ command: this.name, code, signal, restartInMs: delay }, `log reader command ${how}; restarting`);
        this.restartTimer = setTimeout(() => {
          this.restartTimer = null;
          this.run();
        }, delay);
      },
    }, true);
    this.state = 'reading';
  }
}

/** What a journalctl LOGREADER selects, to be read natively instead. */
export type JournalReaderSelection = Pick<JournalSourceOptions, 'identifiers' | 'units' | 'priority' | 'journalctl'>;

/**
 * Splits a command line into words as sh would, for the simple words a LOGREADER uses; null when it holds anything
 * whose meaning depends on the shell (pipes, redirections, expansions, globs, several commands, comments).
 */
function shellWords(command: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const append = (text: string) => (word = (word ?? '') + text);
  while (i < command.length) {
    const c = command[i]!;
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return null;
      append(command.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= command.length) return null;
        const d = command[i]!;
        if (d === '"') break;
        if (d === '$' || d === '`') return null;
        if (d === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!)) {
          text += command[i + 1];
          i += 2;
          continue;
        }
        text += d;
        i++;
      }
      append(text);
      i++;
    } else if (c === '\\') {
      if (i + 1 >= command.length || command[i + 1] === '\n') return null;
      append(command[i + 1]!);
      i += 2;
    } else if ('|&;<>()$`*?[]{}~#!\n\r'.includes(c)) {
      return null;
    } else {
      append(c);
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

const PRIORITY = '(?:emerg|alert|crit|err|warning|notice|info|debug|[0-7])';
const PRIORITY_RANGE = new RegExp(`^${PRIORITY}(?:\\.\\.${PRIORITY})?$`);
/** Flags that change only how entries are shown, or where reading starts (the stored cursor decides that here) */
const IGNORED_SHORT = new Set(['a', 'f', 'q', 'l', 'x', 'e']);
const IGNORED_LONG = new Set(['--all', '--follow', '--quiet', '--full', '--no-full', '--no-pager', '--no-hostname', '--catalog', '--pager-end', '--no-tail']);

/**
 * Recognises a LOGREADER that runs journalctl -f with -t/-u/-p matches (Debian's and sshguard's examples:
 * `LANG=C /bin/journalctl -afb -p info -n1 -t sshd -o cat`), so the daemon reads the journal natively. Where only
 * `sshd` is named, `sshd-session` and `sshd-auth` are added: OpenSSH 9.8 and 10 log under those names. `-b` (this
 * boot) and `-n N` are dropped: the stored cursor decides where reading starts. Anything else that changes which
 * entries are selected, or any shell syntax, gives null: the command is then run as it is.
 */
export function journalReaderOf(command: string): JournalReaderSelection | null {
  const words = shellWords(command.trim());
  if (!words || words.length === 0) return null;
  let at = 0;
  // Leading environment assignments: only the locale, which cannot change the JSON read here
  while (at < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[at]!)) {
    if (!/^(LANG|LANGUAGE|LC_[A-Z]+)=/.test(words[at]!)) return null;
    at++;
  }
  const program = words[at++];
  if (program === undefined || basename(program) !== 'journalctl' || (program.includes('/') && !program.startsWith('/'))) return null;
  const identifiers: string[] = [];
  const units: string[] = [];
  let priority: string | undefined;
  let follow = false;
  const next = (): string | null => (at < words.length ? words[at++]! : null);
  const isNumber = (word: string | undefined) => word !== undefined && /^\+?\d+$/.test(word);
  const take = (option: string, value: string | null): boolean => {
    if (value === null || value.length === 0) return false;
    if (option === 't') identifiers.push(value);
    else if (option === 'u') units.push(value);
    else if (option === 'p') {
      if (!PRIORITY_RANGE.test(value)) return false;
      priority = value;
    } // 'o': the output format is ours (JSON)
    return true;
  };
  const bootTakesNext = () => at < words.length && (!words[at]!.startsWith('-') || /^-\d+$/.test(words[at]!));
  while (at < words.length) {
    const word = next()!;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word : word.slice(0, eq);
      const value = eq < 0 ? null : word.slice(eq + 1);
      if (name === '--follow') follow = true;
      if (IGNORED_LONG.has(name) && value === null) continue;
      const long: Record<string, string> = { '--identifier': 't', '--unit': 'u', '--priority': 'p', '--output': 'o' };
      if (long[name]) {
        if (!take(long[name]!, value ?? next())) return null;
      } else if (name === '--lines') {
        if (value === null && isNumber(words[at])) at++;
      } else if (name === '--boot') {
        if ((value !== null && value !== '0' && value !== '') || (value === null && bootTakesNext())) return null;
      } else return null;
      continue;
    }
    if (!word.startsWith('-') || word === '-') return null; // a FIELD=VALUE match, or anything unknown
    for (let k = 1; k < word.length; k++) {
      const option = word[k]!;
      const rest = word.slice(k + 1);
      if (IGNORED_SHORT.has(option)) {
        if (option === 'f') follow = true;
        continue;
      }
      if ('tupo'.includes(option)) {
        if (!take(option, rest.length > 0 ? rest : next())) return null;
        break;
      }
      if (option === 'n') {
        if (rest.length === 0 && isNumber(words[at])) at++;
        else if (rest.length > 0 && !isNumber(rest)) return null;
        break;
      }
      if (option === 'b') {
        if ((rest.length > 0 && rest !== '0') || (rest.length === 0 && bootTakesNext())) return null;
        break;
      }
      return null;
    }
  }
  // Without -f journalctl prints and exits: not a log reader to follow
  if (!follow) return null;
  if (identifiers.includes('sshd')) {
    for (const name of ['sshd-session', 'sshd-auth']) if (!identifiers.includes(name)) identifiers.push(name);
  }
  return {
    identifiers,
    ...(units.length > 0 ? { units } : {}),
    ...(priority !== undefined ? { priority } : {}),
    journalctl: program,
  };
}
