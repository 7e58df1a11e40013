// Rotation torture through the real daemon (`logwarden run --backend null`): every attack line written is one
// evidence row in the store, across rename, delete and copytruncate rotations, clean stops and SIGKILLs with a
// rotation while the daemon is down; copytruncate's window is measured, not hidden.
import { describe, expect, it } from 'vitest';
import { daemonTorture } from './daemon-torture.js';
import { copytruncateLoss, tally } from './torture.js';

describe('logwarden run under rotation torture', () => {
  it('stores every attack line exactly once through rotations of every kind, stops and crashes', async () => {
    const seed = Date.now() % 1_000_000;
    // about 2,000 lines/s
    const run = await daemonTorture({ rotations: 24, perTick: 10, tickMs: 5, maxGapMs: 30, restartEvery: 6, seed });
    const t = tally(run.written, run.numbers);
    const loss = copytruncateLoss(t.missing, run.cuts);
    console.log(
      `seed ${seed}: ${run.kinds.rename + run.kinds.delete + run.kinds.copytruncate} rotations (${JSON.stringify(run.kinds)}), ` +
        `${run.restarts.term} SIGTERM and ${run.restarts.kill} SIGKILL restarts each with a rename while down, ` +
        `${run.written} lines written, ${t.readOnce} stored once, ${t.doubled.length} doubled, ${t.missing.length} lost at copytruncate ` +
        `(${loss.unreadAtCopy} unread when copied, ${loss.betweenCopyAndTruncate} written between copy and truncate; per copytruncate ${loss.perCut.join(',')})`,
    );
    expect(run.integrity.every((r) => r === 'ok')).toBe(true);
    expect(t.doubled).toEqual([]);
    expect(run.restarts.kill).toBeGreaterThan(0);
    expect(t.readOnce + t.missing.length).toBe(run.written);
  }, 60_000);
});
