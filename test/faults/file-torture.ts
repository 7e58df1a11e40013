/**
 * The rotation torture through the real FileSource: a writer process appends numbered lines, the file is rotated
 * `rotations` times in every way, and the source is stopped and started again (from its position) with
 * rotations in between. Returns what was read, for the exactly-once checks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../../src/sources/file.js';
import { silentLogger } from '../../src/log/logger.js';
import type { Position, SourceLine } from '../../src/sources/source.js';
import { type CopyTruncate, numberOf, pause, type Rotation, rotate, rotationPlan, seeded, until, Writer } from './torture.js';

export interface FileTortureOptions {
  rotations: number;
  /** The writer: perTick lines every tickMs ms */
  perTick: number;
  tickMs: number;
  /** Once the source reads the new file, the next rotation comes within 0 .. maxGapMs ms */
  maxGapMs: number;
  /** The source is stopped (and rotated under) after every this many rotations */
  restartEvery: number;
  seed: number;
}

export interface FileTortureResult {
  written: number;
  numbers: number[];
  cuts: CopyTruncate[];
  kinds: Record<Rotation, number>;
  restarts: number;
  /** Rotations made while the source was stopped */
  whileStopped: number;
}

export async function fileSourceTorture(o: FileTortureOptions): Promise<FileTortureResult> {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-rotation-'));
  const path = join(dir, 'app.log');
  writeFileSync(path, '');
  const random = seeded(o.seed);
  const numbers: number[] = [];
  let newest = -1;
  /** The position after the last line handed over: what the daemon commits, and resumes from */
  let lastPosition: Position | null = null;
  const onLines = (lines: SourceLine[]) => {
    lastPosition = lines[lines.length - 1]?.position ?? lastPosition;
    for (const l of lines) {
      const n = numberOf(l.text, 'plain');
      if (n === null) throw new Error(`not a line of the writer: ${JSON.stringify(l.text)}`);
      numbers.push(n);
      newest = Math.max(newest, n);
    }
  };
  const open = async (from: Position | null) => {
    const s = new FileSource({ path, from, log: silentLogger, pollMs: 50 });
    await s.start(onLines);
    lastPosition ??= s.position();
    return s;
  };
  let source = await open(null);
  const writer = new Writer(path, { format: 'plain', perTick: o.perTick, tickMs: o.tickMs });
  const cuts: CopyTruncate[] = [];
  const kinds: Record<Rotation, number> = { rename: 0, delete: 0, copytruncate: 0 };
  let restarts = 0;
  let whileStopped = 0;
  let rotated = 0;
  try {
    for (const [i, planned] of rotationPlan(o.rotations, random).entries()) {
      await pause(Math.floor(random() * (o.maxGapMs + 1)));
      // stopped, then renamed (logrotate's default) while nobody reads: found again by its inode at start
      const stopNow = o.restartEvery > 0 && i % o.restartEvery === o.restartEvery - 1;
      const kind = stopNow ? 'rename' : planned;
      if (stopNow) {
        await source.stop();
        restarts++;
        whileStopped++;
      }
      const cut = await rotate(kind, path, join(dir, `app.log.${++rotated}`), writer, 'plain');
      kinds[kind]++;
      if (cut) cuts.push(cut);
      // the first line only the new file holds: the next rotation waits until the source has read it, as a
      // file rotated away before the tailer ever opened it cannot be followed by its path
      const { written } = await writer.count();
      if (stopNow) source = await open(lastPosition);
      await until(() => newest >= written, () => `line ${written} after rotation ${i + 1} (${kind}); newest read ${newest}`);
    }
    const written = await writer.stop();
    await until(() => newest >= written - 1, () => `the last line ${written - 1}; newest read ${newest}`);
    // anything doubled would come now
    await pause(150);
    return { written, numbers, cuts, kinds, restarts, whileStopped };
  } finally {
    writer.kill();
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
