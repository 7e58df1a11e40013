// Pushing blocks to a real LAPI from a real store file: each block arrives as a logwarden ban with its remaining
// time, a release deletes it, and while the LAPI is down pushes wait in the store's outbox (across a restart of
// logwarden) and arrive once, in order, when it is back; a full outbox drops the oldest and says so.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushedBlock } from '../../src/fleet/alert.js';
import { LapiClient, parseGoDuration } from '../../src/fleet/client.js';
import { FleetPusher } from '../../src/fleet/push.js';
import { Store } from '../../src/store/store.js';
import { collectingLogger } from './helpers.js';
import { crowdsecMissing, Lapi } from './lapi.js';

const missing = crowdsecMissing();
if (missing) console.warn(`fleet push tests skipped: ${missing}`);

const block = (addr: string, cidr = 32, seconds = 600, rule = 'sshd-invalid-user'): PushedBlock => {
  const now = Date.now();
  return { net: { addr, cidr, kind: 4 }, start: now, until: now + seconds * 1000, rules: [rule], attacks: 5, score: 50, firstSeen: now - 20_000, evidence: [] };
};

describe.skipIf(missing)(`pushing to a real LAPI${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let lapi: Lapi;
  let dir: string;
  const machine = { id: 'host-a', password: 'host-a-password-123' };
  beforeAll(async () => {
    lapi = await Lapi.start();
    lapi.addMachine(machine.id, machine.password);
    dir = mkdtempSync(join(tmpdir(), 'logwarden-push-'));
  }, 30_000);
  afterAll(async () => {
    await lapi?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes a block as a logwarden ban (Ip and Range) and deletes it on release', async () => {
    const store = Store.open(join(dir, 'a.db'));
    const log = collectingLogger();
    const pusher = new FleetPusher({ client: new LapiClient({ url: lapi.url, machine }), store, log });
    pusher.start();
    pusher.block(block('203.0.113.20', 32, 600));
    pusher.block(block('198.51.100.0', 24, 3600, 'sshd-bruteforce'));
    await pusher.settled();
    const all = lapi.decisions();
    const ip = all.find((d) => d.value === '203.0.113.20');
    expect(ip).toMatchObject({ origin: 'logwarden', type: 'ban', scope: 'Ip', scenario: 'logwarden/sshd-invalid-user' });
    expect(parseGoDuration(ip!.duration)! / 1000).toBeGreaterThan(590);
    expect(all.find((d) => d.value === '198.51.100.0/24')).toMatchObject({ origin: 'logwarden', scope: 'Range', scenario: 'logwarden/sshd-bruteforce' });
    expect(store.fleet.pushedIdsOf('203.0.113.20')).toEqual([ip!.id]);
    expect(pusher.stats).toMatchObject({ sent: 2, queued: 0, failingSince: null });

    pusher.release('203.0.113.20');
    await pusher.settled();
    expect(lapi.decisions().some((d) => d.value === '203.0.113.20')).toBe(false);
    expect(lapi.decisions().some((d) => d.value === '198.51.100.0/24')).toBe(true);
    expect(store.fleet.pushedIdsOf('203.0.113.20')).toEqual([]);
    await pusher.stop();
    store.close();
  });

  it('keeps pushes in the store while the LAPI is down, across a restart, and sends each once when it is back', async () => {
    const path = join(dir, 'b.db');
    let store = Store.open(path);
    const log = collectingLogger();
    let pusher = new FleetPusher({ client: new LapiClient({ url: lapi.url, machine, timeoutMs: 1000 }), store, log, retryMs: 100, maxRetryMs: 200 });
    pusher.start();
    await lapi.stop();
    const addrs = ['203.0.113.31', '203.0.113.32', '203.0.113.33'];
    for (const a of addrs) pusher.block(block(a));
    await pusher.settled();
    expect(store.fleet.outboxSize()).toBe(3);
    expect(pusher.stats.failingSince).not.toBeNull();
    expect(log.lines.filter((l) => l.includes('the LAPI is unreachable'))).toHaveLength(1);
    // logwarden restarts while the LAPI is still away: nothing is lost
    await pusher.stop();
    store.close();
    store = Store.open(path);
    expect(store.fleet.outboxSize()).toBe(3);
    pusher = new FleetPusher({ client: new LapiClient({ url: lapi.url, machine, timeoutMs: 1000 }), store, log, retryMs: 100, maxRetryMs: 200 });
    pusher.start();
    pusher.release('203.0.113.32');
    await new Promise((r) => setTimeout(r, 300));
    await lapi.run();
    const deadline = Date.now() + 10_000;
    while (store.fleet.outboxSize() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(store.fleet.outboxSize()).toBe(0);
    const values = lapi.decisions().map((d) => d.value).filter((v) => addrs.includes(v)).sort();
    // each once; .32 was pushed, then its release deleted it, in order
    expect(values).toEqual(['203.0.113.31', '203.0.113.33']);
    expect(log.lines.some((l) => /answers again after \d+ s/.test(l))).toBe(true);
    await pusher.stop();
    store.close();
  }, 30_000);

  it('bounds the outbox: the oldest pushes are dropped, and that is logged', async () => {
    const store = Store.open(join(dir, 'c.db'));
    const log = collectingLogger();
    const down = new LapiClient({ url: 'http://127.0.0.1:9', machine, timeoutMs: 500 });
    const pusher = new FleetPusher({ client: down, store, log, bound: 2, retryMs: 60_000 });
    pusher.start();
    for (const a of ['203.0.113.41', '203.0.113.42', '203.0.113.43']) pusher.block(block(a));
    await pusher.settled();
    expect(store.fleet.outbox(10).map((r) => r.key)).toEqual(['203.0.113.42', '203.0.113.43']);
    expect(pusher.stats.dropped).toBe(1);
    expect(log.lines.some((l) => l.startsWith('warn fleet: the outbox is full (2 pushes') && l.includes('dropped the 1 oldest'))).toBe(true);
    await pusher.stop();
    store.close();
  });
});
