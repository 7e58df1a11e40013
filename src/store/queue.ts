/**
 * The write-behind queue: evidence, offenders, blocks and positions wait in memory and are written together in
 * one transaction (micro-batches: most of a one-row commit is overhead). A write that fails (disk full,
 * read-only, busy, I/O error) loses nothing: the batch goes back to the front of the queue in its order, the
 * failure is logged when it starts, summarised while it lasts and logged again when writes succeed, and it is
 * retried with backoff. Only an explicit flushAll throws; a timer never does.
 */
import type Database from 'better-sqlite3';
import type { Logger } from '../log/logger.js';
import type { Offender } from '../policy/policy.js';
import type { Position } from '../sources/source.js';
import type { QueuedBlock } from './blocks.js';
import { explain, sqliteCode } from './error.js';
import type { EvidenceRow } from './evidence.js';
import type { WaitingLine } from './waiting.js';

export interface Batch {
  evidence: EvidenceRow[];
  offenders: Map<string, Offender>;
  forgotten: Set<string>;
  blocks: QueuedBlock[];
  positions: Map<string, Position>;
  /** The lines correlation holds, as of the positions of this batch (null: unchanged) */
  waiting: WaitingLine[] | null;
}

/** How the tables take a batch */
export interface BatchWriter {
  /** Inside the transaction */
  write(batch: Batch): void;
  /** After the commit */
  committed(batch: Batch): void;
  /** After a rollback (the batch is queued again) */
  rolledBack(batch: Batch): void;
}

export interface QueueOptions {
  path: string;
  log: Logger;
  batchSize: number;
  flushAfterMs: number;
  /** How long an explicit write waits for another process's lock */
  busyTimeoutMs: number;
  /** Longest wait between retries of a failing write */
  retryMaxMs: number;
  /** While writes fail, a summary at most this often */
  summaryEveryMs: number;
}

export interface StoreHealth {
  /** Rows waiting to be written */
  pending: number;
  /** ms, when the current run of failed writes began; null while writes succeed */
  failingSince: number | null;
  /** The last write error (kept after recovery) */
  lastError: string | null;
  /** Failed write attempts since the store was opened */
  failures: number;
}

const OFFENDER_WRITE_INTERVAL_MS = 1000;
/** A write from a timer blocks the event loop while it waits for a lock: it waits little and retries later */
const BACKGROUND_BUSY_MS = 100;
const FIRST_RETRY_MS = 100;

export class WriteQueue {
  /** In id order: read by evidenceLines */
  evidence: EvidenceRow[] = [];
  private offenders = new Map<string, Offender>();
  private forgotten = new Set<string>();
  private blocks: QueuedBlock[] = [];
  private positions = new Map<string, Position>();
  /** Read when positions are written: the lines correlation holds at that moment */
  private waitingNow: (() => WaitingLine[]) | null = null;
  /** A snapshot whose write failed: written with the next positions unless a newer one is taken */
  private waiting: WaitingLine[] | null = null;
  /** Set once a position is queued: from then on a full batch is written after the caller's current batch of lines */
  private positional = false;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private offendersWrittenAt = 0;
  private busyTimeout = -1;
  private failingSince: number | null = null;
  private lastError: string | null = null;
  private failures = 0;
  private failuresInRun = 0;
  private retryAt = 0;
  private summaryAt = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: BatchWriter,
    private readonly options: QueueOptions,
    /** What timers and a full batch call: the Store's flush */
    private readonly trigger: () => void,
  ) {}

  addEvidence(row: EvidenceRow): void {
    this.evidence.push(row);
    this.queued();
  }

  touch(o: Offender): void {
    this.offenders.set(o.key, o);
    this.forgotten.delete(o.key);
    this.queued();
  }

  forget(keys: Iterable<string>): void {
    for (const key of keys) {
      this.offenders.delete(key);
      this.forgotten.add(key);
    }
    this.queued();
  }

  addBlock(block: QueuedBlock): void {
    this.blocks.push(block);
    this.queued();
  }

  /** Blocks not written yet (while writes fail, all those decided since), in the order they were decided */
  get queuedBlocks(): readonly QueuedBlock[] {
    return this.blocks;
  }

  /** The position after everything queued so far: written in the same transaction as all of it. */
  addPosition(source: string, position: Position): void {
    this.positions.set(source, position);
    this.positional = true;
    this.queued();
  }

  /** Where to read the lines correlation holds, written with every batch that carries positions. */
  trackWaiting(read: () => WaitingLine[]): void {
    this.waitingNow = read;
  }

  /** Takes the lines correlation holds now, to be written with the next write even without a new position. */
  snapshotWaiting(): void {
    if (this.waitingNow !== null) this.waiting = this.waitingNow();
  }

  queuedPosition(source: string): Position | null {
    return this.positions.get(source) ?? null;
  }

  get pending(): number {
    return this.evidence.length + this.offenders.size + this.forgotten.size + this.blocks.length + this.positions.size + (this.waiting === null ? 0 : 1);
  }

  health(): StoreHealth {
    return { pending: this.pending, failingSince: this.failingSince, lastError: this.lastError, failures: this.failures };
  }

  private queued(): void {
    const full = this.evidence.length + this.blocks.length >= this.options.batchSize;
    // a block does not wait for the timer: `explain` or `status` run when the "blocked" message appears must find it
    if (this.failingSince === null && (full || this.blocks.length > 0)) {
      // with positions, a write in the middle of the caller's batch of lines would commit effects past the last
      // position: it waits until the batch is handled (and its position queued)
      if (full && !this.positional) this.trigger();
      else if (this.immediate === null) {
        this.immediate = setImmediate(() => {
          this.immediate = null;
          this.trigger();
        });
      }
    } else if (this.timer === null && this.options.flushAfterMs > 0 && this.pending > 0) {
      this.schedule(this.options.flushAfterMs);
    }
  }

  private schedule(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.trigger();
    }, ms);
    this.timer.unref();
  }

  /**
   * Writes what is queued; never throws. Changed offenders are written at most once a second (an active attacker
   * changes its row on every attack; the evidence and blocks are what must not wait), unless a position is
   * queued: a position is only written with everything before it. While writes fail, waits for the retry time.
   */
  flush(): void {
    if (this.waitingToRetry()) return;
    this.write(Date.now() - this.offendersWrittenAt >= OFFENDER_WRITE_INTERVAL_MS, false);
  }

  /** Writes everything queued, or throws a StoreError (the rows stay queued). */
  flushAll(): void {
    this.write(true, true);
  }

  /** Writes everything queued before a read, if it can; a failure is reported as by flush. */
  flushForRead(): void {
    if (!this.waitingToRetry()) this.write(true, false);
  }

  /** While writes fail, true until the retry time (and the retry stays scheduled). */
  private waitingToRetry(): boolean {
    if (this.failingSince === null) return false;
    const wait = this.retryAt - Date.now();
    if (wait <= 0) return false;
    if (this.timer === null) this.schedule(wait);
    return true;
  }

  private write(withOffenders: boolean, explicit: boolean): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // a position covers everything before it; a retry writes everything, so that success means all is written
    const all = withOffenders || this.positions.size > 0 || this.failingSince !== null;
    if (this.pending - (all ? 0 : this.offenders.size) === 0) {
      this.scheduleHeldBack();
      return;
    }
    const batch = this.take(all);
    this.setBusyTimeout(explicit ? this.options.busyTimeoutMs : Math.min(BACKGROUND_BUSY_MS, this.options.busyTimeoutMs));
    try {
      this.db.transaction(() => this.writer.write(batch)).immediate();
    } catch (error) {
      this.writer.rolledBack(batch);
      this.putBack(batch);
      this.failed(error);
      if (explicit) {
        const e = explain(this.options.path, error);
        e.message = `${e.message}; ${this.pending} rows stay queued`;
        throw e;
      }
      return;
    }
    if (all) this.offendersWrittenAt = Date.now();
    this.writer.committed(batch);
    if (this.failingSince !== null) this.recovered();
    this.scheduleHeldBack();
  }

  /** Offenders held back are written when their second is up, even if nothing else comes. */
  private scheduleHeldBack(): void {
    if (this.offenders.size > 0 && this.timer === null && this.options.flushAfterMs > 0) {
      this.schedule(Math.max(this.options.flushAfterMs, OFFENDER_WRITE_INTERVAL_MS - (Date.now() - this.offendersWrittenAt)));
    }
  }

  private take(withOffenders: boolean): Batch {
    const batch: Batch = {
      evidence: this.evidence,
      offenders: withOffenders ? this.offenders : new Map(),
      forgotten: this.forgotten,
      blocks: this.blocks,
      positions: this.positions,
      // positions say which lines were handled: what correlation still holds of them goes with them
      waiting: this.positions.size > 0 && this.waitingNow !== null ? this.waitingNow() : this.waiting,
    };
    this.evidence = [];
    if (withOffenders) this.offenders = new Map();
    this.forgotten = new Set();
    this.blocks = [];
    this.positions = new Map();
    this.waiting = null;
    return batch;
  }

  /** Back to the front of the queue; what was queued since (the later operation) wins. */
  private putBack(b: Batch): void {
    this.evidence = b.evidence.concat(this.evidence);
    this.blocks = b.blocks.concat(this.blocks);
    for (const [key, o] of b.offenders) if (!this.offenders.has(key) && !this.forgotten.has(key)) this.offenders.set(key, o);
    for (const key of b.forgotten) if (!this.offenders.has(key)) this.forgotten.add(key);
    for (const [source, p] of b.positions) if (!this.positions.has(source)) this.positions.set(source, p);
    this.waiting ??= b.waiting;
  }

  private setBusyTimeout(ms: number): void {
    if (ms === this.busyTimeout) return;
    this.db.pragma(`busy_timeout = ${ms}`);
    this.busyTimeout = ms;
  }

  private failed(error: unknown): void {
    const now = Date.now();
    this.failures++;
    this.failuresInRun++;
    this.lastError = (error as Error).message;
    const fields = { db: this.options.path, code: sqliteCode(error) || null, error: this.lastError, pending: this.pending };
    if (this.failingSince === null) {
      this.failingSince = now;
      this.summaryAt = now;
      this.options.log.error(fields, `cannot write to the store: ${this.lastError}; ${this.pending} rows are kept and retried`);
    } else if (now - this.summaryAt >= this.options.summaryEveryMs) {
      this.summaryAt = now;
      this.options.log.error(
        { ...fields, failingForMs: now - this.failingSince, failures: this.failuresInRun },
        `store writes still failing (${this.lastError}); ${this.pending} rows waiting`,
      );
    }
    const delay = Math.min(this.options.retryMaxMs, FIRST_RETRY_MS * 2 ** Math.min(this.failuresInRun - 1, 20));
    this.retryAt = now + delay;
    this.schedule(delay);
  }

  private recovered(): void {
    const failedForMs = Date.now() - this.failingSince!;
    this.options.log.warn(
      { db: this.options.path, failedForMs, failures: this.failuresInRun },
      `store writes succeed again after ${failedForMs} ms and ${this.failuresInRun} failed attempts; the queued rows are written`,
    );
    this.failingSince = null;
    this.failuresInRun = 0;
    this.retryAt = 0;
  }

  /** Stops the timers (on close). */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }
}
