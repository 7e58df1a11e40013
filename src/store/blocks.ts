/**
 * The blocks table: the wanted state of the kernel's block sets (active blocks with their end) and their history.
 * Simulated blocks (a dry run's) are recorded and shown but never applied: they live beside the real ones and
 * neither ends the other.
 */
import type Database from 'better-sqlite3';
import type { AddressKind } from '../parse/address.js';
import type { Network } from '../policy/network.js';

export type BlockOrigin = 'policy' | 'blacklist' | 'manual' | 'fleet';
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
  /** A dry run's block: never applied */
  simulated: boolean;
}

/** A block waiting in the write queue */
export interface QueuedBlock {
  key: string;
  net: Network;
  start: number;
  expires: number | null;
  origin: BlockOrigin;
  /** JSON of the BlockReason */
  reason: string;
  simulated: boolean;
}

export class BlocksTable {
  private readonly insertOne: Database.Statement;
  private readonly endActive: Database.Statement;
  private readonly deleteEndedOf: Database.Statement;
  private readonly expireDue: Database.Statement;
  private readonly selectActive: Database.Statement;
  private readonly selectOne: Database.Statement;

  constructor(db: Database.Database) {
    this.insertOne = db.prepare(
      `INSERT INTO blocks (key, addr, cidr, kind, start, expires, origin, reason, state, simulated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)`,
    );
    this.endActive = db.prepare(`UPDATE blocks SET state = ?, ended_at = ? WHERE key = ? AND state = 'active' AND simulated = ?`);
    this.deleteEndedOf = db.prepare(`DELETE FROM blocks WHERE key = ? AND state != 'active'`);
    this.expireDue = db.prepare(
      `UPDATE blocks SET state = 'expired', ended_at = expires WHERE state = 'active' AND expires IS NOT NULL AND expires <= ?`,
    );
    this.selectActive = db.prepare(`SELECT * FROM blocks WHERE state = 'active' AND simulated = ? ORDER BY id`);
    this.selectOne = db.prepare('SELECT * FROM blocks WHERE id = ?');
  }

  /** In the write transaction: a new active block, ending the active one of the same key (and kind: real or simulated). */
  insert(b: QueuedBlock): void {
    const simulated = b.simulated ? 1 : 0;
    this.endActive.run('expired', b.start, b.key, simulated);
    this.insertOne.run(b.key, b.net.addr, b.net.cidr, b.net.kind, b.start, b.expires, b.origin, b.reason, simulated);
  }

  /** A forgotten offender's past blocks go with it: the file stays proportional to what is remembered. */
  deleteEnded(key: string): void {
    this.deleteEndedOf.run(key);
  }

  end(key: string, state: 'released' | 'whitelisted', at: number, simulated: boolean): boolean {
    return this.endActive.run(state, at, key, simulated ? 1 : 0).changes > 0;
  }

  expire(now: number): number {
    return this.expireDue.run(now).changes;
  }

  byId(id: number): BlockRow | null {
    const row = this.selectOne.get(id) as Record<string, unknown> | undefined;
    return row ? toBlockRow(row) : null;
  }

  active(simulated: boolean): BlockRow[] {
    return (this.selectActive.all(simulated ? 1 : 0) as Record<string, unknown>[]).map(toBlockRow);
  }
}

/** A block still in the write queue, as the row it becomes (id 0: not written yet) */
export function queuedBlockRow(q: QueuedBlock): BlockRow {
  const { key, net, start, expires, origin, simulated } = q;
  return { id: 0, key, addr: net.addr, cidr: net.cidr, kind: net.kind, start, expires, origin, reason: JSON.parse(q.reason) as BlockReason, state: 'active', endedAt: null, simulated };
}

/** A row of the blocks table as read. */
export function toBlockRow(r: Record<string, unknown>): BlockRow {
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
    simulated: r.simulated === 1,
  };
}
