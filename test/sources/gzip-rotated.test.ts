import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gunzipHead, gunzipText } from '../../src/sources/gzip-rotated.js';
import { numbered, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('gzip');
});
afterEach(() => tmp.remove());

/** Streams `data` (written to a file) through gunzipText; the handle is read again after, to show it stays open. */
async function gunzip(data: Buffer, from: number, maxBytes: number, stopAfter = Infinity) {
  const path = tmp.path('app.log.1.gz');
  writeFileSync(path, data);
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    const end = await gunzipText(handle, from, maxBytes, (bytes) => {
      chunks.push(Buffer.from(bytes));
      return chunks.length < stopAfter;
    });
    const { bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return { end, text: Buffer.concat(chunks).toString(), stillOpen: bytesRead === Math.min(2, data.length) };
  } finally {
    await handle.close();
  }
}

// about 1.2 MB of text: many zlib chunks
const text = numbered('line', 0, 100_000);

describe('gunzipText', () => {
  it('streams the whole text, or from a decompressed offset; multi-member files whole', async () => {
    expect(await gunzip(gzipSync(text), 0, Infinity)).toEqual({ end: { bytes: text.length, end: 'end', error: null }, text, stillOpen: true });
    const from = text.indexOf('line 70000\n');
    const rest = await gunzip(gzipSync(text), from, Infinity);
    expect(rest.text).toBe(text.slice(from));
    expect(rest.end.end).toBe('end');
    const two = await gunzip(Buffer.concat([gzipSync('one\n'), gzipSync('two\n')]), 0, Infinity);
    expect(two.text).toBe('one\ntwo\n');
  });

  it('stops at maxBytes of decompressed text (the skipped bytes count): a bomb is not read to its end', async () => {
    // 1 GiB of one repeated line compresses to about 1 MB: only the bound is decompressed
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 'Failed password for root from 203.0.113.9\n'));
    const started = Date.now();
    const cut = await gunzip(Buffer.concat(Array.from({ length: 16 }, () => bomb)), 0, 1_000_000);
    expect(cut.end).toEqual({ bytes: 1_000_000, end: 'bound', error: null });
    expect(cut.text.length).toBe(1_000_000);
    expect(Date.now() - started).toBeLessThan(5000);
    const skipped = await gunzip(gzipSync(text), 1000, 5000);
    expect(skipped.text).toBe(text.slice(1000, 5000));
    expect(skipped.end).toMatchObject({ bytes: 5000, end: 'bound' });
    // exactly at the bound and nothing after: the whole text
    expect((await gunzip(gzipSync(text), 0, text.length)).end).toEqual({ bytes: text.length, end: 'end', error: null });
  });

  it('a damaged or cut file gives what decompresses, then says so; it never throws', async () => {
    const gz = gzipSync(text);
    const cut = await gunzip(gz.subarray(0, gz.length >> 1), 0, Infinity);
    expect(cut.end).toMatchObject({ end: 'damaged', error: 'unexpected end of file' });
    expect(cut.text.length).toBeGreaterThan(text.length / 3);
    expect(text.startsWith(cut.text)).toBe(true);
    expect((await gunzip(Buffer.from('not gzip at all\n'), 0, Infinity)).end).toMatchObject({ bytes: 0, end: 'damaged' });
    expect((await gunzip(Buffer.alloc(0), 0, Infinity)).end).toMatchObject({ bytes: 0, end: 'damaged' });
  });

  it('stops when the consumer says so; what it throws rejects instead of escaping from zlib', async () => {
    const stopped = await gunzip(gzipSync(text), 0, Infinity, 1);
    expect(stopped.end.end).toBe('stopped');
    expect(stopped.stillOpen).toBe(true);
    const path = tmp.path('throws.gz');
    writeFileSync(path, gzipSync(text));
    const handle = await open(path, 'r');
    try {
      await expect(gunzipText(handle, 0, Infinity, () => { throw new Error('consumer failed'); })).rejects.toThrow('consumer failed');
    } finally {
      await handle.close();
    }
  });

  it('gunzipHead: the first bytes only, fewer when the text is shorter or cut', async () => {
    const path = tmp.path('head.gz');
    writeFileSync(path, gzipSync(text));
    const handle = await open(path, 'r');
    try {
      expect((await gunzipHead(handle, 4096)).toString()).toBe(text.slice(0, 4096));
    } finally {
      await handle.close();
    }
    writeFileSync(path, gzipSync('one line\ntwo').subarray(0, 20));
    const cut = await open(path, 'r');
    try {
      expect('one line\ntwo'.startsWith((await gunzipHead(cut, 4096)).toString())).toBe(true);
    } finally {
      await cut.close();
    }
  });
});
