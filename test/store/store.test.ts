import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, newPolicyState, applyEvent } from '../../src/policy/policy.js';
import { emptyEntries, Whitelist } from '../../src/policy/whitelist.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { type EvidenceRow, Store } from '../../src/store/store.js';

const dir = () => mkdtempSync(join(tmpdir(), 'logwarden-store-'));

function evidence(offender: string, i: number): EvidenceRow {
  return { offender, time: i, source: 'auth.log', lineNo: i, event: 'attack', rule: 'ssh-failed-password', service: 100, danger: 10, addr: offender, outcome: 'scored', line: `line ${i}` };
}

describe('Store', () => {
  it('creates missing folders, the schema and a WAL database', () => {
    const path = join(dir(), 'a', 'b', 'state.db');
    const store = Store.open(path);
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.close();
    const again = Store.open(path); // idempotent
    expect(again.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    again.close();
  });

  it('writes queued evidence and offenders in one batch, and reads them back', () => {
    const path = join(dir(), 'state.db');
    const store = Store.open(path, { batchSize: 1000 });
    const state = newPolicyState(new Whitelist(emptyEntries()));
    for (let i = 0; i < 3; i++) {
      const r = applyEvent(state, DEFAULT_POLICY, { event: 'attack', time: i * 1000, addr: '203.0.113.5', kind: 4, danger: 10, service: 100, rule: 'ssh-failed-password', user: null }, 10_000);
      store.touchOffender(state.offenders.get(r.key)!);
      store.addEvidence(evidence('203.0.113.5', i));
    }
    expect(store.pendingWrites).toBe(4);
    store.flush();
    expect(store.pendingWrites).toBe(0);
    store.close();
    const reopened = Store.open(path);
    const [o] = reopened.loadOffenders();
    expect(o).toMatchObject({ key: '203.0.113.5', blocks: 1, attacks: 3, blockedUntil: 122_000, level: 1 });
    expect(reopened.evidenceOf('203.0.113.5').map((e) => e.line)).toEqual(['line 0', 'line 1', 'line 2']);
    reopened.close();
  });

  it('trims evidence by itself once enough rows are beyond the cap', () => {
    const store = Store.open(':memory:', { evidencePerOffender: 10, batchSize: 7, trimBatch: 100 });
    for (let i = 0; i < 1000; i++) store.addEvidence(evidence('203.0.113.5', i));
    store.flush();
    expect(store.evidenceOf('203.0.113.5', 2000).length).toBeLessThan(20 + 100);
    store.close();
  });

  it('keeps evidence bounded per offender, the most recent rows', () => {
    const store = Store.open(':memory:', { evidencePerOffender: 10, batchSize: 7 });
    for (let i = 0; i < 1000; i++) store.addEvidence(evidence('203.0.113.5', i));
    store.trim();
    const rows = store.evidenceOf('203.0.113.5', 1000);
    expect(rows.length).toBeLessThan(20);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows[rows.length - 1].line).toBe('line 999');
    store.close();
  });

  it('keeps trimming after a restart (it relearns which rows each offender has)', () => {
    const path = join(dir(), 'state.db');
    const first = Store.open(path, { evidencePerOffender: 10 });
    for (let i = 0; i < 15; i++) first.addEvidence(evidence('203.0.113.5', i));
    first.close();
    const second = Store.open(path, { evidencePerOffender: 10 });
    for (let i = 15; i < 40; i++) second.addEvidence(evidence('203.0.113.5', i));
    second.trim();
    const rows = second.evidenceOf('203.0.113.5', 1000);
    expect(rows.length).toBeLessThan(20);
    expect(rows.map((r) => r.lineNo)).toEqual(Array.from({ length: rows.length }, (_, i) => 40 - rows.length + i));
    second.close();
  });

  it('gives back evidence lines by id: queued, recently written, or only in the database', () => {
    const store = Store.open(':memory:', { evidencePerOffender: 100_000, batchSize: 1_000_000 });
    for (let i = 0; i < 20_000; i++) store.addEvidence(evidence(`203.0.113.${i % 200}`, i));
    store.flush(); // ids 1..20000 written; the first ones are no longer among the recent lines
    store.addEvidence(evidence('203.0.113.5', 20_000)); // id 20001, still queued
    expect(store.evidenceLines([1, 19_999, 20_001, 999_999])).toEqual(['line 0', 'line 19998', 'line 20000']);
    store.close();
  });

  it('forgets pruned offenders with their evidence and their ended blocks', () => {
    const store = Store.open(':memory:');
    store.addEvidence(evidence('203.0.113.5', 1));
    store.addBlock({ addr: '203.0.113.5', cidr: 32, kind: 4 }, 1000, 2000, 'policy', {});
    store.expireBlocks(3000);
    store.addBlock({ addr: '203.0.113.6', cidr: 32, kind: 4 }, 1000, 2000, 'policy', {});
    store.expireBlocks(3000);
    store.flush();
    store.forgetOffenders(['203.0.113.5']);
    store.trim();
    expect(store.evidenceOf('203.0.113.5')).toEqual([]);
    const keys = store.db.prepare('SELECT key FROM blocks').all() as { key: string }[];
    expect(keys.map((k) => k.key)).toEqual(['203.0.113.6']);
    store.close();
  });

  it('records blocks, expires them, and ends them by release', () => {
    const store = Store.open(':memory:');
    store.addBlock({ addr: '203.0.113.5', cidr: 32, kind: 4 }, 1000, 121_000, 'policy', { score: 30, rules: ['ssh-failed-password'] });
    store.addBlock({ addr: '198.51.100.0', cidr: 24, kind: 4 }, 1000, null, 'manual', { text: 'by hand' });
    store.addBlock({ addr: '2001:db8::', cidr: 64, kind: 6 }, 1000, 500_000, 'policy', {});
    expect(store.activeBlocks().map((b) => b.key)).toEqual(['203.0.113.5', '198.51.100.0/24', '2001:db8::/64']);
    expect(store.expireBlocks(200_000)).toBe(1);
    expect(store.endBlock('2001:db8::/64', 'released', 300_000)).toBe(true);
    const active = store.activeBlocks();
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ key: '198.51.100.0/24', expires: null, origin: 'manual', reason: { text: 'by hand' } });
    store.close();
  });

  it('remembers source positions', () => {
    const store = Store.open(':memory:');
    store.setPosition('/var/log/auth.log', { inode: 42, offset: 1234 }, 1);
    store.setPosition('journal', { cursor: 's=abc;i=1' }, 1);
    expect(store.getPosition('/var/log/auth.log')).toEqual({ inode: 42, offset: 1234, cursor: null });
    expect(store.getPosition('journal')?.cursor).toBe('s=abc;i=1');
    expect(store.getPosition('nope')).toBeNull();
    store.close();
  });

  it('moves aside a database whose pages are damaged', () => {
    const d = dir();
    const path = join(d, 'state.db');
    const first = Store.open(path);
    for (let i = 0; i < 5000; i++) first.addEvidence(evidence(`203.0.113.${i % 200}`, i));
    first.close();
    const raw = new Database(path);
    const pages = raw.pragma('page_count', { simple: true }) as number;
    raw.close();
    const bytes = Buffer.alloc(4096 * 3, 0x5a);
    const fd = openSync(path, 'r+');
    writeSync(fd, bytes, 0, bytes.length, 4096 * Math.floor(pages / 2));
    closeSync(fd);
    const warnings: string[] = [];
    const store = Store.open(path, { warn: (m) => warnings.push(m), check: 'full' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/state\.db is corrupt .* moved it to .*state\.db\.corrupt-/);
    expect(readdirSync(d).some((f) => f.startsWith('state.db.corrupt-'))).toBe(true);
    expect(store.recovered?.aside).toMatch(/state\.db\.corrupt-/);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    store.close();
  });

  it('names the path when it cannot be created', () => {
    const d = dir();
    writeFileSync(join(d, 'file'), '');
    expect(() => Store.open(join(d, 'file', 'state.db'))).toThrow(/cannot create the folder of database .*file\/state\.db/);
  });

  it('names the path when the database is locked by another process', () => {
    const path = join(dir(), 'state.db');
    const holder = new Database(path);
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');
    try {
      expect(() => Store.open(path)).toThrow(/database .*state\.db is locked by another process/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('survives SIGKILL mid-stream: the file checks ok and keeps what was flushed', async () => {
    const path = join(dir(), 'state.db');
    const writer = fileURLToPath(new URL('./fixtures/writer.mjs', import.meta.url));
    const child = spawn(process.execPath, [writer, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(existsSync(`${path}-wal`)).toBe(true);
    const db = new Database(path);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = (db.prepare('SELECT count(*) AS n FROM evidence').get() as { n: number }).n;
    expect(rows).toBeGreaterThan(0);
    db.close();
    const store = Store.open(path);
    expect(store.evidenceOf('203.0.113.1').length).toBeGreaterThan(0);
    store.close();
  });
});

describe('Store write-behind timing', () => {
  it('flushes on its own at most flushAfterMs after the first queued write', async () => {
    const path = join(dir(), 'state.db');
    const store = Store.open(path, { flushAfterMs: 50, batchSize: 1000 });
    store.addEvidence(evidence('203.0.113.5', 1));
    const reader = new Database(path, { readonly: true });
    const count = () => (reader.prepare('SELECT count(*) AS n FROM evidence').get() as { n: number }).n;
    expect(count()).toBe(0);
    await new Promise((r) => setTimeout(r, 150));
    expect(count()).toBe(1);
    reader.close();
    store.close();
  });
});
