/**
 * The positions table: where each source stands, written by the write queue in the same transaction as the
 * effects of the lines before it. Version 1 rows (inode, offset, cursor only) have no kind.
 */
import type Database from 'better-sqlite3';
import type { Position } from '../sources/source.js';

/** What setPosition/getPosition (the first form) keep */
export interface LegacyPosition {
  inode: number | null;
  offset: number | null;
  cursor: string | null;
}

interface PositionRow extends LegacyPosition {
  source: string;
  kind: 'file' | 'journal' | null;
  path: string | null;
  dev: number | null;
  fingerprint: string | null;
  time: number | null;
}

export class PositionsTable {
  private readonly upsert: Database.Statement;
  private readonly selectOne: Database.Statement;
  private readonly selectAll: Database.Statement;

  constructor(db: Database.Database) {
    this.upsert = db.prepare(
      `INSERT OR REPLACE INTO positions (source, kind, path, dev, inode, offset, fingerprint, cursor, time, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.selectOne = db.prepare('SELECT * FROM positions WHERE source = ?');
    this.selectAll = db.prepare('SELECT * FROM positions ORDER BY source');
  }

  write(source: string, p: Position, now: number): void {
    if (p.kind === 'file') this.upsert.run(source, 'file', p.path, p.dev, p.ino, p.offset, p.fingerprint, null, null, now);
    else this.upsert.run(source, 'journal', null, null, null, null, null, p.cursor, p.time, now);
  }

  get(source: string): Position | null {
    const row = this.selectOne.get(source) as PositionRow | undefined;
    return row ? toPosition(row) : null;
  }

  all(): Map<string, Position> {
    const positions = new Map<string, Position>();
    for (const row of this.selectAll.all() as PositionRow[]) {
      const p = toPosition(row);
      if (p !== null) positions.set(row.source, p);
    }
    return positions;
  }

  writeLegacy(source: string, p: Partial<LegacyPosition>, now: number): void {
    const kind = p.cursor != null ? 'journal' : 'file';
    this.upsert.run(source, kind, kind === 'file' ? source : null, null, p.inode ?? null, p.offset ?? null, null, p.cursor ?? null, null, now);
  }

  getLegacy(source: string): LegacyPosition | null {
    const row = this.selectOne.get(source) as PositionRow | undefined;
    return row ? { inode: row.inode, offset: row.offset, cursor: row.cursor } : null;
  }
}

/**
 * A row as a Position; null for a file row without a device (the first form's): resuming at an offset of a file
 * that cannot be identified could skip lines or read them twice.
 */
function toPosition(r: PositionRow): Position | null {
  if (r.cursor !== null && r.kind !== 'file') return { kind: 'journal', cursor: r.cursor, time: r.time ?? 0 };
  if (r.dev === null || r.inode === null || r.offset === null) return null;
  return { kind: 'file', path: r.path ?? r.source, dev: r.dev, ino: r.inode, offset: r.offset, fingerprint: r.fingerprint };
}
