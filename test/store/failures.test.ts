import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store, StoreError } from '../../src/store/store.js';
import { evidence, recordingLogger, tempDir, until } from './helpers.js';

const net = (addr: string) => ({ addr, cidr: 32, kind: 4 as const });

/** Lets the file grow by only a few pages: the next big write fails with SQLITE_FULL, as on a full disk. */
function fillDisk(store: Store): void {
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  store.db.pragma(`max_page_count = ${pages + 2}`);
}

describe('Store write failures', () => {
  it('keeps rows queued in order on a full disk, reports once, summarises, and writes them when space is back', async () => {
    const log = recordingLogger();
    const store = Store.open(join(tempDir(), 'state.db'), { log, flushAfterMs: 0, retryMaxMs: 30, failureSummaryMs: 0 });
    store.addEvidence(evidence('203.0.113.5', 0));
    store.flushAll();
    fillDisk(store);
    for (let i = 1; i <= 2000; i++) store.addEvidence(evidence('203.0.113.5', i));
    store.addBlock(net('203.0.113.5'), 1000, 5000, 'policy', { score: 30 });

    expect(() => store.flush()).not.toThrow();
    const failing = store.health();
    expect(failing).toMatchObject({ pending: 2001, failures: 1 });
    expect(failing.failingSince).not.toBeNull();
    expect(failing.lastError).toMatch(/full/);
    expect(log.said.filter((s) => s.level === 'error')).toHaveLength(1);
    expect(log.said[0].message).toMatch(/cannot write to the store: .*full.*2001 rows are kept and retried/);
    expect(log.said[0].fields).toMatchObject({ code: 'SQLITE_FULL', pending: 2001 });
    // reads still work and do not throw; the active blocks include the one not written yet (the kernel keeps it)
    expect(store.activeBlocks().map((b) => [b.key, b.id, b.expires])).toEqual([['203.0.113.5', 0, 5000]]);
    expect(store.evidenceOf('203.0.113.5', 5000)).toHaveLength(1);
    // the queued lines are still there for block reasons
    expect(store.evidenceLines([1, 2000])).toEqual([evidence('x', 0).line, evidence('x', 1999).line]);

    // an explicit flush says so, and keeps the rows
    let thrown: unknown;
    try {
      store.flushAll();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect((thrown as StoreError).message).toMatch(/disk is full.*2001 rows stay queued/);
    expect((thrown as StoreError).code).toBe('SQLITE_FULL');
    expect(store.pendingWrites).toBe(2001);
    expect(log.said.filter((s) => /still failing .* 2001 rows waiting/.test(s.message))).toHaveLength(1);

    store.db.pragma('max_page_count = 1073741823');
    store.flushAll();
    expect(store.health()).toMatchObject({ pending: 0, failingSince: null, failures: 2 });
    const back = log.said.filter((s) => /succeed again/.test(s.message));
    expect(back).toHaveLength(1);
    expect(back[0].fields).toMatchObject({ failures: 2 });
    expect(store.evidenceOf('203.0.113.5', 5000).map((e) => e.lineNo)).toEqual(Array.from({ length: 2001 }, (_, i) => i));
    expect(store.activeBlocks()).toHaveLength(1);
    store.close();
  });

  it('retries by itself with backoff and never throws from its timer', async () => {
    const log = recordingLogger();
    const store = Store.open(join(tempDir(), 'state.db'), { log, flushAfterMs: 5, retryMaxMs: 40, failureSummaryMs: 60_000 });
    store.addEvidence(evidence('203.0.113.5', 0));
    store.flushAll();
    fillDisk(store);
    for (let i = 1; i <= 2000; i++) store.addEvidence(evidence('203.0.113.5', i));
    await until(() => store.health().failures >= 3);
    expect(store.pendingWrites).toBe(2000);
    expect(log.said.filter((s) => s.level === 'error')).toHaveLength(1); // no summary yet: the summary interval is long
    store.db.pragma('max_page_count = 1073741823');
    await until(() => store.pendingWrites === 0);
    expect(store.health().failingSince).toBeNull();
    expect(log.said.filter((s) => /succeed again/.test(s.message))).toHaveLength(1);
    expect(store.evidenceOf('203.0.113.5', 5000)).toHaveLength(2001);
    store.close();
  });

  it('waits out another connection holding the write lock (SQLITE_BUSY), keeping the order of the blocks', async () => {
    const path = join(tempDir(), 'state.db');
    const log = recordingLogger();
    const store = Store.open(path, { log, flushAfterMs: 5, retryMaxMs: 20, busyTimeoutMs: 50 });
    const holder = new Database(path);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      store.addBlock(net('203.0.113.5'), 1000, 5000, 'policy', { text: 'first' });
      await until(() => store.health().failures >= 1);
      expect(store.health().lastError).toMatch(/locked/);
      store.addBlock(net('203.0.113.5'), 2000, 9000, 'manual', { text: 'second' });
      expect(() => store.flushAll()).toThrow(/locked by another process.*2 rows stay queued/);
      expect(store.pendingWrites).toBe(2);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await until(() => store.pendingWrites === 0);
    const [active] = store.activeBlocks();
    expect(active).toMatchObject({ reason: { text: 'second' }, start: 2000 }); // written in order: the second ended the first
    expect(store.db.prepare(`SELECT state FROM blocks ORDER BY id`).pluck().all()).toEqual(['expired', 'active']);
    expect(log.said.filter((s) => /succeed again/.test(s.message))).toHaveLength(1);
    store.close();
  });

  it('keeps rows queued while the database refuses writes (read-only), and writes them once it accepts them', () => {
    const log = recordingLogger();
    const store = Store.open(join(tempDir(), 'state.db'), { log, flushAfterMs: 0 });
    store.db.pragma('query_only = 1'); // as root a file cannot be made read-only by its mode: SQLite refuses instead
    store.addBlock(net('203.0.113.5'), 1000, null, 'manual', {});
    store.queuePosition('journal', { kind: 'journal', cursor: 's=1', time: 5 });
    store.flush();
    expect(store.health()).toMatchObject({ pending: 2, failures: 1 });
    expect(log.said[0].fields).toMatchObject({ code: 'SQLITE_READONLY' });
    expect(() => store.flushAll()).toThrow(/state\.db is read-only.*2 rows stay queued/);
    store.db.pragma('query_only = 0');
    store.flushAll();
    expect(store.activeBlocks()).toHaveLength(1);
    expect(store.positions().get('journal')).toEqual({ kind: 'journal', cursor: 's=1', time: 5 });
    store.close();
  });

  it('makes a one-shot command fail loudly when its block cannot be written at close', () => {
    const log = recordingLogger();
    const store = Store.open(join(tempDir(), 'state.db'), { log, flushAfterMs: 0 });
    fillDisk(store);
    store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
    for (let i = 0; i < 500; i++) store.addBlock(net(`198.51.100.${i % 250}`), 1000, null, 'manual', { text: 'x'.repeat(200) });
    expect(() => store.close()).toThrow(StoreError);
    expect(log.said.some((s) => /500 rows that could not be written: they are lost/.test(s.message))).toBe(true);
    expect(store.db.open).toBe(false);
  });
});

describe('Store write-behind of offenders', () => {
  it('writes an offender held back by the once-a-second rule when its second is up, with nothing else queued', async () => {
    const path = join(tempDir(), 'state.db');
    const store = Store.open(path, { flushAfterMs: 20 });
    const o = { key: '203.0.113.5', net: net('203.0.113.5'), windowStart: 0, score: 10, windowAttacks: 1, windowServices: null, windowRules: null, windowEvidence: null, level: 0, levelAt: 0, blockedDanger: 0, blockedUntil: 0, blocks: 0, attacks: 1, firstSeen: 0, lastSeen: 0 };
    store.touchOffender(o);
    await until(() => store.pendingWrites === 0);
    o.attacks = 2;
    store.touchOffender(o);
    const reader = new Database(path, { readonly: true });
    const attacks = () => reader.prepare('SELECT attacks FROM offenders').pluck().get();
    await new Promise((r) => setTimeout(r, 100));
    expect(attacks()).toBe(1); // held back
    await until(() => attacks() === 2, 2000);
    reader.close();
    store.close();
  });
});
