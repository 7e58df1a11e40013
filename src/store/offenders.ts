/** The offenders table: the policy's state of each offender, written behind (see queue.ts), read back at start. */
import type Database from 'better-sqlite3';
import type { AddressKind } from '../parse/address.js';
import type { Offender } from '../policy/policy.js';

/** blocked_until of a permanent block (NULL: not blocked) */
const PERMANENT = -1;

export class OffendersTable {
  private readonly upsertOne: Database.Statement;
  private readonly deleteOne: Database.Statement;
  private readonly releaseOne: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.upsertOne = db.prepare(
      `INSERT INTO offenders (key, addr, cidr, kind, window_start, score, window_attacks, level, level_at,
         blocked_danger, blocked_until, blocks, attacks, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, score = excluded.score,
         window_attacks = excluded.window_attacks, level = excluded.level, level_at = excluded.level_at,
         blocked_danger = excluded.blocked_danger, blocked_until = excluded.blocked_until, blocks = excluded.blocks,
         attacks = excluded.attacks, last_seen = excluded.last_seen`,
    );
    this.deleteOne = db.prepare('DELETE FROM offenders WHERE key = ?');
    this.releaseOne = db.prepare(
      'UPDATE offenders SET blocked_until = NULL, score = 0, window_attacks = 0, window_start = ? WHERE key = ?',
    );
  }

  upsert(o: Offender): void {
    this.upsertOne.run(
      o.key, o.net.addr, o.net.cidr, o.net.kind, o.windowStart, o.score, o.windowAttacks, o.level, o.levelAt,
      o.blockedDanger, o.blockedUntil === 0 ? null : o.blockedUntil === Infinity ? PERMANENT : o.blockedUntil,
      o.blocks, o.attacks, o.firstSeen, o.lastSeen,
    );
  }

  delete(key: string): void {
    this.deleteOne.run(key);
  }

  /** Not blocked, with an empty window: the next line does not re-block it. */
  release(key: string, at: number): void {
    this.releaseOne.run(at, key);
  }

  load(): Offender[] {
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
}
