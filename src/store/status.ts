/**
 * What `logwarden status` reads besides the blocks: the row a running daemon rewrites every few seconds about
 * itself (pid, heartbeat, sources, firewall and store health), and attacks counted per hour, rule and service.
 * The daemon writes through the Store; `status` reads through a connection that never writes (openStatusReader),
 * so a status command never takes a write lock, never checkpoints while the daemon runs, and never blocks it.
 */
import Database from 'better-sqlite3';
import { type AllowEntry, AllowTable } from './allow.js';
import { type BlockRow, BlocksTable } from './blocks.js';
import { explain, StoreError } from './error.js';
import { MIGRATIONS } from './schema.js';

/** The row a daemon publishes: who it is, when it last said so, and its state (JSON, see daemon/health.ts). */
export interface DaemonStatusRow {
  pid: number;
  host: string;
  /** ms */
  startedAt: number;
  /** ms, the last time the row was written */
  heartbeatAt: number;
  /** ms, set by a clean stop; null while running, or after a crash */
  stoppedAt: number | null;
  state: unknown;
}

/** Attacks of one rule and service within one hour (ms of the hour's start). */
export interface AttackCount {
  hour: number;
  rule: string;
  service: number;
  serviceName: string;
  attacks: number;
}

export interface BlockCount {
  origin: string;
  simulated: boolean;
  blocks: number;
}

/** A fleet decision as `status` shows it */
export interface FleetBlockRow {
  /** The LAPI's decision id */
  id: number;
  key: string;
  addr: string;
  cidr: number;
  kind: 4 | 6;
  origin: string;
  scenario: string;
  /** ms */
  until: number;
  state: 'applied' | 'refused' | 'own';
  detail: string;
}

export const HOUR_MS = 3_600_000;
/** Hourly counts older than this are deleted when new ones are written */
const KEEP_COUNTS_MS = 48 * HOUR_MS;

export class StatusTable {
  private readonly upsertStatus: Database.Statement;
  private readonly setStopped: Database.Statement;
  private readonly addCount: Database.Statement;
  private readonly pruneCounts: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.upsertStatus = db.prepare(
      `INSERT INTO daemon_status (id, pid, host, started_at, heartbeat_at, stopped_at, state) VALUES (1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at,
         heartbeat_at = excluded.heartbeat_at, stopped_at = excluded.stopped_at, state = excluded.state`,
    );
    this.setStopped = db.prepare('UPDATE daemon_status SET stopped_at = ?, heartbeat_at = ? WHERE id = 1 AND pid = ?');
    this.addCount = db.prepare(
      `INSERT INTO attack_counts (hour, rule, service, service_name, attacks) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (hour, rule, service) DO UPDATE SET attacks = attacks + excluded.attacks, service_name = excluded.service_name`,
    );
    this.pruneCounts = db.prepare('DELETE FROM attack_counts WHERE hour < ?');
  }

  /** One transaction: the status row replaced, the counts added, the old counts deleted. */
  publish(row: DaemonStatusRow, counts: readonly AttackCount[]): void {
    this.db
      .transaction(() => {
        this.upsertStatus.run(row.pid, row.host, row.startedAt, row.heartbeatAt, row.stoppedAt, JSON.stringify(row.state));
        for (const c of counts) this.addCount.run(c.hour, c.rule, c.service, c.serviceName, c.attacks);
        if (counts.length > 0) this.pruneCounts.run(row.heartbeatAt - KEEP_COUNTS_MS);
      })
      .immediate();
  }

  /** A clean stop: `status` says "stopped at" at once instead of waiting for the heartbeat to go stale. */
  stopped(pid: number, at: number): void {
    this.setStopped.run(at, at, pid);
  }
}

function statusRow(r: Record<string, unknown> | undefined): DaemonStatusRow | null {
  if (r === undefined) return null;
  return {
    pid: r.pid as number,
    host: r.host as string,
    startedAt: r.started_at as number,
    heartbeatAt: r.heartbeat_at as number,
    stoppedAt: (r.stopped_at as number | null) ?? null,
    state: JSON.parse(r.state as string) as unknown,
  };
}

/** What `status` reads, from a read-only connection. */
export interface StatusReader {
  readonly path: string;
  /** The daemon's row; null when no daemon has published one (or the file predates it) */
  daemon(): DaemonStatusRow | null;
  activeBlocks(options?: { simulated?: boolean }): BlockRow[];
  allowList(): AllowEntry[];
  /** Attacks counted in the hours that end after `since`, by rule and service, most first */
  attacksSince(since: number): Omit<AttackCount, 'hour'>[];
  /** Blocks that began at `since` or later, by origin and real/simulated */
  blocksSince(since: number): BlockCount[];
  /** The fleet's decisions recorded from the LAPI's stream that run past `now` (none before schema 5) */
  fleetDecisions(now: number): FleetBlockRow[];
  /** Pushes waiting in the outbox for the LAPI */
  fleetOutbox(): number;
  close(): void;
}

/**
 * Opens `path` read-only (it must exist: a status command never creates a store). The file's schema may be older
 * than this logwarden's (a daemon not yet upgraded): what it lacks reads as nothing published.
 */
export function openStatusReader(path: string, busyTimeoutMs = 1000): StatusReader {
  let db: Database.Database;
  try {
    // read-write when allowed, though nothing is written: the last connection to close removes the -wal and -shm
    // files, which a read-only one would leave behind after the daemon stopped
    db = new Database(path, { fileMustExist: true, timeout: busyTimeoutMs });
  } catch {
    try {
      db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    } catch (error) {
      throw explain(path, error);
    }
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0) throw new StoreError(`${path} is not a logwarden store (no schema); give the daemon's --db`);
    if (version > MIGRATIONS.length) throw new StoreError(`database ${path}: schema version ${version} is newer than this logwarden (${MIGRATIONS.length})`);
    const blocks = new BlocksTable(db);
    const allow = new AllowTable(db);
    const hasStatus = version >= 3;
    const selectStatus = hasStatus ? db.prepare('SELECT * FROM daemon_status WHERE id = 1') : null;
    const selectAttacks = hasStatus
      ? db.prepare(
          `SELECT rule, service, max(service_name) AS serviceName, sum(attacks) AS attacks FROM attack_counts
           WHERE hour + ${HOUR_MS} > ? GROUP BY rule, service ORDER BY attacks DESC, rule`,
        )
      : null;
    const selectBlocks = db.prepare(
      `SELECT origin, simulated, count(*) AS blocks FROM blocks WHERE start >= ? GROUP BY origin, simulated ORDER BY origin, simulated`,
    );
    const hasFleet = version >= 5;
    const selectFleet = hasFleet
      ? db.prepare('SELECT id, key, addr, cidr, kind, origin, scenario, until, state, detail FROM fleet_decisions WHERE until > ? ORDER BY until DESC, id')
      : null;
    const countOutbox = hasFleet ? db.prepare('SELECT count(*) AS n FROM fleet_outbox') : null;
    return {
      path,
      daemon: () => statusRow(selectStatus?.get() as Record<string, unknown> | undefined),
      activeBlocks: (options = {}) => blocks.active(options.simulated ?? false),
      allowList: () => allow.list(),
      attacksSince: (since) => (selectAttacks?.all(since) ?? []) as Omit<AttackCount, 'hour'>[],
      blocksSince: (since) =>
        (selectBlocks.all(since) as { origin: string; simulated: number; blocks: number }[]).map((r) => ({ ...r, simulated: r.simulated === 1 })),
      fleetDecisions: (now) => (selectFleet?.all(now) ?? []) as FleetBlockRow[],
      fleetOutbox: () => (countOutbox?.get() as { n: number } | undefined)?.n ?? 0,
      close: () => db.close(),
    };
  } catch (error) {
    db.close();
    throw explain(path, error);
  }
}
