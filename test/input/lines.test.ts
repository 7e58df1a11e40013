import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openLogFile, readLines } from '../../src/input/lines.js';

async function collect(stream: Readable, maxLength?: number) {
  const lines: [string, number][] = [];
  const stats = await readLines(stream, { line: (text, n) => lines.push([text, n]) }, maxLength);
  return { lines, stats };
}

/** bytes cut into chunks of the given lengths (each + 1), the rest in a last chunk */
function cutInto(bytes: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const cut of cuts) {
    const end = Math.min(bytes.length, at + cut + 1);
    chunks.push(bytes.subarray(at, end));
    at = end;
  }
  chunks.push(bytes.subarray(at));
  return chunks;
}

const fromChunks = (chunks: (string | Buffer)[]) => Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));

describe('readLines', () => {
  it('carries partial lines across chunks and numbers lines from 1', async () => {
    const { lines } = await collect(fromChunks(['first li', 'ne\nsecond\nthi', 'rd']));
    expect(lines).toEqual([['first line', 1], ['second', 2], ['third', 3]]);
  });

  it('strips CR of CRLF line ends, also when the CR ends a chunk', async () => {
    const { lines } = await collect(fromChunks(['a\r\nb\r', '\nc\r\n']));
    expect(lines.map((l) => l[0])).toEqual(['a', 'b', 'c']);
  });

  it('keeps empty lines in the numbering', async () => {
    const { lines, stats } = await collect(fromChunks(['a\n\n\nb\n']));
    expect(lines).toEqual([['a', 1], ['', 2], ['', 3], ['b', 4]]);
    expect(stats.lines).toBe(4);
  });

  it('decodes UTF-8 split across chunks and replaces invalid bytes', async () => {
    const euro = Buffer.from('€');
    const { lines } = await collect(fromChunks([Buffer.from('x'), euro.subarray(0, 1), Buffer.concat([euro.subarray(1), Buffer.from('\n')]), Buffer.from([0xff, 0xfe, 0x41, 0x0a])]));
    expect(lines.map((l) => l[0])).toEqual(['x€', '\ufffd\ufffdA']);
  });

  it('removes NUL padding so the real line behind it is read', async () => {
    const { lines, stats } = await collect(fromChunks([Buffer.concat([Buffer.alloc(5), Buffer.from('real line\n')])]));
    expect(lines).toEqual([['real line', 1]]);
    expect(stats.nulBytes).toBe(5);
  });

  it('skips overlong lines whole (and counts them) without holding them in memory', async () => {
    const long = 'x'.repeat(100);
    const { lines, stats } = await collect(fromChunks(['ok\n', long.slice(0, 60), long.slice(60), long, '\nnext\n', long]), 50);
    expect(lines).toEqual([['ok', 1], ['next', 3]]);
    expect(stats.overlong).toBe(2);
    expect(stats.lines).toBe(4);
  });

  it('any chunking gives the same lines', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 20 }), { maxLength: 20 }), fc.array(fc.nat(30), { maxLength: 10 }), async (parts, cuts) => {
        const text = parts.join('\n');
        const bytes = Buffer.from(text);
        const chunks = cutInto(bytes, cuts);
        const whole = await collect(fromChunks([bytes]));
        const pieces = await collect(fromChunks(chunks));
        expect(pieces.lines).toEqual(whole.lines);
      }),
      { numRuns: 200 },
    );
  });
});

describe('readLines against a reference splitter', () => {
  // decode all, drop NULs, split at LF, strip one CR, skip lines longer than the cap
  function reference(bytes: Buffer, maxLength: number): [string, number][] {
    const pieces = new TextDecoder().decode(bytes).replaceAll('\0', '').split('\n');
    if (pieces[pieces.length - 1] === '') pieces.pop();
    const lines: [string, number][] = [];
    pieces.forEach((piece, i) => {
      const line = piece.endsWith('\r') ? piece.slice(0, -1) : piece;
      if (line.length <= maxLength) lines.push([line, i + 1]);
    });
    return lines;
  }

  it('gives its lines for any mix of ASCII chunks (cut straight from the bytes) and others, CRs, NULs and overlong lines', async () => {
    const piece = fc.constantFrom('a', 'bc', 'é', '€', '\r', '\n', '\n', '\0', 'defgh');
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 60 }), fc.array(fc.nat(12), { maxLength: 12 }), fc.constantFrom(4, 8, 1000), async (parts, cuts, maxLength) => {
        const bytes = Buffer.from(parts.join(''));
        const chunks = cutInto(bytes, cuts);
        const { lines } = await collect(fromChunks(chunks), maxLength);
        expect(lines).toEqual(reference(bytes, maxLength));
      }),
      { numRuns: 500 },
    );
  });

  it("hands a line cut from the bytes those bytes, followed by its newline or CR (parseBanner's reading of bytes relies on it)", async () => {
    const piece = fc.constantFrom('a', 'bc', 'é', '\r', '\n', '\n', '\0', 'defgh');
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 60 }), fc.array(fc.nat(12), { maxLength: 12 }), async (parts, cuts) => {
        const bytes = Buffer.from(`a\n${parts.join('')}`);
        const chunks = cutInto(bytes, cuts);
        let withBytes = 0;
        await readLines(fromChunks(chunks), {
          line: (text, _n, own, offset) => {
            if (own === undefined) return;
            withBytes++;
            expect(Buffer.from(own.subarray(offset!, offset! + text.length)).toString('latin1')).toBe(text);
            expect([10, 13]).toContain(own[offset! + text.length]);
          },
        });
        // the first chunk starts with the ASCII line `a`
        if (chunks[0].length >= 2 && !chunks[0].includes(0) && chunks[0].every((b) => b < 128)) expect(withBytes).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe('openLogFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-lines-'));

  it('reads plain files', async () => {
    const file = join(dir, 'plain.log');
    writeFileSync(file, 'one\ntwo\n');
    expect((await collect(await openLogFile(file))).lines.map((l) => l[0])).toEqual(['one', 'two']);
  });

  it('decompresses gzip by content, whatever the name, including multi-member files', async () => {
    const file = join(dir, 'auth.log.2');
    writeFileSync(file, Buffer.concat([gzipSync('one\ntwo\n'), gzipSync('three\n')]));
    expect((await collect(await openLogFile(file))).lines.map((l) => l[0])).toEqual(['one', 'two', 'three']);
  });

  it('reports a missing file', async () => {
    await expect(openLogFile(join(dir, 'missing.log'))).rejects.toThrow(/ENOENT/);
  });

  it('reports a corrupt gzip file while reading', async () => {
    const file = join(dir, 'broken.gz');
    writeFileSync(file, Buffer.concat([gzipSync('one\n').subarray(0, 12), Buffer.from('garbage')]));
    await expect(collect(await openLogFile(file))).rejects.toThrow();
  });
});
