/**
 * The SQLite store (better-sqlite3): offenders, evidence, blocks, the allow list and source positions in one
 * file. Hot state lives in memory (policy); this writes behind in micro-batched transactions. This facade ties
 * the parts together: open.ts (open, check, migrate, recover), queue.ts (the write-behind queue), and one file
 * per table.
 */
import type Database from 'better-sqlite3';
import { type Logger, plainLogger } from '../log/logger.js';
import { isCanonicalNetwork, type Network, networkText } from '../policy/network.js';
import type { Offender } from '../policy/policy.js';
import type { Position } from '../sources/source.js';
import { type WaitingLine, WaitingTable } from './waiting.js';
import { type AllowEntry, AllowTable } from './allow.js';
import { type BlockOrigin, type BlockReason, type BlockRow, BlocksTable, queuedBlockRow } from './blocks.js';
import { FileGuard } from './detached.js';
import { explain, StoreError } from './error.js';
import { FleetTables } from './fleet.js';
import { type EvidenceRow, EvidenceTable } from './evidence.js';
import { OffendersTable } from './offenders.js';
import { type OpenCheck, openDatabase, type Recovered } from './open.js';
import { type LegacyPosition, PositionsTable } from './positions.js';
import { type Batch, type StoreHealth, WriteQueue } from './queue.js';
import { type AttackCount, type DaemonStatusRow, StatusTable } from './status.js';

export type { AllowEntry } from './allow.js';
export type { BlockOrigin, BlockReason, BlockRow, BlockState } from './blocks.js';
export { StoreError } from './error.js';
export type { EvidenceRow } from './evidence.js';
export type { FleetDecisionRow, FleetDecisionState, OutboxKind, OutboxRow } from './fleet.js';
export type { OpenCheck, Recovered } from './open.js';
export type { StoreHealth } from './queue.js';
export type { AttackCount, DaemonStatusRow } from './status.js';

export interface StoreOptions {
  /** Evidence rows kept per offender: at least this many of the most recent, fewer than twice as many */
  evidencePerOffender?: number;
  /** Flush when this many evidence rows and blocks are queued (changed offenders are written with them) */
  batchSize?: number;
  /** Flush at most this long (ms) after the first queued write; 0 = only by size or by hand */
  flushAfterMs?: number;
  /** Evidence rows beyond the cap are deleted once this many have piled up (and on close) */
  trimBatch?: number;
  /** Where failing writes, their recovery and a recovered corrupt file are reported (default: plain lines on stderr) */
  log?: Logger;
  /** The earlier form of `log`: a message for each such report */
  warn?: (message: string) => void;
  /** The integrity check at open: 'wanted' (default: blocks, allow list, positions; cheap) or 'full' (the daemon's) */
  check?: OpenCheck;
  /** How long an explicit write waits for another process's lock (ms, default 2000) */
  busyTimeoutMs?: number;
  /** Longest wait between retries of a failing write (ms, default 5000) */
  retryMaxMs?: number;
  /** While writes fail, a summary at most this often (ms, default 10,000) */
  failureSummaryMs?: number;
}

function loggerOf(options: StoreOptions): Logger {
  if (options.log) return options.log;
  const warn = options.warn;
  if (!warn) return plainLogger('warn');
  const say = (_fields: object, message: string) => warn(message);
  return { debug: () => {}, info: () => {}, warn: say, error: say };
}

export class Store {
  private readonly queue: WriteQueue;
  private readonly evidence: EvidenceTable;
  private readonly offenders: OffendersTable;
  private readonly blocks: BlocksTable;
  private readonly positionsTable: PositionsTable;
  private readonly allow: AllowTable;
  private readonly waitingTable: WaitingTable;
  private readonly status: StatusTable;
  private readonly log: Logger;
  private readonly guard: FileGuard;
  /** The fleet's outbox, pushed decision ids and pulled decisions (CrowdSec LAPI); written at once, not queued */
  readonly fleet: FleetTables;

  private constructor(
    readonly db: Database.Database,
    readonly path: string,
    /** Set when the file was corrupt: moved aside, with what could be salvaged. The kernel may hold more. */
    readonly recovered: Recovered | null,
    options: StoreOptions,
    log: Logger,
  ) {
    this.log = log;
    this.evidence = new EvidenceTable(db, options.evidencePerOffender ?? 50, options.trimBatch ?? 100_000);
    this.offenders = new OffendersTable(db);
    this.blocks = new BlocksTable(db);
    this.positionsTable = new PositionsTable(db);
    this.allow = new AllowTable(db);
    this.waitingTable = new WaitingTable(db);
    this.status = new StatusTable(db);
    this.fleet = new FleetTables(db);
    const tables = {
      write: (b: Batch) => {
        this.evidence.insert(b.evidence, b.forgotten.size > 0);
        for (const o of b.offenders.values()) this.offenders.upsert(o);
        for (const key of b.forgotten) {
          this.offenders.delete(key);
          this.blocks.deleteEnded(key);
        }
        for (const block of b.blocks) this.blocks.insert(block);
        const now = Date.now();
        for (const [source, p] of b.positions) this.positionsTable.write(source, p, now);
        if (b.waiting !== null) this.waitingTable.replace(b.waiting);
        this.evidence.trim(false);
      },
      committed: (b: Batch) => this.evidence.committed(b.evidence, b.forgotten),
      rolledBack: () => this.evidence.rolledBack(),
    };
    this.queue = new WriteQueue(
      db,
      tables,
      {
        path,
        log,
        batchSize: options.batchSize ?? 5000,
        flushAfterMs: options.flushAfterMs ?? 100,
        busyTimeoutMs: options.busyTimeoutMs ?? 2000,
        retryMaxMs: options.retryMaxMs ?? 5000,
        summaryEveryMs: options.failureSummaryMs ?? 10_000,
      },
      () => this.flush(),
    );
    this.guard = new FileGuard(path, db, log, () => this.queue.flushForRead());
  }

  /** Whether the file at the path is still the one open; when it was deleted or replaced, copies the state out. */
  checkFile(): void {
    this.guard.check();
  }

  /**
   * Opens (creating folders, file and schema as needed, migrating an older file) the store at `path`, or
   * ':memory:'. A file that is not logwarden's database is refused untouched (StoreError); a corrupt one is
   * salvaged and moved aside (see `recovered`).
   */
  static open(path: string, options: StoreOptions = {}): Store {
    const log = loggerOf(options);
    const { db, recovered } = openDatabase(path, log, options.check ?? 'wanted');
    try {
      return new Store(db, path, recovered, options, log);
    } catch (error) {
      db.close();
      throw explain(path, error);
    }
  }

  // ---- the write-behind queue ----

  /** An id for an evidence row about to be added: the policy keeps ids, not lines, in its windows. */
  reserveEvidenceId(): number {
    return this.evidence.reserveId();
  }

  addEvidence(row: EvidenceRow): void {
    if (row.id === undefined) row.id = this.evidence.reserveId();
    this.queue.addEvidence(row);
  }

  /** The lines of evidence rows (queued or written), in the order asked; a trimmed row gives nothing. */
  evidenceLines(ids: readonly number[]): string[] {
    return this.evidence.lines(ids, this.queue.evidence);
  }

  /** Marks an offender's in-memory state for writing at the next flush. */
  touchOffender(o: Offender): void {
    this.queue.touch(o);
  }

  forgetOffenders(keys: Iterable<string>): void {
    this.queue.forget(keys);
  }

  /**
   * Queues the position of `source` after the lines handled so far: it is written in the same transaction as
   * everything queued before it, so after a crash reading resumes exactly after the last line whose effects were
   * written. Queue it after each batch of lines.
   */
  queuePosition(source: string, position: Position): void {
    this.queue.addPosition(source, position);
  }

  /**
   * Where the lines attempt correlation holds are read: each write of positions writes them too, in the same
   * transaction, so that a restart neither skips them (they are past the position) nor counts them twice.
   */
  trackWaiting(read: () => WaitingLine[]): void {
    this.queue.trackWaiting(read);
  }

  /** The lines correlation holds now are written with the next write (at a clean stop). */
  snapshotWaiting(): void {
    this.queue.snapshotWaiting();
  }

  /** The lines correlation held at the last position written (fed back at start). */
  waitingLines(): WaitingLine[] {
    return this.waitingTable.list();
  }

  get pendingWrites(): number {
    return this.queue.pending;
  }

  health(): StoreHealth {
    return this.queue.health();
  }

  /** Writes what is queued (offenders at most once a second); never throws: a failure is logged and retried. */
  flush(): void {
    this.queue.flush();
  }

  /** Writes everything queued, or throws a StoreError (the rows stay queued). */
  flushAll(): void {
    this.queue.flushAll();
  }

  /** Deletes the evidence rows beyond each offender's cap (those known: see evidence.ts). */
  trim(): void {
    this.flushAll();
    if (this.evidence.hasStale) this.direct(() => this.db.transaction(() => this.evidence.trim(true)).immediate(), () => this.evidence.rolledBack());
  }

  /** A write outside the queue, by an explicit call: a failure is a StoreError. */
  private direct<T>(write: () => T, undo?: () => void): T {
    try {
      return write();
    } catch (error) {
      undo?.();
      throw explain(this.path, error);
    }
  }

  // ---- blocks: the wanted state ----

  /**
   * Queues a new active block (ending any active one of the same key), written with the next flush. A simulated
   * block (dry run) is recorded beside the real ones and never applied.
   */
  addBlock(net: Network, start: number, expires: number | null, origin: BlockOrigin, reason: BlockReason, options: { simulated?: boolean } = {}): void {
    this.queue.addBlock({ key: networkText(net), net, start, expires, origin, reason: JSON.stringify(reason), simulated: options.simulated ?? false });
  }

  /** Ends the active block of `key` as released by a user or lifted by the whitelist. */
  endBlock(key: string, state: 'released' | 'whitelisted', at: number, options: { simulated?: boolean } = {}): boolean {
    this.flushAll();
    return this.direct(() => this.blocks.end(key, state, at, options.simulated ?? false));
  }

  /** After `unblock`: the offender is not blocked and its window is empty, so the next line does not re-block it. */
  releaseOffender(key: string, at: number): void {
    this.flushAll();
    this.direct(() => this.offenders.release(key, at));
  }

  /** Marks blocks (real and simulated) whose time is over as expired; returns how many. */
  expireBlocks(now: number): number {
    this.flush();
    return this.direct(() => this.blocks.expire(now));
  }

  block(id: number): BlockRow | null {
    this.queue.flushForRead();
    return this.blocks.byId(id);
  }

  /** The active blocks: the real ones (what the kernel must hold), or with `simulated` the dry run's. */
  activeBlocks(options: { simulated?: boolean } = {}): BlockRow[] {
    this.queue.flushForRead();
    const simulated = options.simulated ?? false;
    const rows = this.blocks.active(simulated);
    const queued = this.queue.queuedBlocks.filter((q) => q.simulated === simulated);
    if (queued.length === 0) return rows;
    // writes are failing: the blocks decided meanwhile are active all the same (the kernel must keep them), and
    // each ends the written active block of its key as its insert will
    const byKey = new Map(rows.map((r) => [r.key, r]));
    for (const q of queued) byKey.set(q.key, queuedBlockRow(q));
    return [...byKey.values()];
  }

  // ---- allow list: the wanted state ----

  allowList(): AllowEntry[] {
    return this.allow.list();
  }

  /** Replaces the entries of `origin` (only), in one transaction. */
  replaceAllow(origin: string, entries: readonly { net: Network; detail: string }[]): void {
    const bad = entries.find((e) => !isCanonicalNetwork(e.net));
    if (bad) throw new StoreError(`allow list entry ${JSON.stringify(bad.net)} (${bad.detail}) is not a canonical network`);
    this.direct(() => this.allow.replace(origin, entries));
  }

  // ---- offenders and evidence ----

  loadOffenders(): Offender[] {
    this.queue.flushForRead();
    return this.offenders.load();
  }

  evidenceOf(key: string, limit = 50): EvidenceRow[] {
    this.queue.flushForRead();
    return this.evidence.of(key, limit);
  }

  // ---- what the daemon publishes about itself (read by `status`) ----

  /** Replaces the daemon's status row and adds attack counts, in one transaction; a failure is a StoreError. */
  publishStatus(row: DaemonStatusRow, counts: readonly AttackCount[] = []): void {
    this.direct(() => this.status.publish(row, counts));
  }

  /** Marks the daemon `pid` as stopped cleanly at `at`. */
  markStopped(pid: number, at: number): void {
    this.direct(() => this.status.stopped(pid, at));
  }

  // ---- positions ----

  /** Where `source` stands: the last queued position, else the last written. */
  position(source: string): Position | null {
    return this.queue.queuedPosition(source) ?? this.positionsTable.get(source);
  }

  /** Every source's written position. */
  positions(): Map<string, Position> {
    return this.positionsTable.all();
  }

  /** The first form: inode, offset and cursor only, written at once. */
  setPosition(source: string, position: Partial<LegacyPosition>, now: number): void {
    this.direct(() => this.positionsTable.writeLegacy(source, position, now));
  }

  getPosition(source: string): LegacyPosition | null {
    return this.positionsTable.getLegacy(source);
  }

  /**
   * Writes everything, trims and checkpoints (the file stands alone), and closes. When the writes fail, throws a
   * StoreError after closing: the rows that were queued are lost, and logged as such.
   */
  close(): void {
    try {
      this.trim();
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.guard.check(true);
    } finally {
      this.queue.stop();
      const lost = this.queue.pending;
      if (lost > 0) this.log.error({ db: this.path, lost }, `closing the store with ${lost} rows that could not be written: they are lost`);
      this.db.close();
    }
  }
}
