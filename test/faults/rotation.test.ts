// Rotation torture through the real FileSource: a writer process appends numbered lines while the file is
// renamed and recreated, deleted and recreated, and copied and truncated, kinds following each other fast, and
// while the source is stopped. Every line is read exactly once, except copytruncate's window between the copy and
// the truncate, which is measured. Then resumes after rotations of every kind made while the source was stopped.
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Logger, silentLogger } from '../../src/log/logger.js';
import { FileSource } from '../../src/sources/file.js';
import type { Position } from '../../src/sources/source.js';
import { fileSourceTorture } from './file-torture.js';
import { collectingLogger } from '../sources/helpers.js';
import { copytruncateLoss, pause, tally, until } from './torture.js';

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
    // every loss is explained by a copytruncate (copytruncateLoss throws otherwise), and only by its window
    // between the copy and the truncate: what was in the copy and not read yet is read from the copy
    expect(t.readOnce + t.missing.length).toBe(run.written);
    expect(loss.unreadAtCopy).toBe(0);
  });
});

/** Lines `line N x` for N in from .. to-1 */
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i} x\n`).join('');
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const A_WEEK_AGO = Date.now() / 1000 - 7 * 86400;

/** Compresses a rotated file as logrotate does: FILE.N.gz written (now), FILE.N removed */
function compress(file: string): void {
  writeFileSync(`${file}.gz`, gzipSync(readFileSync(file)));
  unlinkSync(file);
}

interface Read {
  numbers: number[];
  /** The position handed with each line, by its number: what the daemon commits with that line's effects */
  positions: Map<number, Position>;
}

/** Starts a FileSource at `from`, waits for line `last`, then a little longer (anything doubled would come then). */
async function readUntil(path: string, from: Position | null, last: number, log: Logger = silentLogger, write?: () => void): Promise<Read> {
  const read: Read = { numbers: [], positions: new Map() };
  const source = new FileSource({ path, from, log, pollMs: 50 });
  await source.start((batch) => {
    for (const l of batch) {
      const n = Number(l.text.split(' ')[1]);
      read.numbers.push(n);
      read.positions.set(n, l.position);
    }
  });
  try {
    write?.();
    await until(() => read.numbers.includes(last), () => `line ${last}; read ${read.numbers.join(',')}`);
    await pause(150);
  } finally {
    await source.stop();
  }
  return read;
}

/** A folder with app.log, read up to line 9 by a source then stopped: its stored position */
async function stoppedAfterTen(): Promise<{ dir: string; path: string; stored: Position }> {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-stopped-'));
  const path = join(dir, 'app.log');
  writeFileSync(path, '');
  const first = await readUntil(path, null, 9, silentLogger, () => appendFileSync(path, lines(0, 10)));
  expect(first.numbers).toEqual(range(0, 10));
  return { dir, path, stored: first.positions.get(9)! };
}

describe('FileSource resuming after rotations made while it was stopped', () => {
  it('rotated twice: reads the rest of the stored file, the file in between, then the new one (none lost)', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      appendFileSync(path, lines(10, 20)); // after the stop, to the file it had open
      renameSync(path, `${path}.2`);
      writeFileSync(path, lines(20, 30)); // the file in between
      renameSync(path, `${path}.1`);
      writeFileSync(path, lines(30, 40));
      const log = collectingLogger();
      const { numbers } = await readUntil(path, stored, 39, log);
      console.log(`rotated twice while stopped: ${numbers.length + 10} of 40 lines read; missing ${range(10, 40).filter((n) => !numbers.includes(n)).join(',') || 'none'}`);
      expect(numbers).toEqual(range(10, 40));
      expect(log.at('info').find((r) => r.message.includes('rotated while stopped'))?.fields.files).toEqual(['app.log.2', 'app.log.1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rotated three times the logrotate way (.1 -> .2 -> .3): reads them oldest first; a FILE.7 from last week is not read', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      writeFileSync(`${path}.7`, lines(900, 910));
      utimesSync(`${path}.7`, A_WEEK_AGO, A_WEEK_AGO);
      const logrotate = (next: string) => {
        for (const n of [2, 1]) if (existsSync(`${path}.${n}`)) renameSync(`${path}.${n}`, `${path}.${n + 1}`);
        renameSync(path, `${path}.1`);
        writeFileSync(path, next);
      };
      appendFileSync(path, lines(10, 15));
      logrotate(lines(15, 25));
      logrotate(lines(25, 35));
      logrotate(lines(35, 45));
      const { numbers } = await readUntil(path, stored, 44);
      expect(numbers).toEqual(range(10, 45));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with logrotate's extension directive (app.1.log, app-YYYYMMDD.log.gz): reads them in the order they were written", async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    const stem = path.slice(0, -'.log'.length);
    try {
      appendFileSync(path, lines(10, 15));
      renameSync(path, `${stem}.2.log`);
      writeFileSync(path, lines(15, 25));
      renameSync(path, `${stem}.1.log`);
      writeFileSync(path, lines(25, 30));
      compress(`${stem}.2.log`);
      writeFileSync(join(dir, 'app.1.txt'), lines(700, 705)); // another extension: not a rotated name
      const { numbers } = await readUntil(path, stored, 29);
      expect(numbers).toEqual(range(10, 30));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with dateext names (FILE-YYYYMMDD, FILE-YYYYMMDD-HH): reads them in the order they were written', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      writeFileSync(`${path}-20250101`, lines(800, 805)); // last year's
      utimesSync(`${path}-20250101`, A_WEEK_AGO, A_WEEK_AGO);
      appendFileSync(path, lines(10, 15));
      renameSync(path, `${path}-20261201-22`);
      writeFileSync(path, lines(15, 25));
      renameSync(path, `${path}-20261201-23`);
      writeFileSync(path, lines(25, 35));
      renameSync(path, `${path}-20261202`);
      writeFileSync(path, lines(35, 40));
      writeFileSync(join(dir, 'app.log.bak-notes'), lines(700, 705)); // not a rotated name
      const { numbers } = await readUntil(path, stored, 39);
      expect(numbers).toEqual(range(10, 40));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a .gz file written after the stored one is read in its place (by name, whatever its time)', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      appendFileSync(path, lines(10, 15));
      renameSync(path, `${path}.2`);
      writeFileSync(path, lines(15, 25));
      renameSync(path, `${path}.1`);
      writeFileSync(path, lines(25, 30));
      // the middle file compressed by logrotate (no delaycompress), a week later than the time it says
      compress(`${path}.1`);
      utimesSync(`${path}.1.gz`, A_WEEK_AGO, A_WEEK_AGO);
      const log = collectingLogger();
      const { numbers } = await readUntil(path, stored, 29, log);
      expect(numbers).toEqual(range(10, 30));
      expect(log.at('warn')).toEqual([]);
      expect(log.at('info').find((r) => r.message.includes('rotated while stopped'))?.fields.files).toEqual(['app.log.2', 'app.log.1.gz']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a rotated file compressed other than by gzip is not read, and a warning names it; the .gz after it is read', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      appendFileSync(path, lines(10, 15));
      renameSync(path, `${path}.3`);
      writeFileSync(`${path}.2.xz`, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])); // lines 15-24, in a form not read
      writeFileSync(`${path}.1.gz`, gzipSync(lines(25, 35)));
      writeFileSync(path, lines(35, 40));
      const log = collectingLogger();
      const { numbers } = await readUntil(path, stored, 39, log);
      expect(numbers).toEqual([...range(10, 15), ...range(25, 40)]);
      const warning = log.at('warn').find((r) => r.message.includes('compressed'));
      expect(warning?.message).toMatch(/^1 rotated file\(s\) written after the stored position are compressed other than by gzip/);
      expect(warning?.fields.files).toEqual(['app.log.2.xz']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compress without delaycompress: the stored file is now .1.gz; its rest is read, then the new file; the older .2.gz is not', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      writeFileSync(`${path}.1.gz`, gzipSync(lines(900, 910))); // last rotation's, shifted to .2.gz below
      appendFileSync(path, lines(10, 20)); // after the stop, to the file it had open
      renameSync(`${path}.1.gz`, `${path}.2.gz`);
      renameSync(path, `${path}.1`);
      writeFileSync(path, lines(20, 30));
      compress(`${path}.1`);
      const log = collectingLogger();
      const read = await readUntil(path, stored, 29, log);
      expect(read.numbers).toEqual(range(10, 30));
      expect(log.at('warn')).toEqual([]);
      // the lines of the .gz file carry its inode and their offsets in its text, like a plain file's
      const text = lines(0, 20);
      expect(read.positions.get(14)).toMatchObject({ path, ino: statSync(`${path}.1.gz`).ino, offset: text.indexOf('line 15 x') });
      expect(read.positions.get(19)).toMatchObject({ ino: statSync(`${path}.1.gz`).ino, offset: text.length, fingerprint: stored.kind === 'file' ? stored.fingerprint : null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('delaycompress, rotated twice: the stored file is now .2.gz; its rest is read, then .1 and the new file', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      writeFileSync(`${path}.7`, lines(900, 910)); // an old plain one: older by name
      writeFileSync(`${path}.3.gz`, gzipSync(lines(910, 920))); // an old compressed one, made after the stored position
      appendFileSync(path, lines(10, 15));
      renameSync(path, `${path}.1`);
      writeFileSync(path, lines(15, 25));
      renameSync(`${path}.1`, `${path}.2`);
      renameSync(path, `${path}.1`);
      writeFileSync(path, lines(25, 30));
      // compressed last, as logrotate does: the .gz file's time is now, after .1's last line
      compress(`${path}.2`);
      const log = collectingLogger();
      const { numbers } = await readUntil(path, stored, 29, log);
      expect(numbers).toEqual(range(10, 30));
      expect(log.at('warn')).toEqual([]);
      expect(log.at('info').find((r) => r.message.includes('rotated while stopped'))?.fields.files).toEqual(['app.log.2.gz', 'app.log.1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('delaycompress, rotated once: .1 is read, the .2.gz made by the same rotation (older lines) is not', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      writeFileSync(`${path}.1`, lines(900, 910)); // the previous rotation's, read before the stop
      utimesSync(`${path}.1`, A_WEEK_AGO, A_WEEK_AGO);
      appendFileSync(path, lines(10, 15));
      renameSync(`${path}.1`, `${path}.2`);
      renameSync(path, `${path}.1`);
      writeFileSync(path, lines(15, 25));
      compress(`${path}.2`); // newer by time than .1
      const { numbers } = await readUntil(path, stored, 24);
      expect(numbers).toEqual(range(10, 25));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a crash half-way through a .gz file resumes at the line reached in it: nothing read twice, nothing lost', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      // enough lines for many zlib chunks
      appendFileSync(path, lines(10, 30_000));
      renameSync(path, `${path}.2`);
      compress(`${path}.2`);
      writeFileSync(`${path}.1.gz`, gzipSync(lines(30_000, 30_010)));
      writeFileSync(path, lines(30_010, 30_020));
      // stopped (as if killed) once line 15,000 is read: the last line handed over is the last one committed
      const first: number[] = [];
      let last: Position | null = null;
      const source = new FileSource({ path, from: stored, log: silentLogger, pollMs: 50 });
      await source.start((batch) => {
        for (const l of batch) {
          first.push(Number(l.text.split(' ')[1]));
          last = l.position;
        }
        if (first.at(-1)! >= 15_000) void source.stop();
      });
      await source.stop();
      expect(first.at(-1)).toBeLessThan(30_000);
      expect(first).toEqual(range(10, first.at(-1)! + 1));
      expect(last).toMatchObject({ ino: statSync(`${path}.2.gz`).ino });
      const second = await readUntil(path, last, 30_019);
      expect(second.numbers).toEqual(range(first.at(-1)! + 1, 30_020));
      // and just after the .gz file's last line: the next .gz file, then the file at the path
      const third = await readUntil(path, second.positions.get(29_999)!, 30_019);
      expect(third.numbers).toEqual(range(30_000, 30_020));
      const fourth = await readUntil(path, second.positions.get(30_009)!, 30_019);
      expect(fourth.numbers).toEqual(range(30_010, 30_020));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a damaged .gz file: what decompresses is read, a warning names it, the files after it are read', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      appendFileSync(path, lines(10, 5000));
      renameSync(path, `${path}.3`);
      compress(`${path}.3`);
      // cut in the middle, as by a crash while logrotate compressed it
      const gz = readFileSync(`${path}.3.gz`);
      writeFileSync(`${path}.3.gz`, gz.subarray(0, gz.length >> 1));
      writeFileSync(`${path}.2.gz`, 'not gzip at all\n');
      writeFileSync(`${path}.1.gz`, gzipSync(lines(5000, 5010)));
      writeFileSync(path, lines(5010, 5020));
      const log = collectingLogger();
      const { numbers } = await readUntil(path, stored, 5019, log);
      const cut = numbers.indexOf(5000);
      expect(cut).toBeGreaterThan(1000);
      // a prefix of the damaged file's lines, whole ones only, then all of the others
      expect(numbers).toEqual([...range(10, 10 + cut), ...range(5000, 5020)]);
      expect(log.at('warn').map((r) => [r.fields.file, r.message])).toEqual([
        ['app.log.3.gz', expect.stringMatching(/^compressed rotated file is damaged/)],
        ['app.log.2.gz', expect.stringMatching(/^compressed rotated file is damaged/)],
      ]);
      // a restart after it reads none of it again
      const again = await readUntil(path, stored, 5019);
      expect(again.numbers).toEqual(numbers);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a .gz file whose text is more than one resume reads (a bomb): read up to the bound, the rest lost, loudly', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      appendFileSync(path, lines(10, 1000));
      renameSync(path, `${path}.2`);
      compress(`${path}.2`);
      writeFileSync(`${path}.1`, lines(1000, 1010));
      writeFileSync(path, lines(1010, 1020));
      const log = collectingLogger();
      const read: number[] = [];
      const maxRotatedBytes = 4000;
      const source = new FileSource({ path, from: stored, log, pollMs: 50, maxRotatedBytes });
      await source.start((batch) => read.push(...batch.map((l) => Number(l.text.split(' ')[1]))));
      try {
        await until(() => read.includes(1019), () => `line 1019; read ${read.join(',')}`);
      } finally {
        await source.stop();
      }
      // the bound counts the text from the file's start; the plain .1 keeps its share
      const cut = read.indexOf(1000);
      expect(lines(0, 10 + cut).length).toBeLessThanOrEqual(maxRotatedBytes - statSync(`${path}.1`).size);
      expect(lines(0, 11 + cut).length).toBeGreaterThan(maxRotatedBytes - statSync(`${path}.1`).size);
      expect(read).toEqual([...range(10, 10 + cut), ...range(1000, 1020)]);
      const warning = log.at('warn').find((r) => r.fields.file === 'app.log.2.gz');
      expect(warning?.message).toMatch(/more than one resume reads: the rest of it is lost/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a crash half-way through the rotated files resumes where it was: nothing read twice, nothing lost', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      appendFileSync(path, lines(10, 15));
      renameSync(path, `${path}.2`);
      writeFileSync(path, lines(15, 25));
      renameSync(path, `${path}.1`);
      writeFileSync(path, lines(25, 35));
      const second = await readUntil(path, stored, 34);
      expect(second.numbers).toEqual(range(10, 35));
      // killed just after line 19 (in the middle file) was committed, with its position
      const third = await readUntil(path, second.positions.get(19)!, 34);
      expect(third.numbers).toEqual(range(20, 35));
      // and just after the middle file's last line
      const fourth = await readUntil(path, second.positions.get(24)!, 34);
      expect(fourth.numbers).toEqual(range(25, 35));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('copytruncate while stopped: the rest of the copy is read first, then the truncated file from its start', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      writeFileSync(`${path}.2`, lines(600, 700)); // an older copy: another first line
      utimesSync(`${path}.2`, A_WEEK_AGO, A_WEEK_AGO);
      appendFileSync(path, lines(10, 20));
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, lines(20, 30));
      const log = collectingLogger();
      const second = await readUntil(path, stored, 29, log);
      expect(second.numbers).toEqual(range(10, 30));
      expect(log.at('warn')).toEqual([]);
      // a crash inside the copy resumes inside the copy
      const third = await readUntil(path, second.positions.get(14)!, 29);
      expect(third.numbers).toEqual(range(15, 30));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('copytruncate while stopped, the copy compressed at once (no delaycompress): the rest is read from the .gz copy', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      appendFileSync(path, lines(10, 20));
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, lines(20, 30));
      compress(`${path}.1`);
      const log = collectingLogger();
      const { numbers } = await readUntil(path, stored, 29, log);
      expect(numbers).toEqual(range(10, 30));
      expect(log.at('warn')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('copytruncate while stopped and no copy left: read from the start, and the loss is warned about', async () => {
    const { dir, path, stored } = await stoppedAfterTen();
    try {
      appendFileSync(path, lines(10, 20));
      truncateSync(path, 0);
      appendFileSync(path, lines(20, 30));
      const log = collectingLogger();
      const { numbers } = await readUntil(path, stored, 29, log);
      expect(numbers).toEqual(range(20, 30));
      expect(log.at('warn').some((r) => r.message.includes('no copy of it was found'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('copytruncate while running, before the source could read the last lines: they are read from the copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-live-copy-'));
    const path = join(dir, 'app.log');
    writeFileSync(path, '');
    try {
      const source = new FileSource({ path, from: null, log: silentLogger, pollMs: 50 });
      const read: Read = { numbers: [], positions: new Map() };
      await source.start((batch) => {
        for (const l of batch) {
          const n = Number(l.text.split(' ')[1]);
          read.numbers.push(n);
          read.positions.set(n, l.position);
        }
      });
      try {
        appendFileSync(path, lines(0, 5));
        await until(() => read.numbers.includes(4), () => 'line 4');
        // in one turn of the event loop: the source cannot read between these
        appendFileSync(path, lines(5, 20));
        copyFileSync(path, `${path}.1`);
        truncateSync(path, 0);
        appendFileSync(path, lines(20, 30));
        await until(() => read.numbers.includes(29), () => `line 29; read ${read.numbers.join(',')}`);
        await pause(150);
      } finally {
        await source.stop();
      }
      expect(read.numbers).toEqual(range(0, 30));
      const copyPosition = read.positions.get(9)!;
      expect(copyPosition).toMatchObject({ ino: statSync(`${path}.1`).ino });
      // a crash while it read the copy resumes there
      const again = await readUntil(path, copyPosition, 29);
      expect(again.numbers).toEqual(range(10, 30));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('copytruncate while running before the first line was complete: no fragment is read, the loss is warned about', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-live-partial-'));
    const path = join(dir, 'app.log');
    const texts: string[] = [];
    const log = collectingLogger();
    // no file yet: when it comes, it is read from its start
    const source = new FileSource({ path, from: null, log, pollMs: 50 });
    await source.start((batch) => texts.push(...batch.map((l) => l.text)));
    try {
      writeFileSync(path, 'line 0 x');
      await until(() => source.status().state === 'reading' && source.status().lagBytes === 8, () => 'the partial first line held');
      await pause(100);
      appendFileSync(path, `\n${lines(1, 10)}`);
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, lines(20, 30));
      await until(() => texts.includes('line 29 x'), () => `line 29; read ${JSON.stringify(texts)}`);
      await pause(150);
    } finally {
      await source.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(texts).toEqual(range(20, 30).map((n) => `line ${n} x`));
    expect(log.at('warn').some((r) => r.message.includes('no copy of it found'))).toBe(true);
  });

  it('copytruncate while running, files starting with the same header line: the copy is told by its bytes before the offset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-live-header-'));
    const path = join(dir, 'app.log');
    const header = '# app log v1\n';
    writeFileSync(path, '');
    // an older file with the same first line, larger than the offset: not the copy
    writeFileSync(`${path}.2`, header + lines(500, 700));
    const numbers: number[] = [];
    const source = new FileSource({ path, from: null, log: silentLogger, pollMs: 50 });
    await source.start((batch) => {
      for (const l of batch) if (l.text.startsWith('line ')) numbers.push(Number(l.text.split(' ')[1]));
    });
    try {
      appendFileSync(path, header + lines(0, 5));
      await until(() => numbers.includes(4), () => 'line 4');
      appendFileSync(path, lines(5, 20));
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      appendFileSync(path, header + lines(20, 30));
      await until(() => numbers.includes(29), () => `line 29; read ${numbers.join(',')}`);
      await pause(150);
    } finally {
      await source.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(numbers).toEqual(range(0, 30));
  });
});
