import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/policy/network.js';
import type { Position } from '../../src/sources/source.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { Store, StoreError } from '../../src/store/store.js';
import { evidence, tempDir } from './helpers.js';

const net = (text: string) => parseNetwork(text)!;

describe('Store schema 2: migrating a version 1 file', () => {
  it('keeps every row of a file written by the version 1 store (fixtures/v1.db)', () => {
    const path = join(tempDir(), 'state.db');
    copyFileSync(fileURLToPath(new URL('./fixtures/v1.db', import.meta.url)), path);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    const blocksBefore = raw.prepare('SELECT * FROM blocks ORDER BY id').all();
    raw.close();

    const store = Store.open(path, { check: 'full' });
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(store.db.prepare('SELECT * FROM blocks ORDER BY id').all()).toEqual(blocksBefore.map((b) => ({ ...(b as object), simulated: 0 })));
    expect(store.activeBlocks().map((b) => [b.key, b.origin, b.expires, b.simulated])).toEqual([
      ['203.0.113.5', 'policy', 121029, false],
      ['2001:db8::/64', 'manual', null, false],
    ]);
    expect(store.block(3)).toMatchObject({ key: '198.51.100.0/24', state: 'released', endedAt: 800 });
    expect(store.loadOffenders()).toMatchObject([{ key: '203.0.113.5', score: 30, blockedUntil: 121029, attacks: 30 }]);
    expect(store.evidenceOf('203.0.113.5', 100).map((e) => e.line)).toEqual(Array.from({ length: 30 }, (_, i) => `Failed password ${i}`));
    expect(store.getPosition('/var/log/auth.log')).toEqual({ inode: 42, offset: 1234, cursor: null });
    expect(store.position('journal')).toEqual({ kind: 'journal', cursor: 's=abc;i=1', time: 0 });
    // a version 1 file position has no device: resuming at its offset could skip lines or read them twice
    expect(store.position('/var/log/auth.log')).toBeNull();
    expect(store.allowList()).toEqual([]);
    // the new values are accepted
    store.addBlock(net('192.0.2.0/24'), 2000, 9000, 'fleet', { text: 'crowdsec' });
    expect(store.activeBlocks().at(-1)).toMatchObject({ key: '192.0.2.0/24', origin: 'fleet' });
    // ids continue after the file's last evidence row
    expect(store.reserveEvidenceId()).toBe(31);
    store.close();
  });
});

describe('Store allow list', () => {
  it('replaces the entries of one origin only, stored as canonical addr/cidr', () => {
    const path = join(tempDir(), 'state.db');
    const store = Store.open(path);
    store.replaceAllow('config', [
      { net: net('192.0.2.7'), detail: '/etc/logwarden/whitelist:3' },
      { net: net('2001:db8::/48'), detail: '/etc/logwarden/whitelist:4' },
    ]);
    store.replaceAllow('session', [{ net: net('198.51.100.9'), detail: 'sshd[812] root' }]);
    store.replaceAllow('config', [{ net: net('10.0.0.0/8'), detail: '-w' }]);
    store.close();
    const again = Store.open(path);
    expect(again.allowList()).toEqual([
      { net: { addr: '198.51.100.9', cidr: 32, kind: 4 }, origin: 'session', detail: 'sshd[812] root' },
      { net: { addr: '10.0.0.0', cidr: 8, kind: 4 }, origin: 'config', detail: '-w' },
    ]);
    expect(again.db.prepare('SELECT network FROM allow ORDER BY id').pluck().all()).toEqual(['198.51.100.9/32', '10.0.0.0/8']);
    again.replaceAllow('session', []);
    expect(again.allowList().map((e) => e.origin)).toEqual(['config']);
    again.close();
  });

  it('refuses an entry that is not a canonical network, changing nothing', () => {
    const store = Store.open(':memory:');
    store.replaceAllow('config', [{ net: net('192.0.2.7'), detail: 'a:1' }]);
    expect(() => store.replaceAllow('config', [{ net: { addr: '10.0.0.1', cidr: 8, kind: 4 }, detail: 'a:2' }])).toThrow(StoreError);
    expect(store.allowList().map((e) => e.detail)).toEqual(['a:1']);
    store.close();
  });
});

describe('Store simulated blocks (dry run)', () => {
  it('records them beside the real ones, never returned as blocks to apply, and neither ends the other', () => {
    const store = Store.open(':memory:');
    store.addBlock(net('203.0.113.5'), 1000, 5000, 'policy', { score: 30 });
    store.addBlock(net('203.0.113.5'), 1500, 6000, 'policy', { score: 30 }, { simulated: true });
    store.addBlock(net('203.0.113.6'), 1500, 3000, 'policy', {}, { simulated: true });
    expect(store.activeBlocks().map((b) => [b.key, b.simulated])).toEqual([['203.0.113.5', false]]);
    expect(store.activeBlocks({ simulated: true }).map((b) => [b.key, b.simulated])).toEqual([
      ['203.0.113.5', true],
      ['203.0.113.6', true],
    ]);
    expect(store.endBlock('203.0.113.6', 'released', 2000)).toBe(false); // no real block of that key
    expect(store.endBlock('203.0.113.6', 'released', 2000, { simulated: true })).toBe(true);
    expect(store.expireBlocks(5500)).toBe(1);
    expect(store.activeBlocks()).toEqual([]);
    expect(store.activeBlocks({ simulated: true }).map((b) => b.expires)).toEqual([6000]);
    store.close();
  });
});

describe('Store positions', () => {
  const file: Position = { kind: 'file', path: '/var/log/auth.log', dev: 2049, ino: 131_074, offset: 98_765, fingerprint: 'ab12' };
  const journal: Position = { kind: 'journal', cursor: 's=1f;i=2a;b=3c', time: 1_764_600_000_000 };

  it('keeps the whole position of files and of the journal', () => {
    const path = join(tempDir(), 'state.db');
    const store = Store.open(path);
    store.queuePosition('/var/log/auth.log', file);
    store.queuePosition('journal', journal);
    expect(store.position('journal')).toEqual(journal); // queued
    store.close();
    const again = Store.open(path);
    expect(again.positions()).toEqual(new Map([['/var/log/auth.log', file], ['journal', journal]]));
    expect(again.position('/var/log/auth.log')).toEqual(file);
    expect(again.getPosition('/var/log/auth.log')).toEqual({ inode: 131_074, offset: 98_765, cursor: null });
    again.close();
  });

  it('writes a position with everything queued before it, the offenders included', () => {
    const path = join(tempDir(), 'state.db');
    const store = Store.open(path, { flushAfterMs: 0 });
    const reader = new Database(path, { readonly: true });
    const offenders = () => reader.prepare('SELECT count(*) FROM offenders').pluck().get();
    const o = { key: '203.0.113.5', net: net('203.0.113.5'), windowStart: 0, score: 10, windowAttacks: 1, windowServices: null, windowRules: null, windowEvidence: null, level: 0, levelAt: 0, blockedDanger: 0, blockedUntil: 0, blocks: 0, attacks: 1, firstSeen: 0, lastSeen: 0 };
    store.addEvidence(evidence('203.0.113.4', 1));
    store.flushAll(); // offenders were just written: the next plain flush holds them back for a second...
    store.touchOffender(o);
    store.addEvidence(evidence('203.0.113.5', 2));
    store.flush();
    expect(offenders()).toBe(0);
    // ...but not when a position is written: it covers them
    store.queuePosition('/var/log/auth.log', { ...file, offset: 2 });
    store.flush();
    expect(offenders()).toBe(1);
    expect(reader.prepare('SELECT offset FROM positions').pluck().get()).toBe(2);
    reader.close();
    store.close();
  });

  it('once positions are used, a full batch is written after the caller has queued the batch position', async () => {
    const path = join(tempDir(), 'state.db');
    const store = Store.open(path, { flushAfterMs: 0, batchSize: 10 });
    store.queuePosition('/var/log/auth.log', { ...file, offset: 0 });
    for (let i = 1; i <= 25; i++) store.addEvidence(evidence('203.0.113.5', i));
    expect(store.pendingWrites).toBe(26); // not written in the middle of the batch of lines
    store.queuePosition('/var/log/auth.log', { ...file, offset: 25 });
    await new Promise((r) => setImmediate(r));
    expect(store.pendingWrites).toBe(0);
    store.close();
  });

  it('never commits a position without the evidence before it, nor evidence past it (SIGKILL mid-stream)', async () => {
    const { spawn } = await import('node:child_process');
    const path = join(tempDir(), 'state.db');
    const writer = fileURLToPath(new URL('./fixtures/position-writer.mjs', import.meta.url));
    const child = spawn(process.execPath, [writer, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
    });
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const store = Store.open(path, { check: 'full' });
    const position = store.position('/var/log/auth.log');
    expect(position?.kind).toBe('file');
    const last = store.db.prepare('SELECT max(line_no) FROM evidence').pluck().get();
    expect(last).toBe((position as { offset: number }).offset);
    expect(store.db.prepare('SELECT count(*) FROM evidence').pluck().get()).toBe(last);
    store.close();
  });
});
