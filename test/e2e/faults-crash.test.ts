// kill -9 of `logwarden run` (nft, in a network namespace) at random moments of a stream of attacks, some during
// its start-up: the store stays intact, nothing is counted twice or lost, every block comes back into the kernel,
// the kernel ends up holding exactly the store's blocks, and no whitelisted address is ever blocked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashTorture } from '../faults/crash-torture.js';
import { Lab, labUnavailable } from './lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`crash torture against the kernel skipped: ${unavailable}`);

describe.skipIf(unavailable)(`logwarden run killed at random points${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());

  it('survives kill -9 at random points with an intact store, every line counted once and the whitelist holding', async () => {
    const seed = Date.now() % 1_000_000;
    const run = await crashTorture(lab, { iterations: 6, maxStreamMs: 1500, startupKillEvery: 3, seed });
    const counts = [...run.rowsPerLine.values()];
    console.log(
      `seed ${seed}: ${run.iterations} kill -9 (${run.killsDuringStartup} before it said it runs), ${run.lines} lines, ` +
        `${counts.filter((c) => c === 1).length} stored once, ${counts.filter((c) => c > 1).length} more than once, ` +
        `${run.attackers.length} attackers, ${run.storeBlocks.length} blocks in the store and ${run.kernelBlocks.length} in the kernel`,
    );
    expect(run.integrity.length).toBeGreaterThan(0);
    expect(run.integrity.every((r) => r === 'ok')).toBe(true);
    expect([...run.rowsPerLine].filter(([, c]) => c !== 1)).toEqual([]);
    expect(run.written.filter((l) => !run.rowsPerLine.has(l))).toEqual([]);
    expect(run.notRestored).toEqual([]);
    expect(run.attackers.filter((a) => run.blockRows.get(a) !== 1)).toEqual([]);
    expect(run.storeBlocks).toEqual([...run.attackers].sort());
    expect(run.kernelBlocks).toEqual(run.storeBlocks);
    expect(run.whitelistedBlocked).toEqual([]);
    expect(await lab.reaches('192.0.2.10')).toBe(true);
  }, 120_000);
});
