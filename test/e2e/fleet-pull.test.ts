// Enforcing the fleet's decisions from a real LAPI on a real kernel (nft in a network namespace): a decision added
// with cscli is dropped by the server, its deletion lifts it, our own pushed decision is not applied twice, and
// the whitelist always wins (an address is refused once; a range keeps its whitelisted address reachable); while
// the LAPI is down, what was applied stays until its own end.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Applier } from '../../src/firewall/applier.js';
import { entryOf } from '../../src/control/blocking.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { nftBackend } from '../../src/firewall/nft.js';
import { Fleet } from '../../src/fleet/fleet.js';
import { silentLogger } from '../../src/log/logger.js';
import { Store } from '../../src/store/store.js';
import { Lab, labUnavailable } from './lab.js';
import { crowdsecMissing, Lapi } from '../fleet/lapi.js';
import { collectingLogger } from '../fleet/helpers.js';

const missing = crowdsecMissing() ?? labUnavailable(['nft']);
if (missing) console.warn(`fleet pull tests skipped: ${missing}`);

describe.skipIf(missing)(`enforcing a real LAPI's decisions on a real kernel${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let lapi: Lapi;
  let dir: string;
  const lab = new Lab();
  let store: Store;
  let firewall: Firewall;
  const log = collectingLogger();
  const machine = { id: 'host-b', password: 'host-b-password-123' };
  const fleetConfig = () => ({ url: lapi.url, machine, bouncerKey: 'host-b-key-0123456789', interval: 3600, shareEvidence: false });
  let fleet: Fleet;
  let applier: Applier;

  const build = () => {
    let f: Fleet | null = null;
    const a = new Applier(firewall, log, () => ({
      blocks: f!.withFleetBlocks(store.activeBlocks().map((b) => entryOf(b, Date.now()))),
      allow: store.allowList().map((e) => e.net),
    }));
    f = new Fleet(fleetConfig(), { store, applier: a, log });
    return { fleet: f, applier: a };
  };

  beforeAll(async () => {
    lapi = await Lapi.start();
    lapi.addMachine(machine.id, machine.password);
    lapi.addBouncer('host-b', 'host-b-key-0123456789');
    await lab.start();
    lab.addClient('192.0.2.20');
    dir = mkdtempSync(join(tmpdir(), 'logwarden-pull-'));
    store = Store.open(join(dir, 'b.db'));
    store.replaceAllow('config', [{ net: { addr: '192.0.2.10', cidr: 32, kind: 4 }, detail: '/etc/logwarden/whitelist:3' }]);
    firewall = new Firewall(nftBackend, { name: 'lwfleet', hooks: ['input'], priority: -10 }, silentLogger, { prefix: lab.inServer });
    ({ fleet, applier } = build());
    await applier.reconcile();
  }, 60_000);
  afterAll(async () => {
    await fleet?.stop();
    await firewall?.teardown().catch(() => {});
    firewall?.close();
    store?.close();
    lab.stop();
    await lapi?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a decision added with cscli, with its remaining time, and lifts it when deleted', async () => {
    expect(lab.connects('192.0.2.66')).toBe(true);
    lapi.cscli('decisions', 'add', '-i', '192.0.2.66', '-d', '1h', '-R', 'seen on another host');
    await fleet.puller!.poll();
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);
    const [row] = store.fleet.decisions();
    expect(row).toMatchObject({ key: '192.0.2.66', origin: 'cscli', scenario: 'seen on another host', state: 'applied' });
    expect(row.until - Date.now()).toBeGreaterThan(3590_000);
    expect(log.lines.some((l) => /^warn blocked 192\.0\.2\.66 for 3\d{3} s: fleet decision \d+ from origin cscli/.test(l))).toBe(true);
    // the periodic reconciliation keeps it: fleet blocks are part of the wanted state
    expect((await applier.reconcile()).unblocked).toEqual([]);
    expect(lab.connects('192.0.2.66')).toBe(false);

    lapi.cscli('decisions', 'delete', '-i', '192.0.2.66');
    await fleet.puller!.poll();
    expect(lab.connects('192.0.2.66')).toBe(true);
    expect(store.fleet.decisions()).toEqual([]);
  });

  it('the whitelist wins: an address is refused (logged once), a range keeps it reachable', async () => {
    lapi.cscli('decisions', 'add', '-i', '192.0.2.10', '-d', '1h', '-R', 'whitelisted here');
    lapi.cscli('decisions', 'add', '-r', '192.0.2.0/27', '-d', '1h', '-R', 'a bad range');
    await fleet.puller!.poll();
    expect(lab.connects('192.0.2.10')).toBe(true);
    expect(lab.connects('192.0.2.20')).toBe(false);
    const refusals = () => log.lines.filter((l) => l.includes('on 192.0.2.10 ') && l.includes('not applied: whitelisted by config /etc/logwarden/whitelist:3'));
    expect(refusals()).toHaveLength(1);
    expect(log.lines.some((l) => l.includes('blocked 192.0.2.0/27') && l.includes('the allow list keeps 192.0.2.10 (config /etc/logwarden/whitelist:3) reachable'))).toBe(true);
    // a restart of logwarden reads the whole stream again: the refusal is not logged again
    await fleet.stop();
    ({ fleet, applier } = build());
    await fleet.puller!.poll();
    expect(refusals()).toHaveLength(1);
    expect(lab.connects('192.0.2.20')).toBe(false);
    lapi.cscli('decisions', 'delete', '-r', '192.0.2.0/27');
    lapi.cscli('decisions', 'delete', '-i', '192.0.2.10');
    await fleet.puller!.poll();
    expect(lab.connects('192.0.2.20')).toBe(true);
  });

  it('a decision refused for a whitelist entry is applied once that entry is removed, for the rest of its time', async () => {
    lapi.cscli('decisions', 'add', '-i', '192.0.2.10', '-d', '1h', '-R', 'whitelisted for now');
    await fleet.puller!.poll();
    expect(store.fleet.decisions().find((d) => d.key === '192.0.2.10')?.state).toBe('refused');
    expect(lab.connects('192.0.2.10')).toBe(true);
    store.replaceAllow('config', []);
    await applier.reconcile();
    await fleet.puller!.poll();
    const row = store.fleet.decisions().find((d) => d.key === '192.0.2.10');
    expect(row?.state).toBe('applied');
    expect(row!.until - Date.now()).toBeGreaterThan(3500_000);
    expect(lab.connects('192.0.2.10')).toBe(false);
    expect(log.lines.some((l) => /blocked 192\.0\.2\.10 for 3\d{3} s: fleet decision \d+ .*no longer whitelisted/.test(l))).toBe(true);
    // whitelisted again: refused again, and reachable
    store.replaceAllow('config', [{ net: { addr: '192.0.2.10', cidr: 32, kind: 4 }, detail: '/etc/logwarden/whitelist:3' }]);
    await applier.reconcile();
    await fleet.puller!.poll();
    expect(store.fleet.decisions().find((d) => d.key === '192.0.2.10')?.state).toBe('refused');
    expect(lab.connects('192.0.2.10')).toBe(true);
    lapi.cscli('decisions', 'delete', '-i', '192.0.2.10');
    await fleet.puller!.poll();
  });

  it('recognises its own pushed decision coming back and does not apply it twice', async () => {
    const now = Date.now();
    const net = { addr: '192.0.2.67', cidr: 32, kind: 4 as const };
    store.addBlock(net, now, now + 600_000, 'policy', { rules: ['sshd-invalid-user'] });
    store.flushAll();
    await applier.block({ net, timeout: 600 });
    fleet.pusher!.block({ net, start: now, until: now + 600_000, rules: ['sshd-invalid-user'], attacks: 5, score: 50, firstSeen: now - 10_000, evidence: [] });
    await fleet.pusher!.settled();
    await fleet.puller!.poll();
    const own = store.fleet.decisions().find((d) => d.key === '192.0.2.67');
    expect(own).toMatchObject({ state: 'own', origin: 'logwarden' });
    expect(fleet.withFleetBlocks([]).some((e) => e.net.addr === '192.0.2.67')).toBe(false);
  });

  it('a large set (a blocklist) is recorded in one transaction and applied by one reconciliation, logged in brief', async () => {
    const csv = join(dir, 'list.csv');
    const values = Array.from({ length: 1500 }, (_, i) => `10.${20 + Math.floor(i / 250)}.${i % 250}.7`);
    writeFileSync(csv, `duration,scope,value\n${values.map((v) => `2h,ip,${v}`).join('\n')}\n`);
    lapi.cscli('decisions', 'import', '-i', csv, '-R', 'a blocklist');
    const t0 = Date.now();
    await fleet.puller!.poll();
    const ms = Date.now() - t0;
    console.log(`1500 decisions taken and applied in ${ms} ms`);
    expect(store.fleet.decisions().filter((d) => d.state === 'applied' && d.scenario === 'a blocklist')).toHaveLength(1500);
    const elements = () => {
      const set = lab.inServerRun(['nft', '-j', 'list', 'set', 'inet', 'lwfleet', 'blocked4']);
      return ((JSON.parse(set) as { nftables: { set?: { elem?: unknown[] } }[] }).nftables.find((o) => o.set)?.set?.elem ?? []).length;
    };
    expect(elements()).toBeGreaterThanOrEqual(1500);
    expect(log.lines.some((l) => /^warn blocked 1480 more address\(es\) by fleet decisions \(1500 in this poll\)$/.test(l))).toBe(true);
    expect(ms).toBeLessThan(5000);
    lapi.cscli('decisions', 'delete', '--scenario', 'a blocklist');
    await fleet.puller!.poll();
    expect(store.fleet.decisions().filter((d) => d.scenario === 'a blocklist')).toHaveLength(0);
    expect(elements()).toBeLessThan(10);
  }, 30_000);

  it('while the LAPI is down, local blocking goes on and applied fleet blocks stay until their end', async () => {
    lapi.cscli('decisions', 'add', '-i', '192.0.2.66', '-d', '1h', '-R', 'before the outage');
    await fleet.puller!.poll();
    expect(lab.connects('192.0.2.66')).toBe(false);
    await lapi.stop();
    await fleet.puller!.poll();
    await fleet.puller!.poll();
    expect(log.lines.filter((l) => l.includes('cannot read the LAPI decision stream'))).toHaveLength(1);
    expect((await applier.reconcile()).unblocked).toEqual([]);
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(fleet.puller!.stats.failingSince).not.toBeNull();
    await lapi.run();
    await fleet.puller!.poll();
    expect(fleet.puller!.stats.failingSince).toBeNull();
    expect(log.lines.some((l) => l.includes('the LAPI decision stream answers again'))).toBe(true);
    expect(lab.connects('192.0.2.66')).toBe(false);
  }, 30_000);
});
