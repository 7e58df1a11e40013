/**
 * `--on-block PROGRAM` and `--on-release PROGRAM`: notifications. The program is run with an argument array,
 * never through a shell (the address comes from attacker-written log lines):
 *   PROGRAM ADDRESS PREFIX_LENGTH DURATION REASON
 * DURATION is seconds, or `permanent`; for a release it is how long the block lasted, and REASON says why it
 * ended (expired, released by hand, whitelisted). LOGWARDEN_EVENT is `block` or `release`.
 * A hook never stalls the daemon: at most MAX_RUNNING run at once, later ones wait in a queue of MAX_QUEUED, and
 * beyond that they are dropped and counted; each is killed (with its process group) after its timeout. Failures
 * (exit code, signal, timeout, missing program) are logged with the first bytes of its standard error.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../log/logger.js';

export type HookEvent = 'block' | 'release';

export interface HookCall {
  event: HookEvent;
  addr: string;
  cidr: number;
  /** seconds; null: permanent */
  duration: number | null;
  reason: string;
}

export interface HookOptions {
  onBlock: string | null;
  onRelease: string | null;
  log: Logger;
  timeoutMs?: number;
  maxRunning?: number;
  maxQueued?: number;
}

export interface HookStats {
  started: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  dropped: number;
  running: number;
  queued: number;
}

export const HOOK_TIMEOUT_MS = 10_000;
const MAX_RUNNING = 4;
const MAX_QUEUED = 100;
/** Bytes of a failing hook's standard error put in the log */
const STDERR_KEPT = 512;
/** While hooks are dropped, one log line at most this often */
const DROP_LOG_EVERY_MS = 10_000;

export function hookArguments(call: HookCall): string[] {
  return [call.addr, String(call.cidr), call.duration === null ? 'permanent' : String(call.duration), call.reason];
}

export class Hooks {
  readonly stats: HookStats = { started: 0, succeeded: 0, failed: 0, timedOut: 0, dropped: 0, running: 0, queued: 0 };
  private readonly queue: HookCall[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly kills = new Set<() => void>();
  private readonly timeoutMs: number;
  private readonly maxRunning: number;
  private readonly maxQueued: number;
  private droppedLoggedAt = -Infinity;
  private droppedSinceLog = 0;
  private stopped = false;

  constructor(private readonly options: HookOptions) {
    this.timeoutMs = options.timeoutMs ?? HOOK_TIMEOUT_MS;
    this.maxRunning = options.maxRunning ?? MAX_RUNNING;
    this.maxQueued = options.maxQueued ?? MAX_QUEUED;
  }

  private programOf(event: HookEvent): string | null {
    return event === 'block' ? this.options.onBlock : this.options.onRelease;
  }

  /** Runs the hook of `call.event` (if one is set) now, later, or not at all when the queue is full. */
  notify(call: HookCall): void {
    if (this.stopped || this.programOf(call.event) === null) return;
    if (this.running.size < this.maxRunning) this.start(call);
    else if (this.queue.length < this.maxQueued) {
      this.queue.push(call);
      this.stats.queued = this.queue.length;
    } else this.drop(call);
  }

  private drop(call: HookCall): void {
    this.stats.dropped++;
    this.droppedSinceLog++;
    const now = Date.now();
    if (now - this.droppedLoggedAt < DROP_LOG_EVERY_MS) return;
    this.options.log.warn(
      { event: call.event, addr: call.addr, dropped: this.droppedSinceLog, total: this.stats.dropped },
      `--on-${call.event} hook not run for ${call.addr}: ${this.maxRunning} are running and ${this.maxQueued} waiting; ${this.droppedSinceLog} dropped since the last such message`,
    );
    this.droppedLoggedAt = now;
    this.droppedSinceLog = 0;
  }

  private start(call: HookCall): void {
    this.stats.started++;
    const done = this.run(call).finally(() => {
      this.running.delete(done);
      this.stats.running = this.running.size;
      const next = this.stopped ? undefined : this.queue.shift();
      this.stats.queued = this.queue.length;
      if (next) this.start(next);
    });
    this.running.add(done);
    this.stats.running = this.running.size;
  }

  private run(call: HookCall): Promise<void> {
    const program = this.programOf(call.event)!;
    const args = hookArguments(call);
    const { log } = this.options;
    const fields = { hook: `on-${call.event}`, program, addr: call.addr };
    return new Promise((resolve) => {
      let stderr = '';
      let timedOut = false;
      const child = spawn(program, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, LOGWARDEN_EVENT: call.event },
        // its own process group: a timeout kills what it started too
        detached: true,
      });
      const kill = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      this.kills.add(kill);
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, this.timeoutMs);
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < STDERR_KEPT) stderr += chunk.slice(0, STDERR_KEPT - stderr.length);
      });
      let ended = false;
      const finish = () => {
        ended = true;
        clearTimeout(timer);
        this.kills.delete(kill);
        resolve();
      };
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (ended) return;
        this.stats.failed++;
        const why = error.code === 'ENOENT' ? 'no such program' : error.code === 'EACCES' ? 'not executable' : error.message;
        log.error({ ...fields, error: error.message }, `--on-${call.event} ${program} could not be run (${why})`);
        finish();
      });
      // 'exit', not 'close': a grandchild keeping stderr open must not keep the hook counted as running
      child.once('exit', (code, signal) => {
        if (ended) return;
        const said = stderr.trim() === '' ? '' : `: ${stderr.trim()}`;
        if (timedOut) {
          this.stats.timedOut++;
          log.error({ ...fields, timeoutMs: this.timeoutMs }, `--on-${call.event} ${program} ${call.addr} was killed after ${this.timeoutMs / 1000} s${said}`);
        } else if (code === 0) {
          this.stats.succeeded++;
          log.debug(fields, `--on-${call.event} ${program} ${call.addr} done`);
        } else {
          this.stats.failed++;
          log.error({ ...fields, code, signal }, `--on-${call.event} ${program} ${call.addr} failed (${code === null ? `signal ${signal}` : `exit ${code}`})${said}`);
        }
        child.stderr!.destroy();
        finish();
      });
    });
  }

  /** Waits until every hook started has ended (tests, and the shutdown). */
  async settle(): Promise<void> {
    while (this.running.size > 0 || this.queue.length > 0) await Promise.all([...this.running]);
  }

  /**
   * At shutdown: queued hooks are dropped (and said so), running ones get `graceMs` to end and are then killed.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    if (this.queue.length > 0) {
      this.stats.dropped += this.queue.length;
      this.options.log.warn({ dropped: this.queue.length }, `stopping: ${this.queue.length} queued hook(s) not run`);
      this.queue.length = 0;
      this.stats.queued = 0;
    }
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all([...this.running]), grace]);
    clearTimeout(timer);
    for (const kill of this.kills) kill();
    await Promise.all([...this.running]);
  }
}
