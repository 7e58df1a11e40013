// Rotation torture through the real FileSource: a writer process appends numbered lines while the file is
// renamed and recreated, deleted and recreated, and copied and truncated, kinds following each other fast, and
// while the source is stopped. Every line is read exactly once, except copytruncate's window, which is measured.
import { describe, expect, it } from 'vitest';
import { fileSourceTorture } from './file-torture.js';
import { copytruncateLoss, tally } from './torture.js';

describe('FileSource under rotation torture', () => {
  it('reads every line exactly once through rename, delete and copytruncate rotations and restarts', async () => {
    const seed = Date.now() % 1_000_000;
    // about 5,000 lines/s
    const run = await fileSourceTorture({ rotations: 60, perTick: 10, tickMs: 2, maxGapMs: 30, restartEvery: 7, seed });
    const t = tally(run.written, run.numbers);
    const loss = copytruncateLoss(t.missing, run.cuts);
    const windowMs = run.cuts.map((c) => c.windowMs);
    console.log(
      `seed ${seed}: ${run.kinds.rename + run.kinds.delete + run.kinds.copytruncate} rotations (${JSON.stringify(run.kinds)}; ${run.whileStopped} while stopped), ` +
        `${run.written} lines written, ${t.readOnce} read once, ${t.doubled.length} doubled, ${t.missing.length} lost at copytruncate ` +
        `(${loss.unreadAtCopy} unread when copied, ${loss.betweenCopyAndTruncate} written between copy and truncate; per copytruncate ${loss.perCut.join(',')}; ` +
        `copy-to-truncate ${Math.max(...windowMs).toFixed(2)} ms at most)`,
    );
    expect(t.doubled).toEqual([]);
    expect(run.kinds.copytruncate).toBeGreaterThan(0);
    expect(run.whileStopped).toBeGreaterThan(0);
    // every loss is explained by a copytruncate (copytruncateLoss throws otherwise)
    expect(t.readOnce + t.missing.length).toBe(run.written);
  });
});
