/**
 * The evidence table: append-only rows with ids given here, kept bounded per offender. There is no index on
 * offender (its upkeep cost 3x the insert): the store knows each offender's row ids and trims them itself. Those
 * ids are read from the file only when first needed (the first evidence written or offender forgotten), so a
 * command that only records a block opens a big store cheaply.
 */
import type Database from 'better-sqlite3';

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

const RECENT_LINES = 16_384;
const ROWS_PER_INSERT = 32;
const COLUMNS = '(id, offender, time, source, line_no, event, rule, service, danger, addr, outcome, line)';
const PLACEHOLDERS = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/** Appends a row's values in COLUMNS order. */
function pushValues(values: unknown[], r: EvidenceRow): unknown[] {
  values.push(r.id, r.offender, r.time, r.source, r.lineNo, r.event, r.rule, r.service, r.danger, r.addr, r.outcome, r.line);
  return values;
}

export class EvidenceTable {
  private nextId: number;
  /**
   * Ids of each offender's rows, oldest first (a lone id is kept as a number: most offenders have one or two
   * rows); once they reach twice the cap, the oldest go to `stale`. null until first needed.
   */
  private ids: Map<string, number | number[]> | null = null;
  /** Rows to delete: gathered and deleted together, in id order, so that each table page is written once */
  private stale: number[] = [];
  /** The rows being deleted by the transaction in progress: back to `stale` if it rolls back */
  private trimming: number[] | null = null;
  /** The lines of the most recently written rows, by id modulo the size: a block's lines are recent */
  private readonly recentIds = new Float64Array(RECENT_LINES).fill(-1);
  private readonly recentLines: string[] = new Array<string>(RECENT_LINES);
  /** `SELECT ... WHERE id IN (?, ...)` prepared once per number of ids */
  private readonly selectLines = new Map<number, Database.Statement>();
  private readonly insertOne: Database.Statement;
  private readonly insertMany: Database.Statement;
  private readonly deleteOne: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly cap: number,
    private readonly trimBatch: number,
  ) {
    this.insertOne = db.prepare(`INSERT INTO evidence ${COLUMNS} VALUES ${PLACEHOLDERS}`);
    this.insertMany = db.prepare(`INSERT INTO evidence ${COLUMNS} VALUES ${new Array(ROWS_PER_INSERT).fill(PLACEHOLDERS).join(', ')}`);
    this.deleteOne = db.prepare('DELETE FROM evidence WHERE id = ?');
    // the rowid's b-tree gives the last id without reading the table
    const last = db.prepare('SELECT max(id) FROM evidence').pluck().get() as number | null;
    this.nextId = (last ?? 0) + 1;
  }

  reserveId(): number {
    return this.nextId++;
  }

  private loadIds(): Map<string, number | number[]> {
    if (this.ids !== null) return this.ids;
    const ids = new Map<string, number | number[]>();
    for (const row of this.db.prepare('SELECT id, offender FROM evidence ORDER BY id').iterate() as Iterable<{ id: number; offender: string }>) {
      this.remember(ids, row.offender, row.id);
    }
    this.ids = ids;
    return ids;
  }

  private remember(ids: Map<string, number | number[]>, offender: string, id: number): void {
    const known = ids.get(offender);
    if (known === undefined) ids.set(offender, id);
    else if (typeof known === 'number') ids.set(offender, [known, id]);
    else {
      known.push(id);
      // trimming in steps of `cap` rows keeps the delete work per event constant
      if (known.length >= 2 * this.cap) for (const old of known.splice(0, known.length - this.cap)) this.stale.push(old);
    }
  }

  /** In the write transaction: inserts the rows (many per statement: the statement overhead is most of a one-row insert). */
  insert(rows: readonly EvidenceRow[], forgetting: boolean): void {
    if (rows.length > 0 || forgetting) this.loadIds(); // before these rows are in: they are remembered after the commit
    let at = 0;
    for (; at + ROWS_PER_INSERT <= rows.length; at += ROWS_PER_INSERT) {
      const values: unknown[] = [];
      for (let k = at; k < at + ROWS_PER_INSERT; k++) pushValues(values, rows[k]);
      this.insertMany.run(values);
    }
    for (; at < rows.length; at++) this.insertOne.run(pushValues([], rows[at]));
  }

  /** In the write transaction: deletes the rows beyond the caps once `trimBatch` have piled up, or all of them. */
  trim(all: boolean): void {
    if (this.stale.length === 0 || (!all && this.stale.length < this.trimBatch)) return;
    const stale = this.stale;
    this.trimming = stale;
    this.stale = [];
    stale.sort((a, b) => a - b); // in id order, the deletes walk the table once
    for (const id of stale) this.deleteOne.run(id);
  }

  get hasStale(): boolean {
    return this.stale.length > 0;
  }

  /** After the commit: remembers the written rows, and the rows of forgotten offenders as stale. */
  committed(rows: readonly EvidenceRow[], forgotten: Iterable<string>): void {
    this.trimming = null;
    if (this.ids === null) return; // nothing was written or forgotten
    for (const r of rows) {
      this.remember(this.ids, r.offender, r.id!);
      this.recentIds[r.id! % RECENT_LINES] = r.id!;
      this.recentLines[r.id! % RECENT_LINES] = r.line;
    }
    for (const key of forgotten) {
      const ids = this.ids.get(key);
      if (typeof ids === 'number') this.stale.push(ids);
      else if (ids !== undefined) for (const id of ids) this.stale.push(id);
      this.ids.delete(key);
    }
  }

  rolledBack(): void {
    if (this.trimming !== null) this.stale = this.trimming.concat(this.stale);
    this.trimming = null;
  }

  /** The lines of rows (in `queued`, id order, or written), in the order asked; a trimmed row gives nothing. */
  lines(ids: readonly number[], queued: readonly EvidenceRow[]): string[] {
    const found = new Map<number, string>();
    const written: number[] = [];
    for (const id of ids) {
      let lo = 0;
      let hi = queued.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const at = queued[mid].id!;
        if (at === id) {
          found.set(id, queued[mid].line);
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
      for (const row of select.all(...written) as { id: number; line: string }[]) found.set(row.id, row.line);
    }
    return ids.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
  }

  /** The most recent `limit` rows of an offender, oldest first (a scan: for display). */
  of(key: string, limit: number): EvidenceRow[] {
    const rows = this.db
      .prepare('SELECT * FROM evidence WHERE offender = ? ORDER BY id DESC LIMIT ?')
      .all(key, limit) as Record<string, string & number>[];
    return rows.reverse().map(evidenceRowOf);
  }
}

/** An evidence row as read from the table. */
export function evidenceRowOf(r: Record<string, string & number>): EvidenceRow {
  return {
    id: r.id,
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
  };
}
