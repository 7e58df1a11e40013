/**
 * The lines attempt correlation still holds when a position is written (an attempt's first line waiting for its
 * end, public keys tried before a login): replaced as a whole in the same transaction as the positions that
 * pass them, read back at start.
 */
import type Database from 'better-sqlite3';
import type { JournalFields } from '../sources/source.js';

export interface WaitingLine {
  source: string;
  lineNo: number | null;
  /** ms, the line's own time */
  time: number;
  line: string;
  /** A journal entry's own fields, trusted ones included (the message is `line`) */
  journal: Omit<JournalFields, 'time' | 'cursor'> | null;
}

export class WaitingTable {
  private readonly clear: Database.Statement;
  private readonly insertOne: Database.Statement;
  private readonly selectAll: Database.Statement;

  constructor(db: Database.Database) {
    this.clear = db.prepare('DELETE FROM waiting_lines');
    this.insertOne = db.prepare('INSERT INTO waiting_lines (source, line_no, time, line, journal) VALUES (?, ?, ?, ?, ?)');
    this.selectAll = db.prepare('SELECT source, line_no, time, line, journal FROM waiting_lines ORDER BY id');
  }

  /** In the write transaction */
  replace(lines: readonly WaitingLine[]): void {
    this.clear.run();
    for (const w of lines) this.insertOne.run(w.source, w.lineNo, w.time, w.line, w.journal === null ? null : JSON.stringify(w.journal));
  }

  list(): WaitingLine[] {
    return (this.selectAll.all() as { source: string; line_no: number | null; time: number; line: string; journal: string | null }[]).map((r) => ({
      source: r.source,
      lineNo: r.line_no,
      time: r.time,
      line: r.line,
      journal: r.journal === null ? null : (JSON.parse(r.journal) as WaitingLine['journal']),
    }));
  }
}
