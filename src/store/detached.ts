/**
 * Whether the store's file is still the one open. SQLite writes on into an open file that was deleted or
 * replaced (renamed over) without an error, and all of it is gone at exit. So a deleted file is written back:
 * a complete copy of the state at its path (VACUUM INTO), again at most once a minute while it lasts and at
 * close, so that the next start loses nothing. A replaced file is someone's: it is never touched; the copy goes
 * beside it, to PATH.saved. Both are logged as errors, the first time and at each copy.
 */
import { renameSync, rmSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { Logger } from '../log/logger.js';

type Identity = { dev: number; ino: number };

const identity = (path: string): Identity | null => {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
};
const same = (a: Identity | null, b: Identity | null) => a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;

export const COPY_EVERY_MS = 60_000;

export class FileGuard {
  private readonly opened: Identity | null;
  /** The copies this guard wrote, by target path */
  private readonly copies = new Map<string, Identity>();
  private copiedAt = -Infinity;
  /** What happened to the file: null while it is the one open */
  problem: 'deleted' | 'replaced' | null = null;

  constructor(
    private readonly path: string,
    private readonly db: Database.Database,
    private readonly log: Logger,
    /** Writes what is queued before a copy (a failure there is the queue's to report) */
    private readonly flush: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.opened = path === ':memory:' ? null : identity(path);
  }

  /** Compares the file at the path with the one open; copies the state out when it is gone. Never throws. */
  check(final = false): void {
    if (this.opened === null) return;
    try {
      const at = identity(this.path);
      if (same(at, this.opened)) return;
      const ours = same(at, this.copies.get(this.path) ?? null);
      const problem = at === null || ours ? 'deleted' : 'replaced';
      const first = this.problem === null;
      this.problem = problem;
      if (!final && !first && this.now() - this.copiedAt < COPY_EVERY_MS) return;
      const target = problem === 'deleted' ? this.path : `${this.path}.saved`;
      this.copy(target);
      const what =
        problem === 'deleted'
          ? `database ${this.path} was deleted while logwarden runs: wrote a copy of the whole state back to it`
          : `database ${this.path} was replaced by another file while logwarden runs: left that file alone, wrote a copy of the whole state to ${target}`;
      const when = final ? '(at exit)' : problem === 'deleted'
            ? '(again each minute while it lasts, and at exit; restart logwarden to write to it again)'
            : `(again each minute while it lasts, and at exit; to go on with it, stop logwarden, move ${target} to ${this.path} and start it)`;
      this.log.error({ db: this.path, problem, copy: target }, `${what} ${when}`);
    } catch (error) {
      this.log.error({ db: this.path }, `database ${this.path} is no longer the file logwarden has open, and copying its state out failed: ${(error as Error).message}`);
    }
  }

  private copy(target: string): void {
    const existing = identity(target);
    const mine = this.copies.get(target) ?? null;
    if (existing !== null && !same(existing, mine)) throw new Error(`${target} exists and is not logwarden's copy: not overwritten`);
    this.flush();
    const tmp = `${target}.tmp-${process.pid}`;
    rmSync(tmp, { force: true });
    this.db.prepare('VACUUM INTO ?').run(tmp);
    renameSync(tmp, target);
    this.copies.set(target, identity(target)!);
    this.copiedAt = this.now();
  }
}
