import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import type { Operation } from '../../src/firewall/backend.js';
import { DEFAULT_FIREWALL } from '../../src/firewall/backend.js';
import { ExpiryScheduler } from '../../src/firewall/expiry.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { nullBackend } from '../../src/firewall/null.js';
import type { Network } from '../../src/policy/network.js';

const net = (addr: string): Network => ({ addr, cidr: 32, kind: 4 });

describe('ExpiryScheduler (for backends without kernel timeouts)', () => {
  it('unblocks when the time is over, once, and a reschedule replaces the earlier end', async () => {
    const unblocked: string[] = [];
    const scheduler = new ExpiryScheduler(async (n) => void unblocked.push(n.addr), () => {});
    scheduler.schedule(net('192.0.2.1'), Date.now() + 30);
    scheduler.schedule(net('192.0.2.2'), Date.now() + 30);
    scheduler.schedule(net('192.0.2.2'), Date.now() + 10_000); // re-blocked for longer
    scheduler.schedule(net('192.0.2.3'), null); // permanent
    await new Promise((r) => setTimeout(r, 100));
    expect(unblocked).toEqual(['192.0.2.1']);
    expect(scheduler.size).toBe(1);
    scheduler.stop();
  });

  it('reports a failing unblock', async () => {
    const errors: string[] = [];
    const scheduler = new ExpiryScheduler(async () => {
      throw new Error('iptables: Resource temporarily unavailable');
    }, (n, e) => errors.push(`${n.addr}: ${e.message}`));
    scheduler.schedule(net('192.0.2.1'), Date.now());
    await new Promise((r) => setTimeout(r, 30));
    expect(errors).toEqual(['192.0.2.1: iptables: Resource temporarily unavailable']);
  });
});

describe('Firewall.submit', () => {
  it('coalesces operations submitted together into one batch', async () => {
    const batches: Operation[][] = [];
    const recording = { ...nullBackend, name: 'nft' as const, apply: (_o: unknown, ops: Operation[]) => (batches.push(ops), []) };
    const firewall = new Firewall(recording, DEFAULT_FIREWALL, silentLogger);
    await Promise.all(['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((a) => firewall.submit({ op: 'block', entry: { net: net(a), timeout: 60 } })));
    expect(batches.map((b) => b.length)).toEqual([3]);
  });
});
