/**
 * The fleet's tables (CrowdSec's Local API): the outbox of pushes waiting for the LAPI, in order; the LAPI
 * decision ids of our own pushed blocks; and the decisions the stream brought, kept apart from local blocks.
 */
import type Database from 'better-sqlite3';
import type { AddressKind } from '../parse/address.js';
import type { Network } from '../policy/network.js';

export type OutboxKind = 'block' | 'release';

export interface OutboxRow {
  id: number;
  kind: OutboxKind;
  key: string;
  /** JSON, the pusher's own */
  payload: string;
  queuedAt: number;
  attempts: number;
}

export type FleetDecisionState = 'applied' | 'refused' | 'own';

export interface FleetDecisionRow {
  /** The LAPI's decision id */
  id: number;
  key: string;
  net: Network;
  origin: string;
  scenario: string;
  /** ms */
  until: number;
  state: FleetDecisionState;
  /** Why it was refused, or whose it is; '' when applied */
  detail: string;
  seenAt: number;
}

export class FleetTables {
  private readonly insertOutbox: Database.Statement;
  private readonly selectOutbox: Database.Statement;
  private readonly deleteOutbox: Database.Statement;
  private readonly countOutbox: Database.Statement;
  private readonly dropOldest: Database.Statement;
  private readonly bumpAttempts: Database.Statement;
  private readonly insertPushed: Database.Statement;
  private readonly selectPushedOf: Database.Statement;
  private readonly deletePushedOf: Database.Statement;
  private readonly selectPushedId: Database.Statement;
  private readonly upsertDecision: Database.Statement;
  private readonly selectDecision: Database.Statement;
  private readonly deleteDecision: Database.Statement;
  private readonly selectDecisions: Database.Statement;
  private readonly deleteOver: Database.Statement;
  private readonly selectPushedStates: Database.Statement;
  private readonly countApplied: Database.Statement;
  private readonly selectSharedKeys: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertOutbox = db.prepare('INSERT INTO fleet_outbox (kind, key, payload, queued_at) VALUES (?, ?, ?, ?)');
    this.selectOutbox = db.prepare('SELECT * FROM fleet_outbox ORDER BY id LIMIT ?');
    this.deleteOutbox = db.prepare('DELETE FROM fleet_outbox WHERE id = ?');
    this.countOutbox = db.prepare('SELECT count(*) AS n FROM fleet_outbox');
    this.dropOldest = db.prepare('DELETE FROM fleet_outbox WHERE id IN (SELECT id FROM fleet_outbox ORDER BY id LIMIT ?)');
    this.bumpAttempts = db.prepare('UPDATE fleet_outbox SET attempts = attempts + 1 WHERE id = ?');
    this.insertPushed = db.prepare('INSERT OR REPLACE INTO fleet_pushed (decision_id, key, pushed_at) VALUES (?, ?, ?)');
    this.selectPushedOf = db.prepare('SELECT decision_id AS id FROM fleet_pushed WHERE key = ? ORDER BY decision_id');
    this.deletePushedOf = db.prepare('DELETE FROM fleet_pushed WHERE key = ?');
    this.selectPushedId = db.prepare('SELECT key FROM fleet_pushed WHERE decision_id = ?');
    this.upsertDecision = db.prepare(
      `INSERT OR REPLACE INTO fleet_decisions (id, key, addr, cidr, kind, origin, scenario, until, state, detail, seen_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectDecision = db.prepare('SELECT * FROM fleet_decisions WHERE id = ?');
    this.deleteDecision = db.prepare('DELETE FROM fleet_decisions WHERE id = ?');
    this.selectDecisions = db.prepare('SELECT * FROM fleet_decisions ORDER BY id');
    this.deleteOver = db.prepare('DELETE FROM fleet_decisions WHERE until <= ?');
    this.selectSharedKeys = db.prepare("SELECT key FROM fleet_pushed UNION SELECT key FROM fleet_outbox WHERE kind = 'block'");
    this.countApplied = db.prepare("SELECT count(*) AS n FROM fleet_decisions WHERE state = 'applied' AND until > ?");
    // the latest local block of each pushed key (blocks_by_key): how it ended, if it did
    this.selectPushedStates = db.prepare(
      `SELECT p.key AS key, (SELECT b.state FROM blocks b WHERE b.key = p.key AND b.simulated = 0 ORDER BY b.id DESC LIMIT 1) AS state
       FROM (SELECT DISTINCT key FROM fleet_pushed) p`,
    );
  }

  /** Appends pushes in one transaction, then drops the oldest beyond `bound`; returns how many were dropped. */
  enqueue(rows: readonly { kind: OutboxKind; key: string; payload: string; queuedAt: number }[], bound: number): number {
    return this.db.transaction(() => {
      for (const r of rows) this.insertOutbox.run(r.kind, r.key, r.payload, r.queuedAt);
      const over = (this.countOutbox.get() as { n: number }).n - bound;
      if (over > 0) this.dropOldest.run(over);
      return Math.max(0, over);
    }).immediate();
  }

  outbox(limit: number): OutboxRow[] {
    return (this.selectOutbox.all(limit) as Record<string, unknown>[]).map((r) => ({
      id: r.id as number,
      kind: r.kind as OutboxKind,
      key: r.key as string,
      payload: r.payload as string,
      queuedAt: r.queued_at as number,
      attempts: r.attempts as number,
    }));
  }

  outboxSize(): number {
    return (this.countOutbox.get() as { n: number }).n;
  }

  failedAttempt(id: number): void {
    this.bumpAttempts.run(id);
  }

  /** A push the LAPI took: out of the outbox, and its decision ids recorded, in one transaction. */
  sent(id: number, key: string, decisionIds: readonly number[], at: number): void {
    this.db.transaction(() => {
      for (const d of decisionIds) this.insertPushed.run(d, key, at);
      this.deleteOutbox.run(id);
    }).immediate();
  }

  /** A push that is done without a decision (over before it was sent, or refused by the LAPI). */
  drop(id: number): void {
    this.deleteOutbox.run(id);
  }

  /** A release the LAPI took: out of the outbox, and the key's decision ids forgotten. */
  released(id: number, key: string): void {
    this.db.transaction(() => {
      this.deletePushedOf.run(key);
      this.deleteOutbox.run(id);
    }).immediate();
  }

  pushedIdsOf(key: string): number[] {
    return (this.selectPushedOf.all(key) as { id: number }[]).map((r) => r.id);
  }

  /** Each pushed key with the state of its latest local block (null: none left). */
  pushedStates(): { key: string; state: string | null }[] {
    return this.selectPushedStates.all() as { key: string; state: string | null }[];
  }

  /** Forgets the decision ids pushed for `key` (its block ended at its time: so did the LAPI's decision). */
  forgetPushed(key: string): void {
    this.deletePushedOf.run(key);
  }

  /** The key of our own pushed decision `id`, or null when it is not ours. */
  pushedKey(id: number): string | null {
    return (this.selectPushedId.get(id) as { key: string } | undefined)?.key ?? null;
  }

  recordDecision(d: FleetDecisionRow): void {
    this.upsertDecision.run(d.id, d.key, d.net.addr, d.net.cidr, d.net.kind, d.origin, d.scenario, d.until, d.state, d.detail, d.seenAt);
  }

  /** Many at once, in one transaction (a startup set can hold tens of thousands). */
  recordDecisions(rows: readonly FleetDecisionRow[]): void {
    if (rows.length > 0) this.db.transaction(() => rows.forEach((d) => this.recordDecision(d))).immediate();
  }

  decision(id: number): FleetDecisionRow | null {
    const row = this.selectDecision.get(id) as Record<string, unknown> | undefined;
    return row ? toDecision(row) : null;
  }

  forgetDecision(id: number): boolean {
    return this.deleteDecision.run(id).changes > 0;
  }

  decisions(): FleetDecisionRow[] {
    return (this.selectDecisions.all() as Record<string, unknown>[]).map(toDecision);
  }

  /** Keys whose block was pushed (its decision ids are known) or waits in the outbox to be. */
  sharedKeys(): Set<string> {
    return new Set((this.selectSharedKeys.all() as { key: string }[]).map((r) => r.key));
  }

  /** How many decisions are applied and still running at `now`. */
  appliedCount(now: number): number {
    return (this.countApplied.get(now) as { n: number }).n;
  }

  /** Forgets decisions whose time is over (the kernel timeout lifted them); returns how many. */
  forgetOver(now: number): number {
    return this.deleteOver.run(now).changes;
  }
}

function toDecision(r: Record<string, unknown>): FleetDecisionRow {
  return {
    id: r.id as number,
    key: r.key as string,
    net: { addr: r.addr as string, cidr: r.cidr as number, kind: r.kind as AddressKind },
    origin: r.origin as string,
    scenario: r.scenario as string,
    until: r.until as number,
    state: r.state as FleetDecisionState,
    detail: r.detail as string,
    seenAt: r.seen_at as number,
  };
}
