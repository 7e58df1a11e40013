/**
 * Follows journald through `journalctl -f -o json` (an argument array, never a shell), resuming after the stored
 * cursor, and never goes quiet: every stderr line and every exit is logged, and journalctl is restarted with backoff
 * after the last cursor seen.
 *
 * A cursor journalctl does not know (another boot's journal, a vacuumed file, a cursor "from the future" after a
 * clock change) is not an error for `--after-cursor`: journalctl silently seeks to some nearby place, or past the end,
 * and then nothing arrives. So before following, the cursor is checked with `--cursor C -n 1`, which must print that
 * very entry; if not, reading falls back to `--since` the last event's time, with a warning.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { LineSplitter, MAX_LINE_LENGTH } from '../input/lines.js';
import type { Logger } from '../log/logger.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { runChild, type RunningChild } from './child.js';
import type { JournalFields, Position, Source, SourceLine, SourceStatus } from './source.js';

/**
 * The SYSLOG_IDENTIFIERs of the services the rules know (rules/*.json `programs`), for `-t` matches. What an
 * identifier match cannot express:
 * - `*` (pam.json): PAM lines carry the identifier of whatever program uses PAM; they are read only when that
 *   program is listed here (sshd, login, vsftpd, ...), or with `--journal-match` naming it.
 * - prefixes (`postfix/*`, `cyrus/*`): `-t` matches whole identifiers, so the daemons are listed one by one; a
 *   postfix instance with its own syslog_name (postfix-out/smtpd) or a master.cf service named otherwise
 *   (postfix/587/smtpd) needs `--journal-match`.
 * Web servers (nginx, apache) log to their own files, not the journal, and are left out.
 */
export const DEFAULT_JOURNAL_IDENTIFIERS: readonly string[] = [
  // ssh
  'sshd', 'sshd-session', 'sshd-auth', 'sshd(pam_unix)', 'dropbear',
  // mail
  'dovecot', 'imap-login', 'pop3-login', 'submission-login', 'managesieve-login', 'auth', 'auth-worker', 'dovecot-auth',
  'postfix/smtpd', 'postfix/smtps/smtpd', 'postfix/submission/smtpd', 'postfix/submissions/smtpd', 'postfix/postscreen',
  'postfix/dnsblog', 'postfix', 'postgrey',
  'exim', 'exim4', 'sendmail', 'sm-mta', 'sm-acceptingconnections', 'smtpd', 'opensmtpd',
  'cyrus/imap', 'cyrus/imaps', 'cyrus/pop3', 'cyrus/pop3s', 'cyrus/lmtp', 'cyrus/lmtpd', 'cyrus/sieve', 'cyrus/timsieved',
  'cyrus/nntpd', 'cyrus', 'imap', 'imaps', 'imapd', 'pop3', 'pop3s', 'pop3d', 'lmtp', 'lmtpd', 'sieve', 'timsieved', 'nntpd',
  'courier-imapd', 'courier-imap', 'imapd-ssl', 'pop3d-ssl', 'courierpop3login', 'courierpop3d', 'courier-pop3d',
  'imaplogin', 'courieresmtpd', 'esmtpd', 'esmtpd-ssl', 'esmtpd-msa', 'cucipop', 'ipop3d', 'ipop2d',
  // ftp
  'vsftpd', 'vsftpd(pam_unix)', 'proftpd', 'proftpd(pam_unix)', 'pure-ftpd', 'pure-ftpd(pam_unix)', 'ftpd',
  // logins through PAM
  'login', 'remote', 'in.telnetd', 'telnetd', 'in.rlogind', 'rlogind', 'in.rshd', 'rshd', 'xrdp-sesman',
  // other services
  'cockpit-ws', 'cockpit-session', 'named', 'gitea', 'gogs', 'sqlservr', 'mysqld', 'mariadbd', 'mariadb', 'mysql',
  'openvpn', 'openvpn-server', 'ovpn-server', 'php-fpm', 'pvedaemon', 'pveproxy', 'pmgdaemon', 'pmgproxy',
  'proxmox-backup-proxy', 'roundcube', 'roundcubemail', 'sshguard', 'sshg-blocker',
];

export interface JournalSourceOptions {
  /** `-t` matches; empty = every entry */
  identifiers: string[];
  /** `-u` matches (ANDed with the identifiers by journalctl, as on its command line) */
  units?: string[];
  /** `-p`, as a LOGREADER gave it (`info`, `0..6`) */
  priority?: string;
  /** The stored journal cursor */
  after: Position | null;
  /** `--file`, for tests and offline use */
  file?: string;
  /** Without a cursor: start at this time instead of at the end */
  since?: Date;
  log: Logger;
  /** The journalctl binary */
  journalctl?: string;
  backoff?: BackoffOptions;
}

type JournalPosition = Extract<Position, { kind: 'journal' }>;
type Start = { kind: 'cursor'; cursor: string } | { kind: 'since'; time: number } | { kind: 'end' };

/** journalctl's JSON lines are whole entries: far longer than a log line may be, and still one entry */
const MAX_JSON_LINE = 4 * 1024 * 1024;
const CHECK_TIMEOUT_MS = 10_000;

type FieldValue = string | number[] | null | (string | number[] | null)[];

/** A field's text: byte arrays decoded as UTF-8; of a field repeated in one entry, its first value. */
function fieldText(value: FieldValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (value.length > 0 && typeof value[0] === 'number') return Buffer.from(value as number[]).toString('utf8');
  return value.length > 0 ? fieldText(value[0] as FieldValue) : null;
}

function fieldNumber(value: FieldValue | undefined): number | null {
  const text = fieldText(value);
  if (text === null || !/^\d{1,16}$/.test(text)) return null;
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : null;
}

/** One JSON entry as a SourceLine, or null when it is not an entry (no cursor or time). */
export function entryLine(json: string, readAt: number): SourceLine | null {
  let entry: Record<string, FieldValue>;
  try {
    entry = JSON.parse(json) as Record<string, FieldValue>;
  } catch {
    return null;
  }
  if (typeof entry !== 'object' || entry === null) return null;
  const cursor = fieldText(entry.__CURSOR);
  const micros = fieldNumber(entry.__REALTIME_TIMESTAMP);
  if (cursor === null || micros === null) return null;
  const time = Math.floor(micros / 1000);
  const journal: JournalFields = {
    time,
    identifier: fieldText(entry.SYSLOG_IDENTIFIER),
    pid: fieldNumber(entry._PID) ?? fieldNumber(entry.SYSLOG_PID),
    host: fieldText(entry._HOSTNAME),
    uid: fieldNumber(entry._UID),
    exe: fieldText(entry._EXE),
    unit: fieldText(entry._SYSTEMD_UNIT),
    transport: fieldText(entry._TRANSPORT),
    comm: fieldText(entry._COMM),
    cursor,
  };
  return {
    text: fieldText(entry.MESSAGE) ?? '',
    source: 'journal',
    lineNo: null,
    position: { kind: 'journal', cursor, time },
    journal,
    readAt,
  };
}

/**
 * `--file FILE`, or `-D FOLDER` for a folder of journal files: journalctl follows such a folder through rotation
 * (a new file appearing in it, the active one renamed), as it follows the system journal.
 */
export function fileSelection(path: string): string[] {
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
  } catch {
    // a file that does not exist yet: journalctl says so, and the source retries
  }
  return folder ? ['-D', path] : ['--file', path];
}

/** The cursor's `s=` (seqnum id) and `i=` (seqnum): the same entry has the same pair. */
function sameEntry(a: string, b: string): boolean {
  const key = (cursor: string) => {
    const parts = cursor.split(';');
    const s = parts.find((p) => p.startsWith('s='));
    const i = parts.find((p) => p.startsWith('i='));
    return s && i ? `${s};${i}` : cursor;
  };
  return a === b || key(a) === key(b);
}

export class JournalSource implements Source {
  readonly name = 'journal';
  private readonly options: JournalSourceOptions;
  private readonly log: Logger;
  private readonly binary: string;
  private readonly file: string | null;
  private readonly backoff: Backoff;
  private onLines: (lines: SourceLine[]) => void = () => {};
  private child: RunningChild | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The last entry handed out: where a restart resumes */
  private last: JournalPosition | null;
  /** Where to start when no entry has been seen yet (kept across restarts, so none is lost before the first) */
  private firstStart: Start | null = null;
  private state: SourceStatus['state'] = 'waiting';
  private lines = 0;
  private errors = 0;
  private lastError: string | null = null;
  private lastLineAt: number | null = null;
  private malformed = 0;

  constructor(options: JournalSourceOptions) {
    this.options = options;
    this.log = options.log;
    this.binary = options.journalctl ?? 'journalctl';
    // journalctl -f cannot watch a relative --file ("Failed to get journal fd: Destination address required")
    this.file = options.file === undefined ? null : isAbsolute(options.file) ? options.file : resolve(options.file);
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
    this.last = options.after && options.after.kind === 'journal' ? options.after : null;
  }

  async start(onLines: (lines: SourceLine[]) => void): Promise<void> {
    this.onLines = onLines;
    await this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (child) {
      child.process.kill('SIGTERM');
      await child.ended;
    }
    this.state = 'stopped';
  }

  status(): SourceStatus {
    return {
      name: this.name,
      kind: 'journal',
      state: this.state,
      lines: this.lines,
      errors: this.errors,
      lastError: this.lastError,
      lastLineAt: this.lastLineAt,
      lagBytes: null,
    };
  }

  /** The journalctl arguments that select entries (no start, no output format). */
  private selection(): string[] {
    const args: string[] = [];
    if (this.file) args.push(...fileSelection(this.file));
    for (const identifier of this.options.identifiers) args.push('-t', identifier);
    for (const unit of this.options.units ?? []) args.push('-u', unit);
    if (this.options.priority !== undefined) args.push('-p', this.options.priority);
    return args;
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    let start: Start;
    try {
      start = await this.decideStart();
    } catch (error) {
      this.problem(`cannot run ${this.binary}: ${(error as Error).message}`);
      this.scheduleRestart(0);
      return;
    }
    if (this.stopped) return;
    const startArgs =
      start.kind === 'cursor' ? ['--after-cursor', start.cursor]
      : start.kind === 'since' ? ['--since', `@${(start.time / 1000).toFixed(3)}`]
      : ['-n', '0'];
    const args = ['-f', '-o', 'json', '--no-pager', ...this.selection(), ...startArgs];
    const startedAt = Date.now();
    const splitter = new LineSplitter((json) => this.entry(json, batch), MAX_JSON_LINE);
    let batch: SourceLine[] = [];
    this.log.debug({ command: this.binary, args }, 'following the journal');
    this.child = runChild(this.binary, args, {
      stdout: (chunk) => {
        splitter.write(chunk);
        this.flush(batch);
        batch = [];
      },
      stderrLine: (text) => this.problem(`journalctl: ${text}`),
      end: ({ code, signal, error }) => {
        splitter.end();
        this.flush(batch);
        batch = [];
        this.child = null;
        if (this.stopped) return;
        const how = error ? error.message : signal ? `killed by ${signal}` : `exited with code ${code}`;
        const delay = this.backoff.next(Date.now() - startedAt);
        this.problem(`journalctl ${how}; restarting in ${delay} ms`, 'error');
        this.scheduleRestart(delay);
      },
    });
    this.state = 'reading';
  }

  private scheduleRestart(delay: number): void {
    if (this.stopped) return;
    this.state = 'waiting';
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.run();
    }, delay || this.backoff.next(0));
  }

  private entry(json: string, batch: SourceLine[]): void {
    const line = entryLine(json, Date.now());
    if (!line) {
      this.malformed++;
      this.log.warn({ source: this.name, malformed: this.malformed, sample: json.slice(0, 200) }, 'journalctl printed a line that is not a journal entry; skipped');
      return;
    }
    this.last = line.position as JournalPosition;
    if (line.text.length > MAX_LINE_LENGTH) {
      this.log.debug({ source: this.name, cursor: line.journal!.cursor, length: line.text.length }, 'overlong journal message skipped whole');
      return;
    }
    batch.push(line);
  }

  private flush(batch: SourceLine[]): void {
    if (batch.length === 0) return;
    this.lines += batch.length;
    this.lastLineAt = Date.now();
    this.onLines(batch);
  }

  /** After the last entry seen if journalctl knows it; else from its time; else from now on. */
  private async decideStart(): Promise<Start> {
    const last = this.last;
    if (last === null) {
      this.firstStart ??= this.options.since ? { kind: 'since', time: this.options.since.getTime() } : { kind: 'end' };
      // A restart before the first entry: from when the first run began, so nothing written since is lost
      const start = this.firstStart;
      if (start.kind === 'end') this.firstStart = { kind: 'since', time: Date.now() };
      return start;
    }
    if (await this.knowsCursor(last.cursor)) return { kind: 'cursor', cursor: last.cursor };
    const now = Date.now();
    const time = Math.min(last.time, now);
    // --since is inclusive: an entry sharing the last one's millisecond may be read again, rather than lost
    this.log.warn(
      { source: this.name, cursor: last.cursor, lastEventTime: new Date(last.time).toISOString(), since: new Date(time).toISOString() },
      last.time > now
        ? 'journalctl does not know the stored cursor, and its time is in the future (clock changed?): reading from now on'
        : 'journalctl does not know the stored cursor (another boot, or a vacuumed journal): reading from the time of the last event',
    );
    this.errors++;
    this.lastError = 'stored journal cursor unknown to journalctl';
    this.last = null;
    this.firstStart = { kind: 'since', time };
    return this.firstStart;
  }

  /** True when `--cursor C -n 1` prints the entry C itself (rejects, silence and a nearby entry all mean no). */
  private knowsCursor(cursor: string): Promise<boolean> {
    return new Promise((resolvePromise, reject) => {
      const selection = this.file ? fileSelection(this.file) : [];
      let output = '';
      const child = runChild(this.binary, [...selection, '--cursor', cursor, '-n', '1', '-o', 'json', '--no-pager'], {
        stdout: (chunk) => {
          if (output.length < MAX_JSON_LINE) output += chunk.toString('utf8');
        },
        stderrLine: (text) => this.log.debug({ source: this.name, text }, 'journalctl cursor check'),
        end: ({ error }) => {
          clearTimeout(timer);
          if (error) return reject(error);
          const first = output.split('\n', 1)[0] ?? '';
          const line = first.length > 0 ? entryLine(first, Date.now()) : null;
          resolvePromise(line !== null && sameEntry(line.journal!.cursor, cursor));
        },
      });
      const timer = setTimeout(() => child.process.kill('SIGKILL'), CHECK_TIMEOUT_MS);
    });
  }

  private problem(text: string, level: 'warn' | 'error' = 'warn'): void {
    this.errors++;
    this.lastError = text;
    this.log[level]({ source: this.name }, text);
  }
}
