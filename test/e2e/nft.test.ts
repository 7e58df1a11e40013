// The nftables backend on a real kernel, inside the lab's server namespace: blocks, kernel expiry, the
// whitelist inside a blocked prefix, idempotent setup, resync after a flushed ruleset, clean teardown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlockEntry, type FirewallOptions, type Operation, syncOperations } from '../../src/firewall/backend.js';
import { execute } from '../../src/firewall/executor.js';
import { nftBackend } from '../../src/firewall/nft.js';
import type { Network } from '../../src/policy/network.js';
import { Lab, labUnavailable } from './lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`nft lab tests skipped: ${unavailable}`);

const o: FirewallOptions = { name: 'logwarden', hooks: ['input'], priority: -10 };
const n4 = (addr: string, cidr = 32): Network => ({ addr, cidr, kind: 4 });
const n6 = (addr: string, cidr = 128): Network => ({ addr, cidr, kind: 6 });
const block = (net: Network, timeout: number | null): Operation => ({ op: 'block', entry: { net, timeout } });
const unblock = (net: Network): Operation => ({ op: 'unblock', net });

describe.skipIf(unavailable)(`nft backend on a real kernel${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const run = (invs: Parameters<typeof execute>[0]) => execute(invs, { prefix: lab.inServer });
  const state = async () => nftBackend.parseList(o, await run(nftBackend.list(o)));
  beforeAll(async () => {
    await lab.start();
    await run(nftBackend.setup(o, [n4('192.0.2.10')]));
  });
  afterAll(() => lab.stop());

  it('drops a blocked client while another connects; unblock restores access', async () => {
    await run(nftBackend.apply(o, [block(n4('192.0.2.66'), 300)]));
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);
    await run(nftBackend.apply(o, [block(n4('192.0.2.66'), 600)])); // a re-block refreshes the timeout
    const entry = (await state()).blocks.find((b) => b.net.addr === '192.0.2.66')!;
    expect(entry.timeout).toBeGreaterThan(500);
    await run(nftBackend.apply(o, [unblock(n4('192.0.2.66')), unblock(n4('192.0.2.99'))])); // a missing one too
    expect(lab.connects('192.0.2.66')).toBe(true);
  });

  it('blocks IPv6', async () => {
    await run(nftBackend.apply(o, [block(n6('2001:db8::66'), 300)]));
    expect(lab.connects('2001:db8::66')).toBe(false);
    expect(lab.connects('2001:db8::10')).toBe(true);
    await run(nftBackend.apply(o, [unblock(n6('2001:db8::66'))]));
    expect(lab.connects('2001:db8::66')).toBe(true);
  });

  it('keeps a whitelisted client reachable inside a blocked /24 (and a single address next to the prefix)', async () => {
    await run(nftBackend.apply(o, [block(n4('192.0.2.0', 24), 300), block(n4('192.0.2.67'), 300)]));
    expect(lab.connects('192.0.2.10')).toBe(true);
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(false);
    await run(nftBackend.apply(o, [unblock(n4('192.0.2.0', 24)), unblock(n4('192.0.2.67'))]));
    expect(lab.connects('192.0.2.66')).toBe(true);
  });

  it('lets the kernel expire a 2 s block with no logwarden process involved', async () => {
    await run(nftBackend.apply(o, [block(n4('192.0.2.66'), 2)]));
    const start = Date.now();
    expect(lab.connects('192.0.2.66', 500)).toBe(false);
    while (!lab.connects('192.0.2.66', 300)) expect(Date.now() - start).toBeLessThan(5000);
    const took = (Date.now() - start) / 1000;
    expect(took).toBeGreaterThan(1);
    expect((await state()).blocks).toEqual([]);
  });

  it('leaves exactly one of each rule after setup twice, keeping the blocks', async () => {
    await run(nftBackend.apply(o, [block(n4('192.0.2.66'), 300)]));
    await run(nftBackend.setup(o, [n4('192.0.2.10')]));
    await run(nftBackend.setup(o, [n4('192.0.2.10')]));
    const chain = lab.inServerRun(['nft', 'list', 'chain', 'inet', 'logwarden', 'input']);
    for (const rule of ['ip saddr @allow4 return', 'ip6 saddr @allow6 return', 'ip saddr @blocked4 drop', 'ip saddr @blockednet4 drop', 'ip6 saddr @blocked6 drop', 'ip6 saddr @blockednet6 drop']) {
      expect(chain.split('\n').filter((l) => l.trim() === rule), rule).toHaveLength(1);
    }
    expect(lab.inServerRun(['nft', 'list', 'chains']).match(/chain input/g)).toHaveLength(1);
    expect(lab.connects('192.0.2.66')).toBe(false);
    await run(nftBackend.apply(o, [unblock(n4('192.0.2.66'))]));
  });

  it('restores the blocks after nft flush ruleset: setup + sync of what the kernel lacks', async () => {
    const desired: BlockEntry[] = [
      { net: n4('192.0.2.66'), timeout: 300 },
      { net: n6('2001:db8::66'), timeout: null },
      { net: n4('198.51.100.0', 24), timeout: 300 },
    ];
    await run(nftBackend.apply(o, [block(n4('192.0.2.66'), 300)]));
    lab.inServerRun(['nft', 'flush', 'ruleset']);
    expect(lab.connects('192.0.2.66')).toBe(true);
    expect((await state()).present).toBe(false);
    await run(nftBackend.setup(o, [n4('192.0.2.10')]));
    const ops = syncOperations(desired, await state());
    expect(ops).toHaveLength(3);
    await run(nftBackend.apply(o, ops));
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('2001:db8::66')).toBe(false);
    expect(lab.connects('192.0.2.10')).toBe(true);
    const after = await state();
    expect(after.blocks.map((b) => `${b.net.addr}/${b.net.cidr} ${b.timeout === null ? 'permanent' : 'expiring'}`).sort()).toEqual([
      '192.0.2.66/32 expiring',
      '198.51.100.0/24 expiring',
      '2001:db8::66/128 permanent',
    ]);
    expect(syncOperations(desired, after)).toEqual([]);
  });

  it('tears down everything of its own and nothing else', async () => {
    lab.inServerRun(['nft', 'add', 'table', 'inet', 'someoneelse']);
    await run(nftBackend.teardown(o));
    await run(nftBackend.teardown(o)); // already gone: not an error
    const tables = lab.inServerRun(['nft', 'list', 'tables']);
    expect(tables).not.toMatch(/logwarden/);
    expect(tables).toMatch(/table inet someoneelse/);
    expect(lab.connects('192.0.2.66')).toBe(true);
    expect(await state()).toEqual({ present: false, blocks: [], allow: [] });
  });
});
