import { appendFileSync, closeSync, copyFileSync, openSync, mkdirSync, renameSync, rmdirSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSource } from '../../src/sources/file.js';
import type { Position } from '../../src/sources/source.js';
import { collect, collectingLogger, numbered, tempDir, waitFor } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
const sources: FileSource[] = [];

beforeEach(() => {
  tmp = tempDir('file');
});
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  tmp.remove();
});

function tail(path: string, from: Position | null = null, log = collectingLogger()) {
  const source = new FileSource({ path, from, log, pollMs: 100 });
  sources.push(source);
  return source;
}

/** Every expected text exactly once, in order. */
function expectExactly(texts: string[], prefix: string, count: number) {
  expect(texts).toEqual(numbered(prefix, 0, count).trimEnd().split('\n'));
}

describe('FileSource', () => {
  it('starts at the end of an existing file the first time, then reads what is appended', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, numbered('old', 0, 5));
    const source = tail(path);
    const got = await collect(source);
    appendFileSync(path, numbered('new', 0, 3));
    await waitFor(() => got.lines.length >= 3, '3 new lines');
    expectExactly(got.texts(), 'new', 3);
    const size = statSync(path).size;
    expect(got.last()).toMatchObject({ kind: 'file', path, ino: statSync(path).ino, offset: size });
    expect(got.lines.map((l) => l.lineNo)).toEqual([1, 2, 3]);
    expect(source.status()).toMatchObject({ kind: 'file', state: 'reading', lines: 3, errors: 0, lagBytes: 0 });
  });

  it('reads a line appended right after another at once, not at the next poll', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    // no poll within the test: only file events can wake the tailer
    const source = new FileSource({ path, from: null, log: collectingLogger(), pollMs: 60_000 });
    sources.push(source);
    const got = await collect(source);
    for (let i = 1; i <= 5; i++) {
      appendFileSync(path, `line ${i}\n`);
      await waitFor(() => got.lines.length >= i, `line ${i}`, 1000);
      await new Promise((r) => setTimeout(r, 10)); // within chokidar's 50 ms, which drops such a 'change'
    }
    expect(got.texts()).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
  });

  it('does not read the tail of a line it started inside of', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, 'complete\nhalf of a li');
    const got = await collect(tail(path));
    appendFileSync(path, 'ne\nnext\n');
    await waitFor(() => got.lines.length >= 1, 'one line');
    await new Promise((r) => setTimeout(r, 150));
    expect(got.texts()).toEqual(['next']);
  });

  it('holds a partial line until its newline comes, and positions never point inside a line', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const got = await collect(tail(path));
    appendFileSync(path, 'first\nsecond half');
    await waitFor(() => got.lines.length >= 1, 'first line');
    await new Promise((r) => setTimeout(r, 250));
    expect(got.texts()).toEqual(['first']);
    expect(got.last()).toMatchObject({ offset: 6 });
    appendFileSync(path, ' done\r\n');
    await waitFor(() => got.lines.length >= 2, 'completed line');
    expect(got.texts()).toEqual(['first', 'second half done']);
    expect(got.last()).toMatchObject({ offset: statSync(path).size });
  });

  it('resumes exactly at a stored position: lines written while stopped are read, none twice', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const first = tail(path);
    const got1 = await collect(first);
    appendFileSync(path, numbered('line', 0, 4) + 'partial');
    await waitFor(() => got1.lines.length >= 4, '4 lines');
    await first.stop();
    const stored = got1.last();
    appendFileSync(path, ' line\n' + numbered('line', 5, 3));
    const got2 = await collect(tail(path, stored));
    await waitFor(() => got2.lines.length >= 4, 'lines written while stopped');
    expect([...got1.texts(), ...got2.texts()]).toEqual([...numbered('line', 0, 4).trimEnd().split('\n'), 'partial line', 'line 5', 'line 6', 'line 7']);
  });

  it('waits for a file that does not exist yet and reads it from its start', async () => {
    const path = tmp.path('later.log');
    const source = tail(path);
    const got = await collect(source);
    expect(source.status()).toMatchObject({ state: 'waiting', lagBytes: null });
    writeFileSync(path, numbered('l', 0, 3));
    await waitFor(() => got.lines.length >= 3, 'lines of the new file');
    expectExactly(got.texts(), 'l', 3);
    expect(source.status().state).toBe('reading');
  });

  it('counts every line through rename+create, including lines the writer still adds to the renamed file', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const got = await collect(tail(path));
    appendFileSync(path, numbered('l', 0, 100));
    await waitFor(() => got.lines.length >= 100, 'before rotation');
    renameSync(path, `${path}.1`);
    writeFileSync(path, '');
    // rsyslog keeps writing to the renamed file until logrotate's HUP
    appendFileSync(`${path}.1`, numbered('l', 100, 50));
    await new Promise((r) => setTimeout(r, 250));
    appendFileSync(path, numbered('l', 150, 50));
    await waitFor(() => got.lines.length >= 200, 'after rotation');
    await new Promise((r) => setTimeout(r, 150));
    expectExactly(got.texts(), 'l', 200);
    expect(got.last()).toMatchObject({ ino: statSync(path).ino, offset: statSync(path).size });
  });

  it('counts every line through copytruncate', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const got = await collect(tail(path));
    appendFileSync(path, numbered('l', 0, 60));
    await waitFor(() => got.lines.length >= 60, 'before truncation');
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, numbered('l', 60, 5));
    await waitFor(() => got.lines.length >= 65, 'after truncation');
    await new Promise((r) => setTimeout(r, 150));
    expectExactly(got.texts(), 'l', 65);
  });

  it('notices a copytruncate even when the file has grown past the old offset again (by its first line)', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const got = await collect(tail(path));
    appendFileSync(path, numbered('a', 0, 3));
    await waitFor(() => got.lines.length >= 3, 'before');
    const source = sources[0]!;
    await source.stop(); // hold the tailer still, so the rewrite cannot be seen half-way
    const stored = got.last();
    writeFileSync(path, numbered('b', 0, 10)); // same inode, rewritten from 0, now longer
    const got2 = await collect(tail(path, stored));
    await waitFor(() => got2.lines.length >= 10, 'rewritten file');
    expectExactly(got2.texts(), 'b', 10);
  });

  it('counts every line through delete+recreate', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const got = await collect(tail(path));
    appendFileSync(path, numbered('l', 0, 10));
    await waitFor(() => got.lines.length >= 10, 'before delete');
    unlinkSync(path);
    await new Promise((r) => setTimeout(r, 150));
    writeFileSync(path, numbered('l', 10, 10));
    await waitFor(() => got.lines.length >= 20, 'after recreate');
    expectExactly(got.texts(), 'l', 20);
  });

  it('counts every line through several rotations in a row', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const got = await collect(tail(path));
    let n = 0;
    for (let round = 0; round < 5; round++) {
      appendFileSync(path, numbered('l', n, 20));
      n += 20;
      await waitFor(() => got.lines.length >= n, `round ${round}`);
      if (round % 2 === 0) {
        renameSync(path, `${path}.${round}`);
        writeFileSync(path, numbered('l', n, 1));
      } else {
        copyFileSync(path, `${path}.${round}`);
        truncateSync(path, 0);
        appendFileSync(path, numbered('l', n, 1));
      }
      n += 1;
      await waitFor(() => got.lines.length >= n, `after rotation ${round}`);
    }
    expectExactly(got.texts(), 'l', n);
  });

  it('reads the rest of a file rotated while stopped, then the new file from its start', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const first = tail(path);
    const got1 = await collect(first);
    appendFileSync(path, numbered('l', 0, 5));
    await waitFor(() => got1.lines.length >= 5, 'before stop');
    await first.stop();
    appendFileSync(path, numbered('l', 5, 5));
    renameSync(path, `${path}.1`);
    writeFileSync(path, numbered('l', 10, 5));
    const log = collectingLogger();
    const got2 = await collect(tail(path, got1.last(), log));
    await waitFor(() => got2.lines.length >= 10, 'old rest and new file');
    expectExactly([...got1.texts(), ...got2.texts()], 'l', 15);
    expect(log.records.some((r) => r.message.includes('rotated while stopped'))).toBe(true);
    // A position inside the old file resumes there again after another stop: none lost, none twice.
    expect(got2.lines[4]!.position).toMatchObject({ ino: statSync(`${path}.1`).ino });
    const got3 = await collect(tail(path, got2.lines[2]!.position));
    await waitFor(() => got3.lines.length >= 7, 'resume inside the rotated file');
    expect(got3.texts()).toEqual(numbered('l', 8, 7).trimEnd().split('\n'));
  });

  it('says loudly when the rotated file is gone, and reads the new file from its start', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const first = tail(path);
    const got1 = await collect(first);
    appendFileSync(path, numbered('l', 0, 3));
    await waitFor(() => got1.lines.length >= 3, 'before stop');
    await first.stop();
    // Held open, the deleted file keeps its inode: the new file cannot reuse it
    const held = openSync(path, 'r');
    try {
      unlinkSync(path);
      writeFileSync(path, numbered('n', 0, 2));
      const log = collectingLogger();
      const got = await collect(tail(path, got1.last(), log));
      await waitFor(() => got.lines.length >= 2, 'new file');
      expectExactly(got.texts(), 'n', 2);
      expect(log.at('warn').some((r) => r.message.includes('old file is gone'))).toBe(true);
    } finally {
      closeSync(held);
    }
  });

  it('tails two files at once', async () => {
    const a = tmp.path('a.log');
    const b = tmp.path('b.log');
    writeFileSync(a, '');
    writeFileSync(b, '');
    const gotA = await collect(tail(a));
    const gotB = await collect(tail(b));
    for (let i = 0; i < 10; i++) {
      appendFileSync(a, `a ${i}\n`);
      appendFileSync(b, `b ${i}\n`);
    }
    await waitFor(() => gotA.lines.length >= 10 && gotB.lines.length >= 10, 'both files');
    expectExactly(gotA.texts(), 'a', 10);
    expectExactly(gotB.texts(), 'b', 10);
    expect(gotA.lines.every((l) => l.source === a)).toBe(true);
  });

  it('reads a large backlog in bounded steps, in order, and reports the lag', async () => {
    const path = tmp.path('big.log');
    writeFileSync(path, '');
    const source = new FileSource({ path, from: null, log: collectingLogger(), pollMs: 100, maxBytesPerWake: 4096 });
    sources.push(source);
    const batches: number[] = [];
    const texts: string[] = [];
    await source.start((lines) => {
      batches.push(lines.length);
      texts.push(...lines.map((l) => l.text));
    });
    appendFileSync(path, numbered('l', 0, 5000));
    await waitFor(() => texts.length >= 5000, 'backlog');
    expectExactly(texts, 'l', 5000);
    expect(batches.length).toBeGreaterThanOrEqual(Math.floor(statSync(path).size / 4096));
    expect(source.status().lagBytes).toBe(0);
  });

  it('skips an overlong line whole, and drops NULs', async () => {
    const path = tmp.path('auth.log');
    writeFileSync(path, '');
    const log = collectingLogger();
    const got = await collect(tail(path, null, log));
    appendFileSync(path, `${'x'.repeat(100_000)}\n\0\0ok\n`);
    await waitFor(() => got.lines.length >= 1, 'the short line');
    expect(got.texts()).toEqual(['ok']);
    expect(got.lines[0]!.lineNo).toBe(2);
    expect(log.at('warn').some((r) => r.message.includes('overlong'))).toBe(true);
  });

  it('reports an unreadable file at error level, counts it, retries, and reads it once it is fixed', async () => {
    const path = tmp.path('auth.log');
    mkdirSync(path); // reading a directory fails with EISDIR (root reads through chmod 000, so EACCES cannot be made here)
    const log = collectingLogger();
    const source = tail(path, null, log);
    const got = await collect(source);
    await waitFor(() => source.status().errors >= 1, 'the error');
    await new Promise((r) => setTimeout(r, 300));
    expect(source.status()).toMatchObject({ errors: 1, state: 'waiting' });
    expect(source.status().lastError).toContain('EISDIR');
    expect(log.at('error')).toHaveLength(1);
    rmdirSync(path);
    writeFileSync(path, numbered('l', 0, 2));
    await waitFor(() => got.lines.length >= 2, 'lines once readable');
    expectExactly(got.texts(), 'l', 2);
  });
});
