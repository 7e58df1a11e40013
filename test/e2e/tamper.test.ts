// The firewall changed behind the daemon's back (nft backend): each change is found by the periodic sync
// (--sync-interval 1), repaired, logged and counted in logwarden_firewall_drift_repaired_total.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedMessage, Container, type DaemonProcess, failures, Lab, labUnavailable, metricValue, scrapeMetrics, sleep, syslogLine } from './lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`firewall tampering tests skipped: ${unavailable}`);

const DRIFT = 'logwarden_firewall_drift_repaired_total';
/** A sync each second, and room for a loaded 2-core machine */
const REPAIR_WITHIN_MS = 5000;

/** A typical /etc/nftables.conf, as `systemctl restart nftables` loads it (after `flush ruleset`) */
const NFTABLES_CONF = `flush ruleset
table inet filter {
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    iif lo accept
    tcp dport { 22, 8022 } accept
  }
  chain forward { type filter hook forward priority filter; policy accept; }
  chain output { type filter hook output priority filter; policy accept; }
}
`;

describe.skipIf(unavailable)(`the nft firewall changed behind our back${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const container = new Container(lab);
  let dir = '';
  let daemon: DaemonProcess;
  let metricsAt = '';
  const nft = (...args: string[]) => lab.inServerRun(['nft', ...args]);
  const drift = async () => metricValue(await scrapeMetrics(lab, metricsAt), DRIFT);
  const log = () => join(dir, 'auth.log');

  beforeAll(async () => {
    await lab.start();
    await container.start();
    dir = mkdtempSync(join(tmpdir(), 'logwarden-tamper-'));
    writeFileSync(log(), syslogLine('Server listening on 0.0.0.0 port 22.'));
    daemon = lab.startDaemon([
      '--backend', 'nft', '--hook', 'input,forward', '--sync-interval', '1', '--metrics', '127.0.0.1:0',
      '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'run.pid'), log(),
    ]);
    metricsAt = String((await daemon.waitFor(/^metrics at /)).metrics);
    await daemon.waitFor(/^logwarden running/);
    const mark = daemon.mark();
    appendFileSync(log(), failures('192.0.2.66', 3));
    await daemon.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    await lab.until('192.0.2.66', false, 3000);
  });
  afterAll(async () => {
    await daemon?.stop('SIGTERM').catch(() => daemon.kill());
    container.stop();
    lab.stop();
  });

  /** Applies `tamper`, then waits for the repair's log line and for 192.0.2.66 to be dropped again. */
  const repaired = async (tamper: () => void, message: RegExp) => {
    const before = await drift();
    const mark = daemon.mark();
    const t0 = Date.now();
    tamper();
    const record = await daemon.waitFor(message, REPAIR_WITHIN_MS, mark);
    await lab.until('192.0.2.66', false, REPAIR_WITHIN_MS);
    const ms = Date.now() - t0;
    expect(await drift()).toBeGreaterThan(before);
    expect(await lab.reaches('192.0.2.67')).toBe(true);
    return { record, ms };
  };

  it('our table deleted: created again with its blocks', async () => {
    const { ms } = await repaired(() => nft('delete', 'table', 'inet', 'logwarden'), /^firewall objects of logwarden were missing: created them again/);
    console.log(`table deleted: repaired and dropping again within ${ms} ms`);
    expect(daemon.records.some((r) => /^firewall drift: re-added 192\.0\.2\.66/.test(r.msg))).toBe(true);
  });

  it('a block set flushed: its elements re-added', async () => {
    const { ms } = await repaired(() => nft('flush', 'set', 'inet', 'logwarden', 'blocked4'), /^firewall drift: re-added 192\.0\.2\.66/);
    console.log(`set flushed: repaired within ${ms} ms`);
  });

  it('an accept rule inserted into our chain before the drops: found and our chain rebuilt', async () => {
    const { record, ms } = await repaired(
      () => nft('insert', 'rule', 'inet', 'logwarden', 'input', 'ip', 'saddr', '192.0.2.66', 'accept'),
      /^firewall objects of logwarden were changed \(chain input holds other rules/,
    );
    console.log(`rule inserted into our chain: rebuilt within ${ms} ms (${String(record.altered)})`);
    expect(nft('list', 'chain', 'inet', 'logwarden', 'input')).not.toContain('192.0.2.66 accept');
  });

  it('our chain given policy drop (would lock everyone out): set back to accept', async () => {
    await repaired(() => nft('chain', 'inet', 'logwarden', 'input', '{ policy drop ; }'), /^firewall objects of logwarden were changed \(chain input has hook input, priority -10, policy drop/);
    expect(await lab.reaches('192.0.2.10')).toBe(true);
  });

  it('an accept in another table at a higher priority is not ours to fight: the block holds and nothing is "repaired"', async () => {
    const early = join(dir, 'early.nft');
    writeFileSync(early, 'table inet early {\n  chain input {\n    type filter hook input priority -100; policy accept;\n    ip saddr 192.0.2.66 accept\n  }\n}\n');
    nft('-f', early);
    try {
      const before = await drift();
      await sleep(2500); // two syncs
      expect(await drift()).toBe(before);
      // an accept ends only its own base chain: ours, later at the same hook, still drops
      expect(await lab.reaches('192.0.2.66')).toBe(false);
    } finally {
      nft('delete', 'table', 'inet', 'early');
    }
  });

  it('`systemctl restart nftables` (flush ruleset, then a typical /etc/nftables.conf): our table comes back', async () => {
    const conf = join(dir, 'nftables.conf');
    writeFileSync(conf, NFTABLES_CONF);
    const { ms } = await repaired(() => nft('-f', conf), /^firewall objects of logwarden were missing: created them again/);
    console.log(`full ruleset reload: our table back within ${ms} ms`);
    expect(lab.nftTables()).toEqual(['table inet filter', 'table inet logwarden']);
    nft('delete', 'table', 'inet', 'filter');
  });

  it('a container runtime\'s tables created after we started (forward hook): our forward chain stays, forwarded traffic of a blocked client is dropped', async () => {
    expect(await container.reaches('192.0.2.67')).toBe(true);
    expect(await container.reaches('192.0.2.66')).toBe(false);
    const before = await drift();
    // what dockerd does through iptables-nft: FORWARD policy drop, its own chains, an accept for the published port
    const ipt = (...args: string[]) => lab.inServerRun(['iptables', '-w', ...args]);
    ipt('-t', 'nat', '-N', 'DOCKER');
    ipt('-t', 'nat', '-A', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER');
    ipt('-N', 'DOCKER');
    ipt('-N', 'DOCKER-USER');
    ipt('-P', 'FORWARD', 'DROP');
    ipt('-A', 'FORWARD', '-j', 'DOCKER-USER');
    ipt('-A', 'FORWARD', '-o', 'veth-k', '-j', 'DOCKER');
    ipt('-A', 'FORWARD', '-i', 'veth-k', '-j', 'ACCEPT');
    ipt('-A', 'DOCKER', '-d', Container.ADDR, '-p', 'tcp', '--dport', '8022', '-j', 'ACCEPT');
    try {
      await sleep(2500); // two syncs
      expect(await drift(), daemon.transcript()).toBe(before);
      expect(nft('list', 'chain', 'inet', 'logwarden', 'forward')).toContain('ip saddr @blocked4 drop');
      expect(await container.reaches('192.0.2.67')).toBe(true);
      expect(await container.reaches('192.0.2.66')).toBe(false);
    } finally {
      ipt('-P', 'FORWARD', 'ACCEPT');
      nft('delete', 'table', 'ip', 'nat');
      nft('delete', 'table', 'ip', 'filter');
    }
  });

  it('an element whose kernel timeout runs out before the store\'s end is re-added with the store\'s time', async () => {
    const { ms } = await repaired(() => {
      nft('delete', 'element', 'inet', 'logwarden', 'blocked4', '{ 192.0.2.66 }');
      nft('add', 'element', 'inet', 'logwarden', 'blocked4', '{ 192.0.2.66 timeout 2s }');
    }, /^firewall drift: re-added 192\.0\.2\.66/);
    console.log(`short kernel timeout: refreshed within ${ms} ms`);
    const listed = JSON.parse(nft('-j', 'list', 'set', 'inet', 'logwarden', 'blocked4')) as { nftables: { set?: { elem?: { elem: { val: string; expires: number } }[] } }[] };
    const element = listed.nftables.flatMap((i) => i.set?.elem ?? []).find((e) => e.elem.val === '192.0.2.66');
    expect(element?.elem.expires).toBeGreaterThan(30);
    await sleep(2500); // past the 2 s the element was given
    expect(await lab.reaches('192.0.2.66')).toBe(false);
  });
});
