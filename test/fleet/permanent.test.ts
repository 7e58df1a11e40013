// Permanent blocks and the fleet, against a real LAPI and a real store file: a permanent block becomes a ten-year
// ban (CrowdSec has no permanent decision), a permanent block the LAPI never got (a blacklist-file entry
// restored at start, a block from before the fleet was configured) is pushed once at start and not again at the
// next, and its release deletes it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMANENT_SECONDS } from '../../src/fleet/alert.js';
import { parseGoDuration } from '../../src/fleet/client.js';
import { Fleet } from '../../src/fleet/fleet.js';
import { Applier } from '../../src/firewall/applier.js';
import { DEFAULT_FIREWALL } from '../../src/firewall/backend.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { nullBackend } from '../../src/firewall/null.js';
import { silentLogger } from '../../src/log/logger.js';
import { Store } from '../../src/store/store.js';
import { collectingLogger } from './helpers.js';
import { crowdsecMissing, Lapi } from './lapi.js';

const missing = crowdsecMissing();
if (missing) console.warn(`fleet permanent-block tests skipped: ${missing}`);

describe.skipIf(missing)(`permanent blocks and a real LAPI${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let lapi: Lapi;
  let dir: string;
  const machine = { id: 'host-p', password: 'host-p-password-123' };
  // the null backend: what is pushed does not depend on the kernel
  const applier = new Applier(new Firewall(nullBackend, DEFAULT_FIREWALL, silentLogger), silentLogger, () => ({ blocks: [], allow: [] }));
  const fleetOf = (store: Store, log = collectingLogger()) =>
    new Fleet({ url: lapi.url, machine, bouncerKey: null, interval: 10, shareEvidence: false }, { store, applier, log });

  beforeAll(async () => {
    lapi = await Lapi.start();
    lapi.addMachine(machine.id, machine.password);
    dir = mkdtempSync(join(tmpdir(), 'logwarden-permanent-'));
  }, 30_000);
  afterAll(async () => {
    await lapi?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a blacklist entry restored at start is pushed once as a ten-year ban; a restart does not push it again; its release deletes it', async () => {
    const store = Store.open(join(dir, 'p.db'));
    const now = Date.now();
    // what the daemon's start writes for a blacklist-file entry, and a permanent block by hand from before
    store.addBlock({ addr: '203.0.113.50', cidr: 32, kind: 4 }, now, null, 'blacklist', { text: 'in the blacklist file' });
    store.addBlock({ addr: '198.51.100.0', cidr: 24, kind: 4 }, now, null, 'manual', { text: 'abuse desk' });
    // a time-limited one is not the start's business (pushed when made)
    store.addBlock({ addr: '203.0.113.51', cidr: 32, kind: 4 }, now, now + 600_000, 'policy', { rules: ['ssh-failed-password'], attacks: 3, score: 30 });
    store.flushAll();

    const log = collectingLogger();
    let fleet = fleetOf(store, log);
    fleet.start();
    await new Promise((r) => setImmediate(r));
    await fleet.pusher!.settled();
    const ours = () => lapi.decisions().filter((d) => d.origin === 'logwarden');
    const first = ours();
    expect(first.map((d) => [d.value, d.scope, d.scenario]).sort()).toEqual([
      ['198.51.100.0/24', 'Range', 'logwarden/blacklist'],
      ['203.0.113.50', 'Ip', 'logwarden/blacklist'],
    ]);
    for (const d of first) expect(parseGoDuration(d.duration)! / 1000).toBeGreaterThan(PERMANENT_SECONDS - 120);
    expect(log.lines).toContain('info fleet: 2 permanent block(s) the LAPI does not have yet are queued for it');
    expect(fleet.pusher!.stats).toMatchObject({ sent: 2, rejected: 0 });
    await fleet.stop();

    // the next start: the LAPI has them (their decision ids are known), nothing is pushed again
    const again = collectingLogger();
    fleet = fleetOf(store, again);
    fleet.start();
    await new Promise((r) => setImmediate(r));
    await fleet.pusher!.settled();
    expect(ours().map((d) => d.id).sort()).toEqual(first.map((d) => d.id).sort());
    expect(fleet.pusher!.stats.sent).toBe(0);
    expect(again.lines.some((l) => l.includes('permanent block(s)'))).toBe(false);

    // `logwarden unblock` of the blacklisted address (the block's state in the store), found within a poll
    store.endBlock('203.0.113.50', 'released', Date.now());
    store.flushAll();
    fleet.findReleases();
    await new Promise((r) => setImmediate(r));
    await fleet.pusher!.settled();
    expect(ours().map((d) => d.value)).toEqual(['198.51.100.0/24']);
    expect(fleet.pusher!.stats.released).toBe(1);
    await fleet.stop();
    store.close();
  }, 30_000);
});
