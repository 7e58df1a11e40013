import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StdinSource } from '../../src/sources/stdin.js';
import { collect, collectingLogger, waitFor } from './helpers.js';

describe('StdinSource', () => {
  it('reads lines as they come, joins a line split across chunks, and says stopped when the input ends', async () => {
    const input = new PassThrough();
    const source = new StdinSource({ input, log: collectingLogger() });
    const got = await collect(source);
    expect(source.status()).toMatchObject({ kind: 'stdin', state: 'reading', lines: 0 });
    input.write('one\ntw');
    await waitFor(() => got.lines.length >= 1, 'first line');
    expect(got.texts()).toEqual(['one']);
    input.write('o\r\nthree');
    input.end();
    await source.done();
    expect(got.texts()).toEqual(['one', 'two', 'three']);
    expect(got.lines.map((l) => [l.lineNo, l.position, l.source])).toEqual([[1, null, 'stdin'], [2, null, 'stdin'], [3, null, 'stdin']]);
    expect(source.status()).toMatchObject({ state: 'stopped', lines: 3, errors: 0 });
  });

  it('reports a failing input at error level', async () => {
    const input = new PassThrough();
    const log = collectingLogger();
    const source = new StdinSource({ input, log });
    await source.start(() => {});
    input.destroy(new Error('EIO: i/o error'));
    await source.done();
    expect(source.status()).toMatchObject({ state: 'failed', errors: 1, lastError: 'EIO: i/o error' });
    expect(log.at('error')).toHaveLength(1);
  });

  it('stops reading when asked, leaving the stream to its owner', async () => {
    const input = new PassThrough();
    const source = new StdinSource({ input, log: collectingLogger() });
    const got = await collect(source);
    input.write('a\n');
    await waitFor(() => got.lines.length >= 1, 'a');
    await source.stop();
    input.write('b\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(got.texts()).toEqual(['a']);
    expect(source.status().state).toBe('stopped');
  });
});
