/**
 * Line splitting built for throughput and hostile input: split with indexOf, carry the partial last line
 * over, cap the line length, drop NUL padding and CRs. A chunk of plain ASCII (nearly every chunk of a log) is
 * cut into lines straight from its bytes, each line a string of its own; other chunks are decoded whole
 * and sliced.
 */
import { isAscii } from 'node:buffer';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

/** Longer lines are skipped whole: a truncated line could carry a truncated (wrong) address. */
export const MAX_LINE_LENGTH = 16 * 1024;
/** Text is read and decoded 64 KiB at a time: lines sliced from much larger strings are slower to make and free */
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
  /**
   * Called for every line, 1-based number in its input. A line cut from an ASCII chunk also comes with the
   * chunk's bytes and where its own start, `bytes[offset, offset + text.length)`, followed by its newline or CR:
   * valid only during the call (the buffer is reused).
   */
  line(text: string, lineNumber: number, bytes?: Uint8Array, offset?: number): void;
  /** Called after each chunk, so output can be flushed with backpressure. */
  chunkDone?(): Promise<void> | void;
}

export function newReadStats(): ReadStats {
  return { lines: 0, bytes: 0, overlong: 0, nulBytes: 0 };
}

/**
 * Turns decoded chunks into lines, synchronously: carries the partial last line, skips overlong lines
 * whole, drops NULs and CRs. Used by readLines, and by readers that pull chunk by chunk.
 */
export class LineSplitter {
  readonly stats = newReadStats();
  private readonly decoder = new StringDecoder('utf8');
  private carry = '';
  private skipping = false; // inside an overlong line, until its newline
  private lineNumber = 0;
  /** False while the decoder may hold the first bytes of a character cut by the chunk's end */
  private decoderEmpty = true;

  constructor(
    private readonly onLine: LineHandler['line'],
    private readonly maxLength = MAX_LINE_LENGTH,
  ) {}

  write(bytes: Buffer): void {
    this.stats.bytes += bytes.length;
    if (this.decoderEmpty && isAscii(bytes) && bytes.indexOf(0) < 0) {
      this.consumeAscii(bytes);
      return;
    }
    this.consume(this.decoder.write(bytes), false);
    this.decoderEmpty = bytes.length === 0 || bytes[bytes.length - 1] < 0x80;
  }

  /** End of input: the last line may have no newline. */
  end(): void {
    this.consume(this.decoder.end(), true);
    this.stats.lines = this.lineNumber;
  }

  /**
   * Lines of an ASCII chunk without NULs, each cut from the bytes as a string of its own: the rules read
   * a flat string faster than a slice of the chunk's text, and no line keeps the chunk alive.
   */
  private consumeAscii(bytes: Buffer): void {
    const stats = this.stats;
    let start = 0;
    for (;;) {
      const nl = bytes.indexOf(10, start);
      if (nl < 0) break;
      this.lineNumber++;
      if (this.skipping) {
        this.skipping = false;
        stats.overlong++;
      } else if (this.carry.length > 0) {
        let line = this.carry + latin1(bytes, start, nl);
        this.carry = '';
        if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
        if (line.length > this.maxLength) stats.overlong++;
        else this.onLine(line, this.lineNumber);
      } else {
        const end = nl > start && bytes[nl - 1] === 13 ? nl - 1 : nl;
        if (end - start > this.maxLength) stats.overlong++;
        else this.onLine(latin1(bytes, start, end), this.lineNumber, bytes, start);
      }
      start = nl + 1;
    }
    if (!this.skipping && start < bytes.length) {
      const rest = latin1(bytes, start, bytes.length);
      this.carry = this.carry.length > 0 ? this.carry + rest : rest;
      if (this.carry.length > this.maxLength + 1) { // + 1: the CR of a CRLF cut by the chunk's end
        this.carry = '';
        this.skipping = true;
      }
    }
    stats.lines = this.lineNumber;
  }

  private consume(text: string, final: boolean): void {
    const stats = this.stats;
    if (text.includes('\0')) {
      const before = text.length;
      text = text.replaceAll('\0', '');
      stats.nulBytes += before - text.length;
    }
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.lineNumber++;
      if (this.skipping) {
        this.skipping = false;
        stats.overlong++;
      } else {
        let line = this.carry.length > 0 ? this.carry + text.slice(start, nl) : text.slice(start, nl);
        this.carry = '';
        if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
        if (line.length > this.maxLength) stats.overlong++;
        else this.onLine(line, this.lineNumber);
      }
      start = nl + 1;
    }
    if (!this.skipping && start < text.length) {
      this.carry = this.carry.length > 0 ? this.carry + text.slice(start) : text.slice(start);
      if (this.carry.length > this.maxLength + 1) { // + 1: the CR of a CRLF cut by the chunk's end
        this.carry = '';
        this.skipping = true;
      }
    }
    if (final && (this.carry.length > 0 || this.skipping)) {
      this.lineNumber++;
      const line = this.carry.charCodeAt(this.carry.length - 1) === 13 ? this.carry.slice(0, -1) : this.carry;
      if (this.skipping || line.length > this.maxLength) stats.overlong++;
      else this.onLine(line, this.lineNumber);
      this.carry = '';
      this.skipping = false;
    }
    stats.lines = this.lineNumber;
  }
}

/** Splits a byte stream into lines; resolves with the counts when the stream ends. */
export async function readLines(stream: AsyncIterable<Buffer>, handler: LineHandler, maxLength = MAX_LINE_LENGTH): Promise<ReadStats> {
  const splitter = new LineSplitter(handler.line, maxLength);
  for await (const chunk of stream) {
    splitter.write(chunk);
    if (handler.chunkDone) await handler.chunkDone();
  }
  splitter.end();
  if (handler.chunkDone) await handler.chunkDone();
  return splitter.stats;
}

/**
 * bytes[start, end) as a string, one character a byte: Buffer's own latin1Slice, which toString('latin1')
 * reaches through two layers of argument handling (a tenth of the time of a line's reading).
 */
function latin1(bytes: Buffer, start: number, end: number): string {
  return (bytes as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/**
 * Chunks of a plain file read synchronously into one reused buffer: from the page cache this is faster
 * than a stream, whose every read waits for the thread pool. Each chunk must be consumed before the next.
 */
async function* plainChunks(fd: number): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK_SIZE, null);
      if (n === 0) return;
      yield buffer.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Opens a log file for reading, decompressing it when it is gzip (by content, not by name). */
export async function openLogFile(path: string): Promise<AsyncIterable<Buffer>> {
  const fd = openSync(path, 'r');
  let gzip = false;
  try {
    if (fstatSync(fd).isDirectory()) throw Object.assign(new Error(`EISDIR: is a directory, read '${path}'`), { code: 'EISDIR' });
    const probe = Buffer.alloc(2);
    const bytesRead = readSync(fd, probe, 0, 2, 0);
    gzip = bytesRead === 2 && probe[0] === GZIP_MAGIC_0 && probe[1] === GZIP_MAGIC_1;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  if (!gzip) return plainChunks(fd);
  const raw = createReadStream(path, { fd, highWaterMark: CHUNK_SIZE, autoClose: true });
  const gunzip = createGunzip({ chunkSize: CHUNK_SIZE });
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}
