/**
 * Rotation torture, shared by the short tests (test/faults) and the long ones (test/stress): a separate writer
 * process appends numbered lines to a log through one open descriptor (as rsyslog does, reopening on request
 * as after logrotate's HUP) while the parent rotates the file in every way logrotate can.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Rotation = 'rename' | 'delete' | 'copytruncate';
export const ROTATIONS: Rotation[] = ['rename', 'delete', 'copytruncate'];

/** Line `n` in plain form (FileSource tests) or as an sshd failure from an address of its own (daemon tests) */
export type LineFormat = 'plain' | 'attack';

/** The address of attack line `n`: one per line, so each line is one evidence row and nobody is blocked */
export function attackAddress(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** The number a line carries, or null */
export function numberOf(text: string, format: LineFormat): number | null {
  if (format === 'plain') {
    const m = /^line (\d+) /.exec(text);
    return m ? Number(m[1]) : null;
  }
  const m = / from 10\.(\d+)\.(\d+)\.(\d+) port /.exec(text);
  return m ? (Number(m[1]) << 16) + (Number(m[2]) << 8) + Number(m[3]) : null;
}

const WRITER = fileURLToPath(new URL('./writer.mjs', import.meta.url));

/** The writer process: `perTick` lines every `tickMs` ms, through one descriptor kept open until told to reopen. */
export class Writer {
  private readonly child: ChildProcess;
  private readonly replies: { resolve: (value: { written: number }) => void; reject: (error: Error) => void }[] = [];

  constructor(path: string, { format, perTick, tickMs }: { format: LineFormat; perTick: number; tickMs: number }) {
    this.child = fork(WRITER, [path, format, String(perTick), String(tickMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m) => this.replies.shift()?.resolve(m as { written: number }));
    this.child.once('exit', (code) => {
      for (const r of this.replies.splice(0)) r.reject(new Error(`writer exited (${code})`));
    });
  }

  private ask(command: string): Promise<{ written: number }> {
    return new Promise((resolve, reject) => {
      this.replies.push({ resolve, reject });
      this.child.send(command);
    });
  }

  /** Closes its descriptor and opens the path again (creating it); resolves with the lines written so far. */
  reopen(): Promise<{ written: number }> {
    return this.ask('reopen');
  }

  /** Lines written so far */
  count(): Promise<{ written: number }> {
    return this.ask('count');
  }

  /** Stops writing; resolves with the number of lines written (0 .. written-1). */
  async stop(): Promise<number> {
    const { written } = await this.ask('stop');
    return written;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** What one copytruncate left for measuring: the numbers the copy holds (written before the copy was made). */
export interface CopyTruncate {
  copied: Set<number>;
  /** The last number in the copy */
  last: number;
  /** ms between the copy's start and the truncate */
  windowMs: number;
}

/** Numbers of the complete lines of a file */
export function numbersIn(path: string, format: LineFormat): number[] {
  const out: number[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const n = numberOf(line, format);
    if (n !== null) out.push(n);
  }
  return out;
}

/**
 * Rotates `path` the way `kind` says; `rotated` is the name the old file gets (rename, copytruncate). The writer
 * is told to reopen after rename and delete, as logrotate's postrotate HUP does; copytruncate needs no reopen.
 */
export async function rotate(kind: Rotation, path: string, rotated: string, writer: Writer, format: LineFormat): Promise<CopyTruncate | null> {
  switch (kind) {
    case 'rename':
      renameSync(path, rotated);
      writeFileSync(path, ''); // logrotate's `create`
      await writer.reopen();
      return null;
    case 'delete':
      unlinkSync(path);
      await writer.reopen();
      return null;
    case 'copytruncate': {
      const t0 = performance.now();
      copyFileSync(path, rotated);
      truncateSync(path, 0);
      const windowMs = performance.now() - t0;
      const copied = new Set(numbersIn(rotated, format));
      return { copied, last: Math.max(-1, ...copied), windowMs };
    }
  }
}

/** How the numbers read compare with 0 .. written-1 */
export interface Tally {
  written: number;
  readOnce: number;
  missing: number[];
  doubled: number[];
}

export function tally(written: number, numbers: Iterable<number>): Tally {
  const seen = new Uint32Array(written);
  const doubled: number[] = [];
  for (const n of numbers) {
    if (n < 0 || n >= written) throw new Error(`line ${n} was never written (${written} were)`);
    if (++seen[n] === 2) doubled.push(n);
  }
  const missing: number[] = [];
  let readOnce = 0;
  for (let n = 0; n < written; n++) {
    if (seen[n] === 0) missing.push(n);
    else if (seen[n] === 1) readOnce++;
  }
  return { written, readOnce, missing, doubled };
}

/**
 * The lines copytruncate lost, split by why. Every missing line must sit at a copytruncate: written before the
 * copy but not read yet when the file was truncated (a reader of the copy could still get these), or written
 * between the copy and the truncate (in neither file: lost whatever reads the logs). Throws on any other loss.
 */
export function copytruncateLoss(missing: number[], cuts: CopyTruncate[]): { unreadAtCopy: number; betweenCopyAndTruncate: number; perCut: number[] } {
  let unreadAtCopy = 0;
  let betweenCopyAndTruncate = 0;
  const perCut = cuts.map(() => 0);
  const gone = new Set(missing);
  for (const n of missing) {
    const k = cuts.findIndex((c) => c.copied.has(n));
    if (k >= 0) {
      unreadAtCopy++;
      perCut[k]++;
      continue;
    }
    // in no copy: it must belong to the run of missing lines right after a copy's last line
    let after = -1;
    for (let i = 0; i < cuts.length; i++) if (cuts[i].last < n) after = i;
    if (after < 0) throw new Error(`line ${n} is lost and no copytruncate explains it`);
    for (let m = cuts[after].last + 1; m < n; m++) {
      if (!gone.has(m)) throw new Error(`line ${n} is lost and no copytruncate explains it (line ${m} after the copy was read)`);
    }
    betweenCopyAndTruncate++;
    perCut[after]++;
  }
  return { unreadAtCopy, betweenCopyAndTruncate, perCut };
}

/** A small seeded generator, so that a failing sequence of rotations can be replayed (the seed is printed). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; throws `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await pause(5);
  }
}

/**
 * The rotations of one run: every kind after every kind (so distinct kinds follow each other), then random
 * ones. `count` rotations in all.
 */
export function rotationPlan(count: number, random: () => number): Rotation[] {
  const plan: Rotation[] = [];
  for (const a of ROTATIONS) for (const b of ROTATIONS) plan.push(a, b);
  while (plan.length < count) plan.push(ROTATIONS[Math.floor(random() * ROTATIONS.length)]);
  return plan.slice(0, count);
}
