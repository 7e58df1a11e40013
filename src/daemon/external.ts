/**
 * sshguard's PARSER and POST_PARSER, run as sshguard runs them: a shell command from root's configuration
 * (`/bin/sh -c`, the one place a shell is used), as the daemon's user (SSHGUARD_USER when set), reading lines on its standard
 * input and writing sshg-parser lines (`SERVICE ADDR KIND DANGER`) on its standard output. PARSER reads the
 * log lines instead of logwarden's parser; POST_PARSER reads logwarden's parser output and may drop or change
 * lines. What comes back is checked like any log text: only a canonical address of the stated kind is used.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { LineSplitter } from '../input/lines.js';
import { excerpt } from '../log/excerpt.js';
import type { Logger } from '../log/logger.js';
import { parseAddress } from '../parse/address.js';
import { Banner } from '../parse/banner.js';
import type { ParsedEvent } from '../parse/parser.js';
import { Backoff } from '../sources/backoff.js';

export interface ExternalOptions {
  command: string;
  /** PARSER or POST_PARSER, for messages and the rule name of its events */
  role: 'parser' | 'post-parser';
  log: Logger;
  onEvent: (event: ParsedEvent) => void;
}

/** sshg-parser's output line as an attack event, or null when it is not one. */
export function sshgLineEvent(line: string, role: ExternalOptions['role']): ParsedEvent | null {
  const m = /^(\d{1,6}) (\S{1,64}) ([46]) (\d{1,4})$/.exec(line.trim());
  if (m === null) return null;
  const address = parseAddress(m[2]);
  if (address === null || !('addr' in address) || address.addr !== m[2] || String(address.kind) !== m[3]) return null;
  return {
    event: 'attack',
    service: Number(m[1]),
    rule: role,
    correlation: null,
    connectionPerPid: false,
    danger: Number(m[4]),
    addr: address.addr,
    kind: address.kind,
    user: null,
    session: null,
    count: 1,
    banner: new Banner(''),
  };
}

export function sshgLine(e: ParsedEvent): string {
  return `${e.service} ${e.addr} ${e.kind} ${e.danger}`;
}

export class ExternalFilter {
  private child: ChildProcess | null = null;
  private readonly backoff = new Backoff();
  private startedAt = 0;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | null = null;
  readonly counts = { sent: 0, events: 0, refused: 0, restarts: 0 };

  constructor(private readonly options: ExternalOptions) {}

  start(): void {
    if (this.stopped) return;
    const { command, log, role } = this.options;
    this.startedAt = Date.now();
    // with --user the daemon process already is that user (daemon/privsep.ts): the command inherits it
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    const out = new LineSplitter((text) => this.output(text));
    const err = new LineSplitter((text) => text && log.warn({ role }, `${role}: ${text}`));
    child.stdout!.on('data', (d: Buffer) => out.write(d));
    child.stderr!.on('data', (d: Buffer) => err.write(d));
    child.stdin!.on('error', () => {}); // its exit is reported below
    child.on('error', (error) => log.error({ role }, `${role} ${JSON.stringify(command)} cannot run: ${error.message}`));
    child.on('close', (code, signal) => {
      out.end();
      if (this.child === child) this.child = null;
      if (this.stopped) return;
      const delay = this.backoff.next(Date.now() - this.startedAt);
      this.counts.restarts++;
      log.error({ role, code, signal }, `${role} ${JSON.stringify(command)} exited (${signal ?? `code ${code}`}): restarting in ${delay} ms; lines meanwhile are not scored`);
      this.restartTimer = setTimeout(() => this.start(), delay);
      this.restartTimer.unref();
    });
  }

  private output(text: string): void {
    if (text === '') return;
    const event = sshgLineEvent(text, this.options.role);
    if (event === null) {
      if (this.counts.refused++ === 0) this.options.log.warn({ role: this.options.role, line: excerpt(text) }, `${this.options.role} wrote a line that is not SERVICE ADDR KIND DANGER: ignored (and the next ones, counted)`);
      return;
    }
    this.counts.events++;
    this.options.onEvent(event);
  }

  /** A line to the command's standard input; dropped (counted) while it is being restarted. */
  send(line: string): void {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return;
    this.counts.sent++;
    stdin.write(`${line.replaceAll('\n', ' ')}\n`);
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = null;
    child?.stdin?.end();
    child?.kill();
  }
}
