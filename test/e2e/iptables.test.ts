// The iptables backend on a real kernel, inside the lab's server namespace: blocks (IPv4, IPv6, prefixes), the
// whitelist inside a blocked prefix, re-blocks and unblocks of missing rules, idempotent setup, resync after a
// flushed chain, clean teardown. Nothing runs outside the lab's namespaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FIREWALL, type FirewallOptions, type Operation, syncOperations } from '../../src/firewall/backend.js';
import { execute } from '../../src/firewall/executor.js';
import { iptablesBackend as ipt } from '../../src/firewall/iptables.js';
import { type Network, parseNetwork } from '../../src/policy/network.js';
import { Lab, labUnavailable } from './lab.js';

const unavailable = labUnavailable(['iptables', 'ip6tables']);
if (unavailable) console.warn(`iptables lab tests skipped: ${unavailable}`);

const o: FirewallOptions = DEFAULT_FIREWALL;
const n = (t: string): Network => parseNetwork(t)!;
const block = (t: string, timeout: number | null = 600): Operation => ({ op: 'block', entry: { net: n(t), timeout } });
const unblock = (t: string): Operation => ({ op: 'unblock', net: n(t) });
const ALLOW = [n('192.0.2.10'), n('2001:db8::10')];

describe.skipIf(unavailable)(`iptables backend on a real kernel${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const run = (invs: Parameters<typeof execute>[0]) => execute(invs, { prefix: lab.inServer });
  const state = async () => ipt.parseList(o, await run(ipt.list(o)));
  const rules = (cmd = 'iptables') => lab.inServerRun([cmd, '-w', '-S']).trim().split('\n');
  const count = (lines: string[], rule: string) => lines.filter((l) => l === rule).length;
  beforeAll(async () => {
    await lab.start();
    await run(ipt.setup(o, ALLOW));
  });
  afterAll(() => lab.stop());

  it('drops a blocked client while another connects; unblock restores access', async () => {
    await run(ipt.apply(o, [block('192.0.2.66')]));
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);
    await run(ipt.apply(o, [unblock('192.0.2.66'), unblock('192.0.2.99')])); // a missing rule too
    expect(lab.connects('192.0.2.66')).toBe(true);
  });

  it('blocks IPv6', async () => {
    await run(ipt.apply(o, [block('2001:db8::66', null)]));
    expect(lab.connects('2001:db8::66')).toBe(false);
    expect(lab.connects('2001:db8::10')).toBe(true);
    await run(ipt.apply(o, [unblock('2001:db8::66')]));
    expect(lab.connects('2001:db8::66')).toBe(true);
  });

  it('keeps a whitelisted client reachable inside a blocked prefix', async () => {
    await run(ipt.apply(o, [block('192.0.2.0/24'), block('2001:db8::/64')]));
    expect(lab.connects('192.0.2.10')).toBe(true);
    expect(lab.connects('2001:db8::10')).toBe(true);
    expect(lab.connects('192.0.2.67')).toBe(false);
    expect(lab.connects('2001:db8::66')).toBe(false);
    await run(ipt.apply(o, [unblock('192.0.2.0/24'), unblock('2001:db8::/64')]));
    expect(lab.connects('192.0.2.67')).toBe(true);
  });

  it('setup twice and a re-block leave exactly one jump and one rule of each kind', async () => {
    await run(ipt.setup(o, ALLOW));
    await run(ipt.setup(o, ALLOW));
    await run(ipt.apply(o, [block('192.0.2.66'), block('2001:db8::66')]));
    await run(ipt.apply(o, [block('192.0.2.66', 60), block('2001:db8::66', 60)])); // re-block
    const v4 = rules();
    expect(count(v4, '-A INPUT -j logwarden')).toBe(1);
    expect(count(v4, '-A logwarden -s 192.0.2.10/32 -j RETURN')).toBe(1);
    expect(count(v4, '-A logwarden -j logwarden-blk')).toBe(1);
    expect(count(v4, '-A logwarden-blk -s 192.0.2.66/32 -j DROP')).toBe(1);
    expect(v4.filter((l) => l.startsWith('-A ')).length).toBe(4);
    const v6 = rules('ip6tables');
    expect(count(v6, '-A INPUT -j logwarden')).toBe(1);
    expect(count(v6, '-A logwarden -s 2001:db8::10/128 -j RETURN')).toBe(1);
    expect(count(v6, '-A logwarden-blk -s 2001:db8::66/128 -j DROP')).toBe(1);
    // a new allow list replaces the RETURN rules and keeps the blocks; a forward hook comes and goes
    await run(ipt.setup({ ...o, hooks: ['input', 'forward'] }, [n('192.0.2.67')]));
    expect(rules().filter((l) => l.startsWith('-A '))).toEqual([
      '-A INPUT -j logwarden',
      '-A FORWARD -j logwarden',
      '-A logwarden -s 192.0.2.67/32 -j RETURN',
      '-A logwarden -j logwarden-blk',
      '-A logwarden-blk -s 192.0.2.66/32 -j DROP',
    ]);
    await run(ipt.setup(o, ALLOW));
    expect(count(rules(), '-A FORWARD -j logwarden')).toBe(0);
    expect((await state()).allow).toEqual(ALLOW);
    expect(lab.connects('192.0.2.66')).toBe(false);
  });

  it('after the chains are flushed, setup + sync restores the blocks (and removes a stray one)', async () => {
    const desired = [
      { net: n('192.0.2.66'), timeout: 600 },
      { net: n('198.51.100.0/24'), timeout: null },
      { net: n('2001:db8::66'), timeout: 600 },
    ];
    await run(ipt.apply(o, [block('198.51.100.0/24'), block('192.0.2.67')]));
    lab.inServerRun(['iptables', '-w', '-F', 'logwarden-blk']);
    lab.inServerRun(['iptables', '-w', '-F', 'logwarden']);
    lab.inServerRun(['ip6tables', '-w', '-F', 'logwarden-blk']);
    await run(ipt.apply(o, [block('192.0.2.67')])); // stray: in the kernel, not in the store
    expect(lab.connects('192.0.2.66')).toBe(true);
    await run(ipt.setup(o, ALLOW));
    const current = await state();
    const ops = syncOperations(desired, current);
    expect(ops).toHaveLength(4);
    await run(ipt.apply(o, ops, current)); // with the state known: one exact batch per family
    const after = await state();
    expect(after.blocks.map((b) => b.net)).toEqual(desired.map((d) => d.net));
    expect(syncOperations(desired, after)).toEqual([]);
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('2001:db8::66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);
    // the same sync without the state (tolerant per-rule deletes) changes nothing more
    await run(ipt.apply(o, desired.map((entry) => ({ op: 'block', entry }) as Operation)));
    expect((await state()).blocks.map((b) => b.net)).toEqual(desired.map((d) => d.net));
  });

  it('teardown leaves nothing of ours, and a second teardown is fine', async () => {
    await run(ipt.setup({ ...o, hooks: ['input', 'forward'] }, ALLOW));
    await run(ipt.teardown(o));
    await run(ipt.teardown(o));
    for (const cmd of ['iptables', 'ip6tables']) expect(rules(cmd)).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
    expect(await state()).toEqual({
      present: false,
      blocks: [],
      allow: [],
      hooks: [4, 6].map((family) => ({ family, hook: 'INPUT', jumps: 0, above: [] })),
    });
    expect(lab.connects('192.0.2.66')).toBe(true);
  });

  it('teardown with the kernel listed removes a doubled jump too (one -D removes one jump; -X then failed)', async () => {
    await run(ipt.setup(o, ALLOW));
    for (const cmd of ['iptables', 'ip6tables']) lab.inServerRun([cmd, '-w', '-A', 'INPUT', '-j', o.name]);
    const doubled = await state();
    expect(doubled.hooks?.map((h) => h.jumps)).toEqual([2, 2]);
    await run(ipt.teardown(o, doubled));
    for (const cmd of ['iptables', 'ip6tables']) expect(rules(cmd)).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
    await run(ipt.teardown(o, await state()));
  });
});
