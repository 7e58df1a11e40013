// The long crash torture (npm run test:stress): 60 kill -9 of `logwarden run` (nft, in a network namespace) at
// random points of a stream of attacks, one in four during its start-up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashTorture } from '../faults/crash-torture.js';
import { Lab, labUnavailable } from '../e2e/lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`crash torture against the kernel skipped: ${unavailable}`);

describe.skipIf(unavailable)(`logwarden run killed at random points, long${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());

  it('survives 60 kill -9 at random points', async () => {
    const seed = Date.now() % 1_000_000;
    const run = await crashTorture(lab, { iterations: 60, maxStreamMs: 2000, startupKillEvery: 4, seed });
    const counts = [...run.rowsPerLine.values()];
    console.log(
      `seed ${seed}: ${run.iterations} kill -9 (${run.killsDuringStartup} before it said it runs), ${run.lines} lines, ` +
        `${counts.filter((c) => c === 1).length} stored once, ${counts.filter((c) => c > 1).length} more than once, ` +
        `${run.attackers.length} attackers, ${run.storeBlocks.length} blocks in the store and ${run.kernelBlocks.length} in the kernel, ` +
        `${run.integrity.length} integrity checks`,
    );
    expect(run.integrity.every((r) => r === 'ok')).toBe(true);
    expect([...run.rowsPerLine].filter(([, c]) => c !== 1)).toEqual([]);
    expect(run.written.filter((l) => !run.rowsPerLine.has(l))).toEqual([]);
    expect(run.notRestored).toEqual([]);
    expect(run.attackers.filter((a) => run.blockRows.get(a) !== 1)).toEqual([]);
    expect(run.storeBlocks).toEqual([...run.attackers].sort());
    expect(run.kernelBlocks).toEqual(run.storeBlocks);
    expect(run.whitelistedBlocked).toEqual([]);
    expect(await lab.reaches('192.0.2.10')).toBe(true);
  });
});
