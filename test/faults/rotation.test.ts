// Rotation torture through the real FileSource: a writer process appends numbered lines while the file is
// renamed and recreated, deleted and recreated, and copied and truncated, kinds following each other fast, and
// while the source is stopped. Every line is read exactly once, except copytruncate's window, which is measured.
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { FileSource } from '../../src/sources/file.js';
import type { Position } from '../../src/sources/source.js';
import { fileSourceTorture } from './file-torture.js';
import { copytruncateLoss, tally, until } from './torture.js';

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

describe('FileSource rotated twice while stopped', () => {
  it('reads the rest of the file it had open and the new one; the file in between is not read (measured)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-twice-'));
    const path = join(dir, 'app.log');
    const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i} x\n`).join('');
    try {
      writeFileSync(path, '');
      const read: string[] = [];
      let source = new FileSource({ path, from: null, log: silentLogger, pollMs: 50 });
      let last: Position | null = null;
      await source.start((batch) => {
        read.push(...batch.map((l) => l.text));
        last = batch[batch.length - 1]!.position;
      });
      appendFileSync(path, lines(0, 10));
      await until(() => read.length === 10, () => 'the first 10 lines');
      await source.stop();
      appendFileSync(path, lines(10, 20)); // after the stop, to the file it had open
      renameSync(path, `${path}.2`);
      writeFileSync(path, lines(20, 30)); // the file in between
      renameSync(path, `${path}.1`);
      writeFileSync(path, lines(30, 40));
      source = new FileSource({ path, from: last, log: silentLogger, pollMs: 50 });
      await source.start((batch) => read.push(...batch.map((l) => l.text)));
      await until(() => read.includes('line 39 x'), () => 'the last line');
      await source.stop();
      const numbers = read.map((t) => Number(t.split(' ')[1]));
      console.log(`rotated twice while stopped: ${numbers.length} of 40 lines read; missing ${[...Array(40).keys()].filter((n) => !numbers.includes(n)).join(',')}`);
      expect(numbers).toEqual([...Array(20).keys(), ...Array.from({ length: 10 }, (_, i) => 30 + i)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
