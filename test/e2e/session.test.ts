// The long-lived `nft -i` path: blocks reach the kernel through one process, errors are reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainLogger } from '../../src/log/logger.js';
import { DEFAULT_FIREWALL } from '../../src/firewall/backend.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { nftBackend } from '../../src/firewall/nft.js';
import { NftSession } from '../../src/firewall/session.js';
import { canonicalIP } from '../../src/parse/address.js';
import { Lab, labUnavailable } from './lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`nft -i session tests skipped: ${unavailable}`);

describe.skipIf(unavailable)(`nft -i session${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const logs: string[] = [];
  let firewall: Firewall;
  beforeAll(async () => {
    await lab.start();
    firewall = new Firewall(nftBackend, DEFAULT_FIREWALL, plainLogger('debug', (m) => logs.push(m.replace(/^logwarden: /, '').trimEnd())), { prefix: lab.inServer });
    await firewall.setup([]);
    firewall.keepSessionOpen();
  });
  afterAll(() => {
    firewall.close();
    lab.stop();
  });

  // (its latency is measured by benchmarks/firewall-nft.mjs, not asserted here)
  it('applies single blocks through one nft -i process', async () => {
    for (let i = 0; i < 60; i++) {
      await firewall.apply([{ op: 'block', entry: { net: { addr: `198.51.100.${i}`, cidr: 32, kind: 4 }, timeout: 600 } }]);
    }
    await firewall.apply([{ op: 'block', entry: { net: { addr: '192.0.2.66', cidr: 32, kind: 4 }, timeout: 600 } }]);
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);
    expect(logs.filter((l) => l.includes('nft -i failed'))).toEqual([]);
    const state = await firewall.state();
    expect(state.blocks).toHaveLength(61);
  });

  it('reports an error from nft -i, and the batch still lands through nft -f -', async () => {
    const session = new NftSession({ prefix: lab.inServer });
    await expect(session.run(['add element inet logwarden nosuchset { 192.0.2.9 }'])).rejects.toThrow(/nosuchset|No such file/);
    await session.run(['add element inet logwarden blocked4 { 192.0.2.9 timeout 60s }']);
    session.close();
    expect((await firewall.state()).blocks.some((b) => b.net.addr === '192.0.2.9')).toBe(true);
  });

  it('sends a burst as one nft -f - transaction that adds what is missing and renews what the kernel held', async () => {
    const prefix = (i: number) => ({ addr: canonicalIP(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::`)!.addr, cidr: 64, kind: 6 as const });
    await firewall.apply([{ op: 'block', entry: { net: prefix(7), timeout: 5 } }]);
    const before = firewall.sent.batches;
    const burst = Array.from({ length: 3000 }, (_, i) => ({ op: 'block' as const, entry: { net: prefix(i), timeout: 600 } }));
    await firewall.apply(burst);
    expect(firewall.sent.batches).toBe(before + 1);
    const held = (await firewall.state()).blocks.filter((b) => b.net.kind === 6 && b.net.cidr === 64);
    expect(held).toHaveLength(3000);
    // the element held with 5 s was re-added with the burst's 600 s, not left to expire
    expect(held.find((b) => b.net.addr === prefix(7).addr)?.timeout).toBeGreaterThan(500);
    expect(logs.filter((l) => l.includes('nft -i failed'))).toEqual([]);
  });
});
