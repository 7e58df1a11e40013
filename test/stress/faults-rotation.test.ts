// The long rotation torture (npm run test:stress): hundreds of rotations through FileSource and the daemon, and
// copytruncate's window measured against the size of the file copied.
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { FileSource } from '../../src/sources/file.js';
import { daemonTorture } from '../faults/daemon-torture.js';
import { fileSourceTorture } from '../faults/file-torture.js';
import { copytruncateLoss, numberOf, pause, rotate, tally, until, Writer } from '../faults/torture.js';

describe('rotation torture, long', () => {
  it('FileSource: 600 rotations at about 10,000 lines/s, every line once but the copy-to-truncate windows', async () => {
    const seed = Date.now() % 1_000_000;
    const run = await fileSourceTorture({ rotations: 600, perTick: 20, tickMs: 2, maxGapMs: 20, restartEvery: 9, seed });
    const t = tally(run.written, run.numbers);
    const loss = copytruncateLoss(t.missing, run.cuts);
    console.log(
      `seed ${seed}: ${JSON.stringify(run.kinds)} rotations (${run.whileStopped} while stopped), ${run.written} lines, ${t.readOnce} read once, ` +
        `${t.doubled.length} doubled, ${t.missing.length} lost at ${run.cuts.length} copytruncates (${loss.unreadAtCopy} unread when copied, ` +
        `${loss.betweenCopyAndTruncate} written between copy and truncate; at most ${Math.max(...loss.perCut)} per copytruncate)`,
    );
    expect(t.doubled).toEqual([]);
    expect(t.readOnce + t.missing.length).toBe(run.written);
    // what was in the copy and not read yet is read from the copy: only the copy-to-truncate window is lost
    expect(loss.unreadAtCopy).toBe(0);
  });

  it('logwarden run: 150 rotations with 25 restarts (SIGTERM and SIGKILL), every line once but the copy-to-truncate windows', async () => {
    const seed = Date.now() % 1_000_000;
    const run = await daemonTorture({ rotations: 150, perTick: 20, tickMs: 5, maxGapMs: 30, restartEvery: 6, seed });
    const t = tally(run.written, run.numbers);
    const loss = copytruncateLoss(t.missing, run.cuts);
    console.log(
      `seed ${seed}: ${JSON.stringify(run.kinds)} rotations, ${run.restarts.term} SIGTERM and ${run.restarts.kill} SIGKILL restarts, ${run.written} lines, ` +
        `${t.readOnce} stored once, ${t.doubled.length} doubled, ${t.missing.length} lost at ${run.cuts.length} copytruncates ` +
        `(${loss.unreadAtCopy} unread when copied, ${loss.betweenCopyAndTruncate} written between copy and truncate)`,
    );
    expect(run.integrity.every((r) => r === 'ok')).toBe(true);
    expect(t.doubled).toEqual([]);
    expect(t.readOnce + t.missing.length).toBe(run.written);
    // what was in the copy and not read yet is read from the copy: only the copy-to-truncate window is lost
    expect(loss.unreadAtCopy).toBe(0);
  });

  it('copytruncate: the lines lost between the copy and the truncate grow with the size of the file copied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-copytruncate-'));
    const path = join(dir, 'app.log');
    writeFileSync(path, '');
    const numbers: number[] = [];
    let newest = -1;
    const source = new FileSource({ path, from: null, log: silentLogger, pollMs: 50 });
    await source.start((lines) => {
      for (const l of lines) {
        const n = numberOf(l.text, 'plain');
        if (n === null) continue; // the filler that makes the file big
        numbers.push(n);
        newest = Math.max(newest, n);
      }
    });
    // 20,000 lines/s
    const writer = new Writer(path, { format: 'plain', perTick: 20, tickMs: 1 });
    const results: string[] = [];
    try {
      for (const mb of [1, 8, 32, 128]) {
        for (let i = 0; i < 3; i++) {
          appendFileSync(path, `fill ${'f'.repeat(1018)}\n`.repeat(mb * 1024));
          const size = statSync(path).size;
          await until(() => newest >= 0 && numbers.length > 0, () => 'a first line');
          const cut = (await rotate('copytruncate', path, join(dir, 'app.log.1'), writer, 'plain'))!;
          const { written } = await writer.count();
          await until(() => newest >= written, () => `line ${written} after the copytruncate`, 30_000);
          const lostBetween = [];
          const seen = new Set(numbers);
          for (let n = cut.last + 1; n < written && !seen.has(n); n++) lostBetween.push(n);
          results.push(`${(size / 1e6).toFixed(0)} MB: copy+truncate ${cut.windowMs.toFixed(1)} ms, ${lostBetween.length} lines lost`);
          rmSync(join(dir, 'app.log.1'));
          await pause(50);
        }
      }
      console.log(`copytruncate at 20,000 lines/s:\n${results.join('\n')}`);
      const written = await writer.stop();
      const t = tally(written, numbers);
      expect(t.doubled).toEqual([]);
    } finally {
      writer.kill();
      await source.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
