import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store, StoreError } from '../../src/store/store.js';
import { evidence, recordingLogger, tempDir } from './helpers.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A real store with `blocks` active blocks (written first: their pages come first) and `rows` evidence rows. */
function makeStore(path: string, blocks: number, rows: number): void {
  const store = Store.open(path, { batchSize: 100_000 });
  for (let i = 0; i < blocks; i++) {
    store.addBlock({ addr: `10.0.${i >> 8}.${i & 255}`, cidr: 32, kind: 4 }, 1000, null, 'policy', { text: `block ${i} ${'r'.repeat(60)}` });
  }
  store.flushAll();
  for (let i = 0; i < rows; i++) store.addEvidence(evidence(`203.0.113.${i % 200}`, i));
  store.close();
}

/** Overwrites `count` pages of `table`, from the middle of its pages, with garbage. */
function damage(path: string, table: string, count: number): void {
  const db = new Database(path, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.prepare(`SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno`).pluck().all(table) as number[];
  db.close();
  expect(pages.length).toBeGreaterThan(count + 2);
  const fd = openSync(path, 'r+');
  const from = Math.floor(pages.length / 2);
  for (const page of pages.slice(from, from + count)) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (page - 1) * pageSize);
  closeSync(fd);
}

describe('Store.open on bad files', () => {
  it('refuses a file that is not an SQLite database, and leaves it exactly as it was', () => {
    const d = tempDir();
    const path = join(d, 'auth.log');
    writeFileSync(path, 'Dec  1 10:00:00 host sshd[1]: Failed password for root from 203.0.113.5 port 22 ssh2\n'.repeat(50));
    const before = { hash: sha(path), mtime: statSync(path).mtimeMs, files: readdirSync(d) };
    const log = recordingLogger();
    let thrown: unknown;
    try {
      Store.open(path, { log });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect((thrown as Error).message).toMatch(/auth\.log is not an SQLite database .*left as it is/);
    expect({ hash: sha(path), mtime: statSync(path).mtimeMs, files: readdirSync(d) }).toEqual(before);
    expect(log.said).toEqual([]);
  });

  it("refuses another program's SQLite database without adding to it", () => {
    const path = join(tempDir(), 'other.db');
    const other = new Database(path);
    other.exec('CREATE TABLE contacts (name TEXT)');
    other.close();
    expect(() => Store.open(path)).toThrow(/another program \(tables contacts\)/);
    const again = new Database(path, { readonly: true });
    expect(again.prepare(`SELECT name FROM sqlite_schema`).pluck().all()).toEqual(['contacts']);
    again.close();
  });

  it('salvages the active blocks of a database whose evidence pages are damaged, and moves it aside', () => {
    const d = tempDir();
    const path = join(d, 'state.db');
    makeStore(path, 300, 20_000);
    damage(path, 'evidence', 4);
    const damaged = sha(path);
    const log = recordingLogger();
    const store = Store.open(path, { log, check: 'full' });
    expect(store.recovered).not.toBeNull();
    expect(store.recovered!.salvagedBlocks).toBe(300);
    expect(sha(store.recovered!.aside)).toBe(damaged); // moved, not changed
    expect(store.activeBlocks()).toHaveLength(300);
    expect(store.activeBlocks()[7]).toMatchObject({ key: '10.0.0.7', expires: null, origin: 'policy' });
    const salvaged = store.db.prepare('SELECT count(*) FROM evidence').pluck().get() as number;
    expect(salvaged).toBeGreaterThan(0); // the rows before the damage
    expect(salvaged).toBeLessThan(20_000);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(log.said).toHaveLength(1);
    expect(log.said[0]).toMatchObject({ level: 'error', fields: { salvagedBlocks: 300 } });
    expect(log.said[0].message).toMatch(/state\.db is corrupt .*moved it to .*state\.db\.corrupt-.*300 active blocks/);
    expect(readdirSync(d).filter((f) => f.includes('salvage'))).toEqual([]);
    store.close();
    const reopened = Store.open(path, { check: 'full' });
    expect(reopened.recovered).toBeNull();
    expect(reopened.activeBlocks()).toHaveLength(300);
    reopened.close();
  });

  it('finds damaged block pages with the cheap check of a one-shot command, and keeps the blocks before the damage', () => {
    const path = join(tempDir(), 'state.db');
    makeStore(path, 3000, 0);
    damage(path, 'blocks', 2);
    const store = Store.open(path, { log: recordingLogger() });
    expect(store.recovered).not.toBeNull();
    expect(store.recovered!.salvagedBlocks).toBeGreaterThan(100);
    expect(store.recovered!.salvagedBlocks).toBeLessThan(3000);
    expect(store.activeBlocks()).toHaveLength(store.recovered!.salvagedBlocks);
    store.close();
  });

  it('the cheap check does not read the evidence: a one-shot command opens a store with damaged evidence pages as it is', () => {
    const path = join(tempDir(), 'state.db');
    makeStore(path, 10, 20_000);
    damage(path, 'evidence', 2);
    const store = Store.open(path, { log: recordingLogger() });
    expect(store.recovered).toBeNull();
    store.addBlock({ addr: '198.51.100.7', cidr: 32, kind: 4 }, 1000, null, 'manual', {});
    expect(store.activeBlocks()).toHaveLength(11);
    store.close();
  });
});
