// The ipset backend on a real kernel, inside the lab's server namespace (ipset sets are per network namespace):
// blocks (IPv4, IPv6, prefixes), kernel expiry with no logwarden process, the whitelist inside a blocked prefix,
// idempotent setup, resync after flushed sets, clean teardown. Nothing runs outside the lab's namespaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FIREWALL, type FirewallOptions, type Operation, syncOperations } from '../../src/firewall/backend.js';
import { execute } from '../../src/firewall/executor.js';
import { ipsetBackend as ips } from '../../src/firewall/ipset.js';
import { type Network, parseNetwork } from '../../src/policy/network.js';
import { Lab, labUnavailable } from './lab.js';

const unavailable = labUnavailable(['ipset', 'iptables', 'ip6tables']);
if (unavailable) console.warn(`ipset lab tests skipped: ${unavailable}`);

const o: FirewallOptions = DEFAULT_FIREWALL;
const n = (t: string): Network => parseNetwork(t)!;
const block = (t: string, timeout: number | null = 600): Operation => ({ op: 'block', entry: { net: n(t), timeout } });
const unblock = (t: string): Operation => ({ op: 'unblock', net: n(t) });
const ALLOW = [n('192.0.2.10'), n('2001:db8::10')];
const SETS = ['logwarden-block4', 'logwarden-allow4', 'logwarden-block6', 'logwarden-allow6'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(unavailable)(`ipset backend on a real kernel${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const run = (invs: Parameters<typeof execute>[0]) => execute(invs, { prefix: lab.inServer });
  const state = async () => ips.parseList(o, await run(ips.list(o)));
  const rules = (cmd = 'iptables') => lab.inServerRun([cmd, '-w', '-S']).trim().split('\n');
  const count = (lines: string[], rule: string) => lines.filter((l) => l === rule).length;
  const sets = () => lab.inServerRun(['ipset', 'list', '-n']).split('\n').filter(Boolean).sort();
  beforeAll(async () => {
    await lab.start();
    await run(ips.setup(o, ALLOW));
  });
  afterAll(() => lab.stop());

  it('drops a blocked client while another connects; a re-block refreshes the timeout; unblock restores access', async () => {
    await run(ips.apply(o, [block('192.0.2.66', 300)]));
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);
    await run(ips.apply(o, [block('192.0.2.66', 900)]));
    expect((await state()).blocks.find((b) => b.net.addr === '192.0.2.66')!.timeout).toBeGreaterThan(800);
    await run(ips.apply(o, [block('192.0.2.66', null)])); // timed → permanent
    expect((await state()).blocks.find((b) => b.net.addr === '192.0.2.66')!.timeout).toBeNull();
    await run(ips.apply(o, [unblock('192.0.2.66'), unblock('192.0.2.99')])); // a missing element too
    expect(lab.connects('192.0.2.66')).toBe(true);
  });

  it('blocks IPv6', async () => {
    await run(ips.apply(o, [block('2001:db8::66', null)]));
    expect(lab.connects('2001:db8::66')).toBe(false);
    expect(lab.connects('2001:db8::10')).toBe(true);
    await run(ips.apply(o, [unblock('2001:db8::66')]));
    expect(lab.connects('2001:db8::66')).toBe(true);
  });

  it('keeps a whitelisted client reachable inside a blocked prefix', async () => {
    await run(ips.apply(o, [block('192.0.2.0/24'), block('2001:db8::/64')]));
    expect(lab.connects('192.0.2.10')).toBe(true);
    expect(lab.connects('2001:db8::10')).toBe(true);
    expect(lab.connects('192.0.2.67')).toBe(false);
    expect(lab.connects('2001:db8::66')).toBe(false);
    await run(ips.apply(o, [unblock('192.0.2.0/24'), unblock('2001:db8::/64')]));
    expect(lab.connects('192.0.2.67')).toBe(true);
  });

  it('lets the kernel expire a block: the client gets in again after ~2-3 s with no logwarden process', async () => {
    await run(ips.apply(o, [block('192.0.2.67', 2)]));
    const t0 = Date.now();
    expect(lab.connects('192.0.2.67', 300)).toBe(false);
    let back = false;
    while (!back && Date.now() - t0 < 6000) {
      await sleep(250);
      back = lab.connects('192.0.2.67', 300);
    }
    const elapsed = (Date.now() - t0) / 1000;
    expect(back).toBe(true);
    expect(elapsed).toBeGreaterThan(1.5);
    expect(elapsed).toBeLessThan(4.5);
    expect((await state()).blocks.some((b) => b.net.addr === '192.0.2.67')).toBe(false);
  });

  it('setup twice leaves exactly one jump and one rule of each kind, and the allow sets exactly the list', async () => {
    await run(ips.apply(o, [block('192.0.2.66')]));
    await run(ips.setup(o, [n('192.0.2.67')]));
    await run(ips.setup(o, ALLOW));
    await run(ips.setup(o, ALLOW));
    for (const [cmd, f] of [['iptables', 4], ['ip6tables', 6]] as const) {
      const lines = rules(cmd);
      expect(count(lines, '-A INPUT -j logwarden')).toBe(1);
      expect(count(lines, `-A logwarden -m set --match-set logwarden-allow${f} src -j RETURN`)).toBe(1);
      expect(count(lines, `-A logwarden -m set --match-set logwarden-block${f} src -j DROP`)).toBe(1);
      expect(lines.filter((l) => l.startsWith('-A ')).length).toBe(3);
    }
    expect(sets()).toEqual([...SETS].sort());
    const s = await state();
    expect(s.allow).toEqual(ALLOW);
    expect(s.blocks.map((b) => b.net)).toEqual([n('192.0.2.66')]); // the block survived the setups
    await run(ips.setup({ ...o, hooks: ['input', 'forward'] }, ALLOW));
    expect(count(rules(), '-A FORWARD -j logwarden')).toBe(1);
    await run(ips.setup(o, ALLOW));
    expect(count(rules(), '-A FORWARD -j logwarden')).toBe(0);
    expect(lab.connects('192.0.2.66')).toBe(false);
  });

  it('after the sets and the chain are flushed, setup + sync restores the blocks (and removes a stray one)', async () => {
    const desired = [
      { net: n('192.0.2.66'), timeout: 600 },
      { net: n('198.51.100.0/24'), timeout: null },
      { net: n('2001:db8::66'), timeout: 600 },
    ];
    for (const set of SETS) lab.inServerRun(['ipset', 'flush', set]);
    lab.inServerRun(['iptables', '-w', '-F', 'logwarden']);
    await run(ips.apply(o, [block('192.0.2.67')])); // stray: in the kernel, not in the store
    expect(lab.connects('192.0.2.66')).toBe(true);
    await run(ips.setup(o, ALLOW));
    const ops = syncOperations(desired, await state());
    expect(ops).toHaveLength(4);
    await run(ips.apply(o, ops));
    const after = await state();
    expect(after.blocks.map((b) => b.net).sort((a, b) => a.addr.localeCompare(b.addr))).toEqual(
      desired.map((d) => d.net).sort((a, b) => a.addr.localeCompare(b.addr)),
    );
    expect(syncOperations(desired, after)).toEqual([]);
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('2001:db8::66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);
    expect(lab.connects('192.0.2.10')).toBe(true);
  });

  it('teardown leaves nothing of ours (no chain, no jump, no set), and a second teardown is fine', async () => {
    await run(ips.setup({ ...o, hooks: ['input', 'forward'] }, ALLOW));
    await run(ips.teardown(o));
    await run(ips.teardown(o));
    for (const cmd of ['iptables', 'ip6tables']) expect(rules(cmd)).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
    expect(sets()).toEqual([]);
    expect(await state()).toEqual({
      present: false,
      blocks: [],
      allow: [],
      hooks: [4, 6].map((family) => ({ family, hook: 'INPUT', jumps: 0, above: [] })),
    });
    expect(lab.connects('192.0.2.66')).toBe(true);
  });
});
