/**
 * Opening a store file: folders, pragmas, an integrity check, the schema's migrations, and recovery. A file that
 * is not an SQLite database (a log given as --db by mistake) or is another program's database is refused and
 * left untouched. A logwarden database found corrupt is salvaged (every table that can still be read, the
 * active blocks above all) into a fresh file, and moved aside: protection goes on with what was known.
 */
import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.js';
import { explain, isCorruption, sqliteCode, StoreError } from './error.js';
import { MIGRATIONS } from './schema.js';
import { makeFolders } from '../files/folders.js';

/** What the integrity check at open reads: everything, or only the wanted state (blocks, allow list, positions) */
export type OpenCheck = 'full' | 'wanted';

export interface Recovered {
  /** Where the corrupt file went */
  aside: string;
  /** Active blocks read back from it */
  salvagedBlocks: number;
}

const BUSY_TIMEOUT_MS = 2000;
const WANTED_TABLES = ['blocks', 'allow', 'positions'];
/** Salvaged in this order: the wanted state first, the history last (it may be large, and is the least needed) */
const SALVAGED_TABLES = ['blocks', 'allow', 'positions', 'offenders', 'evidence'];

export function openDatabase(path: string, log: Logger, check: OpenCheck): { db: Database.Database; recovered: Recovered | null } {
  if (path !== ':memory:') {
    try {
      makeFolders(dirname(path));
    } catch (error) {
      throw new StoreError(`cannot create the folder of database ${path} (${(error as Error).message})`);
    }
  }
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw explain(path, error);
  }
  let problem: string;
  try {
    setPragmas(db);
    const damage = integrity(db, check);
    if (damage === null) {
      migrate(db, path);
      return { db, recovered: null };
    }
    problem = damage;
  } catch (error) {
    if (sqliteCode(error) === 'SQLITE_NOTADB') {
      db.close();
      throw new StoreError(
        `${path} is not an SQLite database (${(error as Error).message}); it was left as it is: give the path of logwarden's state file (--db), or move this file away`,
        'SQLITE_NOTADB',
      );
    }
    if (!isCorruption(error) || path === ':memory:') {
      db.close();
      throw explain(path, error);
    }
    problem = (error as Error).message;
  }
  const recovered = recover(path, db, problem, log);
  return { db: connect(path), recovered };
}

function setPragmas(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // fewer checkpoints (each writes every page changed since the last one: 64 MB of WAL between them), and a
  // WAL file of bounded size
  db.pragma('wal_autocheckpoint = 16000');
  db.pragma('journal_size_limit = 134217728');
  db.pragma('cache_size = -16384');
  db.pragma('foreign_keys = ON');
}

/** A fresh connection to a file known good. */
function connect(path: string): Database.Database {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    setPragmas(db);
    migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    throw explain(path, error);
  }
}

/**
 * null when the check passes, else what is wrong. A full check reads the whole file (a second for a big store):
 * the daemon does it at start; a one-shot command checks only the tables it acts on.
 */
function integrity(db: Database.Database, check: OpenCheck): string | null {
  const results: string[] = [];
  if (check === 'full') results.push(String(db.pragma('quick_check', { simple: true })));
  else {
    const tables = new Set((db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).pluck().all() as string[]));
    for (const table of WANTED_TABLES) if (tables.has(table)) results.push(String(db.pragma(`quick_check(${table})`, { simple: true })));
  }
  const bad = results.filter((r) => r !== 'ok');
  if (bad.length === 0) return null;
  const text = bad.join('; ').replace(/\s*\n\s*/g, '; ');
  return `quick_check: ${text.length > 300 ? `${text.slice(0, 300)}...` : text}`;
}

export function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new StoreError(`database ${path}: schema version ${version} is newer than this logwarden (${MIGRATIONS.length})`);
  }
  if (version === 0) {
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    if (tables.length > 0) {
      throw new StoreError(
        `${path} is an SQLite database of another program (tables ${tables.slice(0, 5).join(', ')}); it was left as it is: give the path of logwarden's state file (--db)`,
      );
    }
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/**
 * Salvages what `db` (open on the corrupt file) still gives into a fresh file, then moves the corrupt one aside
 * and the fresh one in its place. Until the last rename the corrupt file stays where it was: a crash meanwhile
 * means the next start tries again.
 */
function recover(path: string, db: Database.Database, problem: string, log: Logger): Recovered {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const aside = `${path}.corrupt-${stamp}`;
  const fresh = `${path}.salvage-${stamp}`;
  const counts: Record<string, number> = {};
  let salvagedBlocks = 0;
  try {
    const target = new Database(fresh);
    try {
      migrate(target, fresh);
      for (const table of SALVAGED_TABLES) {
        const copied = salvageTable(db, target, table);
        counts[table] = copied.rows;
        if (table === 'blocks') salvagedBlocks = copied.active;
      }
    } finally {
      target.close();
    }
    db.close();
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
    renameSync(fresh, path);
  } catch (error) {
    if (db.open) db.close();
    rmSync(fresh, { force: true });
    const e = explain(path, error);
    e.message = `${e.message} (while recovering the corrupt database: ${problem})`;
    throw e;
  }
  const salvaged = Object.entries(counts).map(([t, n]) => `${n} ${t}`).join(', ');
  log.error(
    { db: path, aside, problem, salvaged: counts, salvagedBlocks },
    `database ${path} is corrupt (${problem}); moved it to ${aside} and started a fresh one with what could be read (${salvaged} rows; ${salvagedBlocks} active blocks)`,
  );
  return { aside, salvagedBlocks };
}

/** Copies the rows of `table` that can be read, column by column name, until the first error. */
function salvageTable(from: Database.Database, to: Database.Database, table: string): { rows: number; active: number } {
  let rows = 0;
  let active = 0;
  try {
    const have = new Set((from.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
    const columns = (to.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name).filter((c) => have.has(c));
    if (columns.length === 0) return { rows, active };
    const insert = to.prepare(`INSERT OR IGNORE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    const select = from.prepare(`SELECT ${columns.join(', ')} FROM ${table}`).raw();
    const state = columns.indexOf('state');
    to.transaction(() => {
      try {
        for (const row of select.iterate() as Iterable<unknown[]>) {
          if (insert.run(row).changes > 0) {
            rows++;
            if (state >= 0 && row[state] === 'active') active++;
          }
        }
      } catch {
        // the rest of this table is unreadable: keep what came before
      }
    })();
  } catch {
    // the table itself cannot be read
  }
  return { rows, active };
}
