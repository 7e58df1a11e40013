/**
 * Line splitting built for throughput and hostile input: decode each chunk once, split with indexOf,
 * carry the partial last line over, cap the line length, drop NUL padding and CRs.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Longer lines are skipped whole: a truncated line could carry a truncated (wrong) address. */
export const MAX_LINE_LENGTH = 16 * 1024;
export const CHUNK_SIZE = 64 * 1024;

export interface ReadStats {
  lines: number;
  bytes: number;
  /** Lines skipped because they exceeded the length cap */
  overlong: number;
  /** NUL bytes removed (left by syslog daemons after a crash, in front of real lines) */
  nulBytes: number;
}

export interface LineHandler {
  /** Called for every line, 1-based number in its input. */
  line(text: string, lineNumber: number): void;
  /** Called after each chunk, so output can be flushed with backpressure. */
  chunkDone?(): Promise<void> | void;
}

export function newReadStats(): ReadStats {
  return { lines: 0, bytes: 0, overlong: 0, nulBytes: 0 };
}

/** Splits a byte stream into lines; resolves with the counts when the stream ends. */
export async function readLines(stream: Readable, handler: LineHandler, maxLength = MAX_LINE_LENGTH): Promise<ReadStats> {
  const stats = newReadStats();
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let skipping = false; // inside an overlong line, until its newline
  let lineNumber = 0;

  const consume = (text: string, final: boolean) => {
    if (text.includes('\0')) {
      const before = text.length;
      text = text.replaceAll('\0', '');
      stats.nulBytes += before - text.length;
    }
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      lineNumber++;
      if (skipping) {
        skipping = false;
        stats.overlong++;
      } else {
        let line = carry.length > 0 ? carry + text.slice(start, nl) : text.slice(start, nl);
        carry = '';
        if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
        if (line.length > maxLength) stats.overlong++;
        else handler.line(line, lineNumber);
      }
      start = nl + 1;
    }
    if (!skipping && start < text.length) {
      carry = carry.length > 0 ? carry + text.slice(start) : text.slice(start);
      if (carry.length > maxLength) {
        carry = '';
        skipping = true;
      }
    }
    if (final && (carry.length > 0 || skipping)) {
      lineNumber++;
      if (skipping) stats.overlong++;
      else handler.line(carry.charCodeAt(carry.length - 1) === 13 ? carry.slice(0, -1) : carry, lineNumber);
      carry = '';
      skipping = false;
    }
  };

  for await (const chunk of stream) {
    const bytes = chunk as Buffer;
    stats.bytes += bytes.length;
    consume(decoder.write(bytes), false);
    if (handler.chunkDone) await handler.chunkDone();
  }
  consume(decoder.end(), true);
  if (handler.chunkDone) await handler.chunkDone();
  stats.lines = lineNumber;
  return stats;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** Opens a log file for reading, decompressing it when it is gzip (by content, not by name). */
export async function openLogFile(path: string): Promise<Readable> {
  const handle = await open(path, 'r');
  let gzip = false;
  try {
    const probe = Buffer.alloc(2);
    const { bytesRead } = await handle.read(probe, 0, 2, 0);
    gzip = bytesRead === 2 && probe[0] === GZIP_MAGIC_0 && probe[1] === GZIP_MAGIC_1;
  } catch (error) {
    await handle.close();
    throw error;
  }
  const raw = createReadStream(path, { fd: handle, highWaterMark: CHUNK_SIZE, autoClose: true });
  if (!gzip) return raw;
  const gunzip = createGunzip({ chunkSize: CHUNK_SIZE });
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}
