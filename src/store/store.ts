/**
 * The SQLite store (better-sqlite3): offenders, evidence, blocks and source positions in one file.
 * Hot state lives in memory (policy); this writes behind in micro-batched transactions.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressKind } from '../parse/address.js';
import { type Network, networkText } from '../policy/network.js';
import type { Offender } from '../policy/policy.js';
import { MIGRATIONS } from './schema.js';

export class StoreError extends Error {}

export interface EvidenceRow {
  /** Given by the store (reserveEvidenceId) */
  id?: number;
  offender: string;
  time: number;
  source: string;
  lineNo: number | null;
  event: 'attack' | 'login';
  rule: string;
  service: number;
  danger: number;
  addr: string;
  outcome: string;
  line: string;
}

export type BlockOrigin = 'policy' | 'blacklist' | 'manual';
export type BlockState = 'active' | 'expired' | 'released' | 'whitelisted';

export interface BlockReason {
  score?: number;
  attacks?: number;
  services?: number[];
  rules?: string[];
  evidence?: string[];
  text?: string;
}

export interface BlockRow {
  id: number;
  key: string;
  addr: string;
  cidr: number;
  kind: AddressKind;
  start: number;
  /** null: permanent */
  expires: number | null;
  origin: BlockOrigin;
  reason: BlockReason;
  state: BlockState;
  endedAt: number | null;
}

export interface StoreOptions {
  /** Evidence rows kept per offender: at least this many of the most recent, fewer than twice as many */
  evidencePerOffender?: number;
  /** Flush when this many evidence rows and blocks are queued (changed offenders are written with them) */
  batchSize?: number;
  /** Flush at most this long (ms) after the first queued write; 0 = only by size or by hand */
  flushAfterMs?: number;
  /** Evidence rows beyond the cap are deleted once this many have piled up (and on close) */
  trimBatch?: number;
  /** Reports problems the store recovered from (a corrupt file moved aside) */
  warn?: (message: string) => void;
}

/** /var/lib/logwarden/state.db for root, else $XDG_STATE_HOME (or ~/.local/state)/logwarden/state.db */
export function defaultDbPath(): string {
  if (process.getuid?.() === 0) return '/var/lib/logwarden/state.db';
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'logwarden', 'state.db');
}

const PERMANENT = -1;
const OFFENDER_WRITE_INTERVAL_MS = 1000;
const RECENT_LINES = 16_384;
const EVIDENCE_ROWS_PER_INSERT = 32;
const EVIDENCE_COLUMNS = '(id, offender, time, source, line_no, event, rule, service, danger, addr, outcome, line)';
const EVIDENCE_PLACEHOLDERS = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/** Appends a row's values in EVIDENCE_COLUMNS order. */
function pushEvidenceValues(values: unknown[], r: EvidenceRow): unknown[] {
  values.push(r.id, r.offender, r.time, r.source, r.lineNo, r.event, r.rule, r.service, r.danger, r.addr, r.outcome, r.line);
  return values;
}

function isCorruption(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT');
}

export class Store {
  readonly db: Database.Database;
  private readonly evidenceCap: number;
  private readonly batchSize: number;
  private evidenceQueue: EvidenceRow[] = [];
  private dirtyOffenders = new Map<string, Offender>();
  private deletedOffenders = new Set<string>();
  /**
   * Ids of each offender's evidence rows, oldest first (a lone id is kept as a number: most offenders have
   * one or two rows); once they reach twice the cap, the oldest go to `stale`.
   */
  private readonly evidenceIds = new Map<string, number | number[]>();
  /** Rows to delete: gathered and deleted together, in id order, so that each table page is written once */
  private stale: number[] = [];
  private readonly trimBatch: number;
  private blockQueue: { key: string; net: Network; start: number; expires: number | null; origin: BlockOrigin; reason: string }[] = [];
  private nextEvidenceId: number;
  private readonly insertManyEvidence: Database.Statement;
  /** The lines of the most recently written evidence rows, by id modulo the size: a block's lines are recent */
  private readonly recentIds = new Float64Array(RECENT_LINES).fill(-1);
  private readonly recentLines: string[] = new Array<string>(RECENT_LINES);
  /** `SELECT ... WHERE id IN (?, ...)` prepared once per number of ids */
  private readonly selectLines = new Map<number, Database.Statement>();
  private readonly flushAfterMs: number;
  private flushTimer: NodeJS.Timeout | null = null;
  private offendersWrittenAt = 0;

  private readonly stmt: Record<
    | 'insertEvidence'
    | 'upsertOffender'
    | 'deleteOffender'
    | 'releaseOffender'
    | 'deleteEvidence'
    | 'deleteEndedBlocks'
    | 'insertBlock'
    | 'endBlock'
    | 'expireBlocks'
    | 'activeBlocks'
    | 'setPosition'
    | 'getPosition',
    Database.Statement
  >;

  private constructor(
    db: Database.Database,
    readonly path: string,
    options: StoreOptions,
  ) {
    this.db = db;
    this.evidenceCap = options.evidencePerOffender ?? 50;
    this.batchSize = options.batchSize ?? 5000;
    this.flushAfterMs = options.flushAfterMs ?? 100;
    this.trimBatch = options.trimBatch ?? 100_000;
    this.stmt = {
      insertEvidence: db.prepare(`INSERT INTO evidence ${EVIDENCE_COLUMNS} VALUES ${EVIDENCE_PLACEHOLDERS}`),
      upsertOffender: db.prepare(
        `INSERT INTO offenders (key, addr, cidr, kind, window_start, score, window_attacks, level, level_at,
           blocked_danger, blocked_until, blocks, attacks, first_seen, last_seen)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, score = excluded.score,
           window_attacks = excluded.window_attacks, level = excluded.level, level_at = excluded.level_at,
           blocked_danger = excluded.blocked_danger, blocked_until = excluded.blocked_until, blocks = excluded.blocks,
           attacks = excluded.attacks, last_seen = excluded.last_seen`,
      ),
      deleteOffender: db.prepare('DELETE FROM offenders WHERE key = ?'),
      releaseOffender: db.prepare(
        'UPDATE offenders SET blocked_until = NULL, score = 0, window_attacks = 0, window_start = ? WHERE key = ?',
      ),
      deleteEvidence: db.prepare('DELETE FROM evidence WHERE id = ?'),
      deleteEndedBlocks: db.prepare(`DELETE FROM blocks WHERE key = ? AND state != 'active'`),
      insertBlock: db.prepare(
        `INSERT INTO blocks (key, addr, cidr, kind, start, expires, origin, reason, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active')`,
      ),
      endBlock: db.prepare(`UPDATE blocks SET state = ?, ended_at = ? WHERE key = ? AND state = 'active'`),
      expireBlocks: db.prepare(
        `UPDATE blocks SET state = 'expired', ended_at = expires WHERE state = 'active' AND expires IS NOT NULL AND expires <= ?`,
      ),
      activeBlocks: db.prepare(`SELECT * FROM blocks WHERE state = 'active' ORDER BY id`),
      setPosition: db.prepare(
        `INSERT OR REPLACE INTO positions (source, inode, offset, cursor, updated_at) VALUES (?, ?, ?, ?, ?)`,
      ),
      getPosition: db.prepare('SELECT inode, offset, cursor FROM positions WHERE source = ?'),
    };
    this.insertManyEvidence = db.prepare(
      `INSERT INTO evidence ${EVIDENCE_COLUMNS} VALUES ${new Array(EVIDENCE_ROWS_PER_INSERT).fill(EVIDENCE_PLACEHOLDERS).join(', ')}`,
    );
    let last = 0;
    for (const row of db.prepare('SELECT id, offender FROM evidence ORDER BY id').iterate() as Iterable<{ id: number; offender: string }>) {
      this.rememberEvidence(row.offender, row.id);
      last = row.id;
    }
    this.nextEvidenceId = last + 1;
  }

  private rememberEvidence(offender: string, id: number): void {
    const ids = this.evidenceIds.get(offender);
    if (ids === undefined) this.evidenceIds.set(offender, id);
    else if (typeof ids === 'number') this.evidenceIds.set(offender, [ids, id]);
    else {
      ids.push(id);
      // trimming in steps of `cap` rows keeps the delete work per event constant
      if (ids.length >= 2 * this.evidenceCap) for (const old of ids.splice(0, ids.length - this.evidenceCap)) this.stale.push(old);
    }
  }

  /**
   * Opens (creating folders, file and schema as needed) the store at `path`, or ':memory:'.
   * A corrupt file is moved aside to `<path>.corrupt-<time>` and replaced by a fresh one: protection goes on.
   */
  static open(path: string, options: StoreOptions = {}): Store {
    const warn = options.warn ?? ((m: string) => process.stderr.write(`logwarden: ${m}\n`));
    try {
      return new Store(Store.openDatabase(path), path, options);
    } catch (error) {
      if (path === ':memory:' || !isCorruption(error)) throw Store.explain(path, error);
      const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
      }
      warn(`database ${path} is corrupt (${(error as Error).message}); moved it to ${aside} and started a fresh one`);
      try {
        return new Store(Store.openDatabase(path), path, options);
      } catch (again) {
        throw Store.explain(path, again);
      }
    }
  }

  private static explain(path: string, error: unknown): StoreError {
    const e = error as { code?: string; message: string };
    if (e instanceof StoreError) return e;
    if (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED') {
      return new StoreError(`database ${path} is locked by another process (${e.message})`);
    }
    if (e.code === 'SQLITE_CANTOPEN' || e.code === 'SQLITE_READONLY' || e.code === 'EACCES' || e.code === 'EROFS') {
      return new StoreError(`cannot open database ${path} for writing (${e.message})`);
    }
    return new StoreError(`database ${path}: ${e.message}`);
  }

  private static openDatabase(path: string): Database.Database {
    if (path !== ':memory:') {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (error) {
        throw new StoreError(`cannot create the folder of database ${path} (${(error as Error).message})`);
      }
    }
    const db = new Database(path, { timeout: 2000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // fewer checkpoints (each writes every page changed since the last one: 64 MB of WAL between them), and a
      // WAL file of bounded size
      db.pragma('wal_autocheckpoint = 16000');
      db.pragma('journal_size_limit = 134217728');
      db.pragma('cache_size = -16384');
      db.pragma('foreign_keys = ON');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') {
        const error = new Error(`quick_check: ${String(check)}`) as Error & { code: string };
        error.code = 'SQLITE_CORRUPT';
        throw error;
      }
      Store.migrate(db);
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private static migrate(db: Database.Database): void {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StoreError(`database schema version ${version} is newer than this logwarden (${MIGRATIONS.length})`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]);
        db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  // ---- write-behind queue ----

  /** An id for an evidence row about to be added: the policy keeps ids, not lines, in its windows. */
  reserveEvidenceId(): number {
    return this.nextEvidenceId++;
  }

  addEvidence(row: EvidenceRow): void {
    if (row.id === undefined) row.id = this.nextEvidenceId++;
    this.evidenceQueue.push(row);
    this.queued();
  }

  /** The lines of evidence rows (queued or written), in the order asked; a trimmed row gives nothing. */
  evidenceLines(ids: readonly number[]): string[] {
    const queue = this.evidenceQueue;
    const found = new Map<number, string>();
    const written: number[] = [];
    for (const id of ids) {
      // the queue is in id order
      let lo = 0;
      let hi = queue.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const at = queue[mid].id!;
        if (at === id) {
          found.set(id, queue[mid].line);
          break;
        }
        if (at < id) lo = mid + 1;
        else hi = mid - 1;
      }
      if (found.has(id)) continue;
      if (this.recentIds[id % RECENT_LINES] === id) found.set(id, this.recentLines[id % RECENT_LINES]);
      else written.push(id);
    }
    if (written.length > 0) {
      // one query for all of them (a block's window has at most a few tens of lines)
      let select = this.selectLines.get(written.length);
      if (select === undefined) {
        select = this.db.prepare(`SELECT id, line FROM evidence WHERE id IN (${written.map(() => '?').join(',')})`);
        this.selectLines.set(written.length, select);
      }
      const rows = select.all(...written) as { id: number; line: string }[];
      for (const row of rows) found.set(row.id, row.line);
    }
    return ids.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
  }

  /** Marks an offender's in-memory state for writing at the next flush. */
  touchOffender(o: Offender): void {
    this.dirtyOffenders.set(o.key, o);
    this.deletedOffenders.delete(o.key);
    this.queued();
  }

  forgetOffenders(keys: Iterable<string>): void {
    for (const key of keys) {
      this.dirtyOffenders.delete(key);
      this.deletedOffenders.add(key);
    }
    this.queued();
  }

  private queued(): void {
    if (this.evidenceQueue.length + this.blockQueue.length >= this.batchSize) this.flush();
    else if (this.flushTimer === null && this.flushAfterMs > 0 && this.pendingWrites > 0) {
      this.flushTimer = setTimeout(() => this.flush(), this.flushAfterMs);
      this.flushTimer.unref();
    }
  }

  get pendingWrites(): number {
    return this.evidenceQueue.length + this.dirtyOffenders.size + this.deletedOffenders.size + this.blockQueue.length;
  }

  /**
   * Writes what is queued in one transaction. Changed offenders are written at most once a second (an active
   * attacker changes its row on every attack; the evidence and blocks are what must not wait), and by flushAll.
   */
  flush(): void {
    this.write(Date.now() - this.offendersWrittenAt >= OFFENDER_WRITE_INTERVAL_MS);
  }

  /** Writes everything queued, offenders included (before reading, and on close). */
  flushAll(): void {
    this.write(true);
  }

  private write(withOffenders: boolean): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.pendingWrites === 0) return;
    const evidence = this.evidenceQueue;
    const offenders = withOffenders ? this.dirtyOffenders : new Map<string, Offender>();
    const deleted = this.deletedOffenders;
    const blocks = this.blockQueue;
    this.evidenceQueue = [];
    if (withOffenders) {
      this.dirtyOffenders = new Map();
      this.offendersWrittenAt = Date.now();
    }
    this.deletedOffenders = new Set();
    this.blockQueue = [];
    this.db.transaction(() => {
      // many rows per statement: the statement overhead, not SQLite's work, is most of a one-row insert
      let at = 0;
      for (; at + EVIDENCE_ROWS_PER_INSERT <= evidence.length; at += EVIDENCE_ROWS_PER_INSERT) {
        const values: unknown[] = [];
        for (let k = at; k < at + EVIDENCE_ROWS_PER_INSERT; k++) pushEvidenceValues(values, evidence[k]);
        this.insertManyEvidence.run(values);
      }
      for (; at < evidence.length; at++) this.stmt.insertEvidence.run(pushEvidenceValues([], evidence[at]));
      for (const r of evidence) {
        this.rememberEvidence(r.offender, r.id!);
        this.recentIds[r.id! % RECENT_LINES] = r.id!;
        this.recentLines[r.id! % RECENT_LINES] = r.line;
      }
      for (const o of offenders.values()) {
        this.stmt.upsertOffender.run(
          o.key, o.net.addr, o.net.cidr, o.net.kind, o.windowStart, o.score, o.windowAttacks, o.level, o.levelAt,
          o.blockedDanger, o.blockedUntil === 0 ? null : o.blockedUntil === Infinity ? PERMANENT : o.blockedUntil,
          o.blocks, o.attacks, o.firstSeen, o.lastSeen,
        );
      }
      // a forgotten offender's past blocks go with it: the file stays proportional to what is remembered
      for (const key of deleted) {
        this.stmt.deleteOffender.run(key);
        this.stmt.deleteEndedBlocks.run(key);
        const ids = this.evidenceIds.get(key);
        if (typeof ids === 'number') this.stale.push(ids);
        else if (ids !== undefined) for (const id of ids) this.stale.push(id);
        this.evidenceIds.delete(key);
      }
      for (const b of blocks) {
        this.stmt.endBlock.run('expired', b.start, b.key);
        this.stmt.insertBlock.run(b.key, b.net.addr, b.net.cidr, b.net.kind, b.start, b.expires, b.origin, b.reason);
      }
      if (this.stale.length >= this.trimBatch) this.trimNow();
    })();
    // offenders held back: written when their second is up, even if nothing else comes
    if (this.dirtyOffenders.size > 0 && this.flushTimer === null && this.flushAfterMs > 0) {
      const wait = Math.max(this.flushAfterMs, OFFENDER_WRITE_INTERVAL_MS - (Date.now() - this.offendersWrittenAt));
      this.flushTimer = setTimeout(() => this.flush(), wait);
      this.flushTimer.unref();
    }
  }

  /** Deletes the evidence rows beyond each offender's cap. */
  trim(): void {
    this.flushAll();
    if (this.stale.length > 0) this.db.transaction(() => this.trimNow())();
  }

  private trimNow(): void {
    const stale = this.stale;
    this.stale = [];
    stale.sort((a, b) => a - b); // in id order, the deletes walk the table once
    for (const id of stale) this.stmt.deleteEvidence.run(id);
  }

  // ---- blocks ----

  /** Queues a new active block (ending any active one of the same key), written with the next flush. */
  addBlock(net: Network, start: number, expires: number | null, origin: BlockOrigin, reason: BlockReason): void {
    const key = networkText(net);
    this.blockQueue.push({ key, net, start, expires, origin, reason: JSON.stringify(reason) });
    this.queued();
  }

  /** Ends the active block of `key` as released by a user or lifted by the whitelist. */
  endBlock(key: string, state: 'released' | 'whitelisted', at: number): boolean {
    this.flushAll();
    return this.stmt.endBlock.run(state, at, key).changes > 0;
  }

  /** After `unblock`: the offender is not blocked and its window is empty, so the next line does not re-block it. */
  releaseOffender(key: string, at: number): void {
    this.flushAll();
    this.stmt.releaseOffender.run(at, key);
  }

  /** Marks blocks whose time is over as expired; returns how many. */
  expireBlocks(now: number): number {
    this.flush();
    return this.stmt.expireBlocks.run(now).changes;
  }

  block(id: number): BlockRow | null {
    this.flushAll();
    const row = this.db.prepare('SELECT * FROM blocks WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return row ? toBlockRow(row) : null;
  }

  activeBlocks(): BlockRow[] {
    this.flushAll();
    return (this.stmt.activeBlocks.all() as Record<string, unknown>[]).map(toBlockRow);
  }

  // ---- offenders ----

  loadOffenders(): Offender[] {
    this.flushAll();
    const rows = this.db.prepare('SELECT * FROM offenders').all() as Record<string, number & string>[];
    return rows.map((r) => ({
      key: r.key,
      net: { addr: r.addr, cidr: r.cidr, kind: r.kind as AddressKind },
      windowStart: r.window_start,
      score: r.score,
      windowAttacks: r.window_attacks,
      windowServices: null,
      windowRules: null,
      windowEvidence: null,
      level: r.level,
      levelAt: r.level_at,
      blockedDanger: r.blocked_danger,
      blockedUntil: r.blocked_until === null ? 0 : r.blocked_until === PERMANENT ? Infinity : r.blocked_until,
      blocks: r.blocks,
      attacks: r.attacks,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
    }));
  }

  evidenceOf(key: string, limit = 50): EvidenceRow[] {
    this.flushAll();
    const rows = this.db
      .prepare('SELECT * FROM evidence WHERE offender = ? ORDER BY id DESC LIMIT ?')
      .all(key, limit) as Record<string, string & number>[];
    return rows.reverse().map((r) => ({
      offender: r.offender,
      time: r.time,
      source: r.source,
      lineNo: r.line_no,
      event: r.event as 'attack' | 'login',
      rule: r.rule,
      service: r.service,
      danger: r.danger,
      addr: r.addr,
      outcome: r.outcome,
      line: r.line,
    }));
  }

  // ---- positions ----

  setPosition(source: string, position: { inode?: number | null; offset?: number | null; cursor?: string | null }, now: number): void {
    this.stmt.setPosition.run(source, position.inode ?? null, position.offset ?? null, position.cursor ?? null, now);
  }

  getPosition(source: string): { inode: number | null; offset: number | null; cursor: string | null } | null {
    return (this.stmt.getPosition.get(source) as { inode: number | null; offset: number | null; cursor: string | null }) ?? null;
  }

  /** Flushes and closes; the WAL is checkpointed so the file stands alone. */
  close(): void {
    this.trim();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}

function toBlockRow(r: Record<string, unknown>): BlockRow {
  return {
    id: r.id as number,
    key: r.key as string,
    addr: r.addr as string,
    cidr: r.cidr as number,
    kind: r.kind as AddressKind,
    start: r.start as number,
    expires: (r.expires as number | null) ?? null,
    origin: r.origin as BlockOrigin,
    reason: JSON.parse(r.reason as string) as BlockReason,
    state: r.state as BlockState,
    endedAt: (r.ended_at as number | null) ?? null,
  };
}
