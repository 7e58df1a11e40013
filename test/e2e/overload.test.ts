// Overload, short version (npm test; the long one is test/stress/overload.test.ts): 100,000 lines in one second
// from 48,000 distinct documentation addresses (IPv4 and IPv6, each in its own /64), 4,000 of which reach the
// threshold, into a log that `logwarden run --backend nft` tails in a namespace of its own. Every line is read,
// every attacker but the whitelisted ones is blocked (those never), the kernel gets the blocks, the memory stays
// bounded, and the metrics show the lag while it lasts.
import { describe, expect, it } from 'vitest';
import { labUnavailable } from './lab.js';
import { overloadBurst } from './overload-burst.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`overload test skipped: ${unavailable}`);

describe.skipIf(unavailable)(`overload: a burst of 100,000 lines a second${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('reads every line, blocks every attacker but the whitelisted ones, memory bounded', async () => {
    const r = await overloadBurst({ addresses: 48_000, blocked: 4_000, linesPerSecond: 100_000, drainMs: 40_000, kernelMs: 30_000 });
    const { metrics, timeline, ...numbers } = r;
    console.log(`overload: ${JSON.stringify(numbers)}`);
    console.log(`timeline (s, lines, blocks, batches, operations, lag bytes): ${JSON.stringify(timeline)}`);
    expect(r.written).toBe(100_000);
    expect(r.whitelistedBlocked).toEqual([]);
    expect(r.read).toBe(r.written);
    expect(r.caughtUpSeconds).not.toBeNull();
    expect(r.blocks).toBe(r.expectedBlocks);
    expect(r.kernelElements).toBe(r.expectedBlocks);
    expect(r.operations).toBeGreaterThanOrEqual(r.expectedBlocks);
    // batched: a burst is a few transactions, not one per block (a 100th would already be far from it)
    expect(r.batches).toBeGreaterThan(0);
    expect(r.batches).toBeLessThan(r.expectedBlocks / 100);
    // the burst reached the kernel by itself, not through the periodic sync repairing what a batch missed
    expect(r.warnings.filter((w) => /firewall drift/.test(w))).toEqual([]);
    expect(r.rssPeakMB).toBeLessThan(400);
    expect(metrics).toMatch(/^logwarden_source_lag_seconds\{source="[^"]+"\} 0$/m);
    expect(metrics).toMatch(/^logwarden_firewall_batches_total \d+$/m);
  }, 150_000);
});
