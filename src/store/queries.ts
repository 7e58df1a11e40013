/**
 * Read-only queries about one address, for `explain`: the blocks of the address or of a prefix holding it, the
 * offenders (scoring keys) holding it, its evidence lines and its last trusted login. The store's own tables are
 * shaped for the daemon's writes; these read what a person asks about.
 */
import type Database from 'better-sqlite3';
import type { AddressKind } from '../parse/address.js';
import { addressToBigInt, networkOf, networkText, width } from '../policy/network.js';
import { evidenceRowOf } from './evidence.js';
import type { BlockRow, EvidenceRow, Store } from './store.js';

/** An offender's stored state (the scoring key: the address's /IPV4_SUBNET or /IPV6_SUBNET prefix) */
export interface OffenderRow {
  key: string;
  addr: string;
  cidr: number;
  kind: AddressKind;
  windowStart: number;
  score: number;
  windowAttacks: number;
  level: number;
  levelAt: number;
  blockedDanger: number;
  /** ms; null: not blocked; Infinity: permanent */
  blockedUntil: number | null;
  blocks: number;
  attacks: number;
  firstSeen: number;
  lastSeen: number;
}

function contains(net: { addr: string; cidr: number; kind: AddressKind }, addr: string, kind: AddressKind): boolean {
  if (net.kind !== kind) return false;
  const start = addressToBigInt(net.addr, kind);
  const value = addressToBigInt(addr, kind);
  return start <= value && value < start + (1n << BigInt(width(kind) - net.cidr));
}

export class AddressQueries {
  private readonly db: Database.Database;

  constructor(private readonly store: Store) {
    this.db = store.db;
  }

  /** Every block recorded for the address or a prefix holding it (active, ended, simulated), newest first. */
  blocksCovering(addr: string, kind: AddressKind): BlockRow[] {
    const rows = this.db.prepare('SELECT id, addr, cidr FROM blocks WHERE kind = ? ORDER BY start DESC, id DESC').all(kind) as { id: number; addr: string; cidr: number }[];
    return rows.filter((r) => contains({ ...r, kind }, addr, kind)).flatMap((r) => this.store.block(r.id) ?? []);
  }

  /** The offenders whose key holds the address (normally one: its scoring prefix), longest prefix first. */
  offendersCovering(addr: string, kind: AddressKind): OffenderRow[] {
    const select = this.db.prepare('SELECT * FROM offenders WHERE key = ?');
    const found: OffenderRow[] = [];
    for (let cidr = width(kind); cidr >= 0; cidr--) {
      const row = select.get(networkText(networkOf(addr, kind, cidr))) as Record<string, number & string> | undefined;
      if (row) found.push(offenderOf(row));
    }
    return found;
  }

  /** The address's evidence rows, newest first (`limit` null: every one kept), and how many are kept in all. */
  evidenceOf(addr: string, limit: number | null): { rows: EvidenceRow[]; total: number } {
    const total = this.db.prepare('SELECT count(*) FROM evidence WHERE addr = ?').pluck().get(addr) as number;
    const rows = this.db
      .prepare('SELECT * FROM evidence WHERE addr = ? ORDER BY time DESC, id DESC LIMIT ?')
      .all(addr, limit ?? -1) as Record<string, string & number>[];
    return { rows: rows.map(evidenceRowOf), total };
  }

  /** The address's last login that granted trust, if any is kept. */
  lastTrust(addr: string): EvidenceRow | null {
    const row = this.db
      .prepare(`SELECT * FROM evidence WHERE addr = ? AND event = 'login' AND outcome = 'trust-granted' ORDER BY time DESC, id DESC LIMIT 1`)
      .get(addr) as Record<string, string & number> | undefined;
    return row ? evidenceRowOf(row) : null;
  }
}

function offenderOf(r: Record<string, number & string>): OffenderRow {
  return {
    key: r.key,
    addr: r.addr,
    cidr: r.cidr,
    kind: r.kind as AddressKind,
    windowStart: r.window_start,
    score: r.score,
    windowAttacks: r.window_attacks,
    level: r.level,
    levelAt: r.level_at,
    blockedDanger: r.blocked_danger,
    blockedUntil: r.blocked_until === null ? null : r.blocked_until === -1 ? Infinity : r.blocked_until,
    blocks: r.blocks,
    attacks: r.attacks,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  };
}

