/**
 * Tails one log file through every kind of rotation, resuming exactly at a stored position.
 *
 * chokidar (and a short stat poll, for what it misses) only wakes the tailer; the tailer itself compares the path's
 * inode, size and first-line fingerprint with the file it holds open and decides what happened:
 * - new inode at the path (rename+create, delete+create): drain the old descriptor to its end, then read the new
 *   file from 0. The switch waits until the new file has data: until then the writer may still append to the old
 *   one (rsyslog writes to the renamed file until logrotate's HUP), and an empty new file has nothing to lose.
 * - same inode, size below what was read (copytruncate), another first line, or other bytes just before the offset:
 *   read the rest of the copy (a rotated sibling with the same first line and bytes there), then start again at 0.
 * - path gone: keep draining the open descriptor, wait for the path to come back.
 * Resuming after rotations made while stopped, the stored file is found among the rotated siblings (rotated.ts) and
 * its rest read, then every sibling written after it, oldest first, then the file at the path. Rotated files
 * compressed by gzip are read too (gzip-rotated.ts): their positions are offsets in the decompressed text.
 * Positions always point just after a newline: a partial last line is held until its newline comes.
 */
import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { CHUNK_SIZE, MAX_LINE_LENGTH } from '../input/lines.js';
import type { Logger } from '../log/logger.js';
import { gunzipHead, gunzipText } from './gzip-rotated.js';
import { isGzip, listRotated, MAX_ROTATED_BYTES, MAX_ROTATED_FILES, newerThan, type Rotated } from './rotated.js';
import type { Position, Source, SourceLine, SourceStatus } from './source.js';

export interface FileSourceOptions {
  path: string;
  /** The stored position, or null the first time this path is read (then reading starts at its end) */
  from: Position | null;
  log: Logger;
  /** ms between stat polls, the fallback when no file event comes (default 1000) */
  pollMs?: number;
  /** Bytes read per wake-up before yielding to the event loop, so one huge file cannot starve the others */
  maxBytesPerWake?: number;
  /** Bytes read from rotated files on one resume, decompressed ones included (default MAX_ROTATED_BYTES) */
  maxRotatedBytes?: number;
}

/** The first line's bytes hashed for the fingerprint are capped: a file without a newline yet has none */
const FINGERPRINT_BYTES = 4096;
/** A held partial line longer than this (in bytes: up to 4 per character) is skipped whole, like an overlong line */
const MAX_PENDING_BYTES = MAX_LINE_LENGTH * 4;
const NEWLINE = 0x0a;
/** Bytes before the offset read kept to see a rewrite and recognise a copy: a first line alone may be a fixed header */
const TAIL_BYTES = 64;

type FilePosition = Extract<Position, { kind: 'file' }>;

interface OpenFile {
  handle: FileHandle;
  dev: number;
  ino: number;
  /** Bytes read so far: the held partial line ends here */
  readOffset: number;
  /** Offset just after the last complete line: the position handed out */
  lineOffset: number;
  /** Bytes since lineOffset that have no newline yet */
  pending: Buffer;
  /** Inside an overlong line: drop bytes until its newline */
  skipping: boolean;
  fingerprint: string | null;
  lineNo: number;
  /** Last known size, for the lag */
  size: number;
  /** The last bytes before readOffset (up to TAIL_BYTES): still there unless the file was rewritten, and there in a copy */
  tail: Buffer;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The position just after the last complete line of `file` */
function positionOf(path: string, file: OpenFile): FilePosition {
  return { kind: 'file', path, dev: file.dev, ino: file.ino, offset: file.lineOffset, fingerprint: file.fingerprint };
}

/** The fingerprint of the file at `path` (of its decompressed text when `gzip`), or null when it has none or cannot be read */
async function fingerprintAt(path: string, gzip = false): Promise<string | null> {
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return null;
  try {
    return await (gzip ? gzipFingerprintOf(handle) : fingerprintOf(handle)).catch(() => null);
  } finally {
    await handle.close();
  }
}

/** `length` bytes of the file at `path` from `offset`, or null when it cannot be read */
async function bytesAt(path: string, offset: number, length: number): Promise<Buffer | null> {
  if (length === 0) return Buffer.alloc(0);
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return null;
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

/** sha256 of the file's first line (with its newline), or null while it has none within FINGERPRINT_BYTES. */
async function fingerprintOf(handle: FileHandle): Promise<string | null> {
  const buffer = Buffer.allocUnsafe(FINGERPRINT_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, FINGERPRINT_BYTES, 0);
  return fingerprintOfStart(buffer.subarray(0, bytesRead));
}

/** The fingerprint of a file starting with `start` (at least its first FINGERPRINT_BYTES, when it has them) */
function fingerprintOfStart(start: Buffer): string | null {
  const nl = start.subarray(0, FINGERPRINT_BYTES).indexOf(NEWLINE);
  const end = nl >= 0 ? nl + 1 : start.length >= FINGERPRINT_BYTES ? FINGERPRINT_BYTES : -1;
  if (end < 0) return null;
  return createHash('sha256').update(start.subarray(0, end)).digest('hex').slice(0, 32);
}

/** The fingerprint of the decompressed text of a .gz file: the one its lines' positions carry */
async function gzipFingerprintOf(handle: FileHandle): Promise<string | null> {
  return fingerprintOfStart(await gunzipHead(handle, FINGERPRINT_BYTES));
}

export class FileSource implements Source {
  readonly name: string;
  private readonly log: Logger;
  private readonly pollMs: number;
  private readonly maxBytesPerWake: number;
  private readonly maxRotatedBytes: number;
  private from: FilePosition | null;
  /** Only the first file seen at the first start is read from its end; one appearing later, or after rotation, from 0 */
  private fromEnd: boolean;
  private current: OpenFile | null = null;
  private onLines: (lines: SourceLine[]) => void = () => {};
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private wakeAgain = false;
  private stopped = false;
  private started = false;
  private state: SourceStatus['state'] = 'waiting';
  private lines = 0;
  private errors = 0;
  private lastError: string | null = null;
  /** The error currently preventing reading, logged once when it starts and once when it clears */
  private failing: string | null = null;
  private lastLineAt: number | null = null;
  private overlong = 0;
  /** Bytes of a rotated file still to read, while draining it */
  private rotatedLag = 0;

  constructor(options: FileSourceOptions) {
    this.name = options.path;
    this.from = options.from && options.from.kind === 'file' ? { ...options.from } : null;
    this.fromEnd = this.from === null;
    this.log = options.log;
    this.pollMs = options.pollMs ?? 1000;
    this.maxBytesPerWake = options.maxBytesPerWake ?? 16 * CHUNK_SIZE;
    this.maxRotatedBytes = options.maxRotatedBytes ?? MAX_ROTATED_BYTES;
  }

  async start(onLines: (lines: SourceLine[]) => void): Promise<void> {
    if (this.started) throw new Error(`file source ${this.name} already started`);
    this.started = true;
    this.onLines = onLines;
    const dir = dirname(this.name);
    // The folder is watched, not the file: the file may not exist yet, and rotation replaces it.
    this.watcher = watch(dir, {
      ignoreInitial: true,
      depth: 0,
      ignored: (path: string) => path !== dir && path !== this.name,
    });
    this.watcher.on('all', () => this.wake());
    // chokidar drops a 'change' that comes within 50 ms of the previous one (no trailing event), which would
    // leave a line written just after another to the next stat poll: its raw events are not throttled.
    const base = basename(this.name);
    this.watcher.on('raw', (_event: string, path: string) => {
      if (basename(path) === base) this.wake();
    });
    this.watcher.on('error', (error) => this.log.warn({ path: this.name, error: errorText(error) }, 'file watcher error; the stat poll still runs'));
    this.poll = setInterval(() => this.wake(), this.pollMs);
    this.wake();
    await this.pumping;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    await this.watcher?.close();
    this.watcher = null;
    while (this.pumping) await this.pumping;
    await this.current?.handle.close().catch(() => {});
    this.current = null;
    this.state = 'stopped';
  }

  status(): SourceStatus {
    const file = this.current;
    return {
      name: this.name,
      kind: 'file',
      state: this.state,
      lines: this.lines,
      errors: this.errors,
      lastError: this.lastError,
      lastLineAt: this.lastLineAt,
      lagBytes: file ? Math.max(0, file.size - file.lineOffset) + this.rotatedLag : null,
    };
  }

  position(): Position | null {
    const file = this.current;
    // inside a line (a first start that ended mid-line): its end is not known yet
    if (file === null || file.skipping || file.pending.length > 0) return null;
    return positionOf(this.name, file);
  }

  /** Runs the tailer now, or once more after the current run: runs never overlap. */
  private wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.wakeAgain && !this.stopped) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  private async pump(): Promise<void> {
    try {
      const more = await this.step();
      this.recovered();
      // A bounded read left bytes behind: continue after other sources had their turn.
      if (more) this.wakeAgain = true;
    } catch (error) {
      this.fail(error);
    }
    if (this.wakeAgain) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** One look at the path and one bounded read. Returns true when bytes are left to read right away. */
  private async step(): Promise<boolean> {
    let atPath: { dev: number; ino: number; size: number } | null;
    try {
      atPath = await stat(this.name);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      atPath = null;
    }
    const file = this.current;
    if (!file) {
      if (!atPath) {
        this.fromEnd = false;
        this.state = 'waiting';
        // Rotated while stopped and not recreated yet: the old file's rest need not wait for the new one.
        if (this.from) await this.resumeRotatedWhileStopped(this.from, false);
        return this.current !== null;
      }
      await this.openAtPath();
      return true;
    }
    if (atPath && (atPath.dev !== file.dev || atPath.ino !== file.ino)) {
      // Rotated: finish the old file first; switch once it is drained and the new file has data.
      const more = await this.readSome(file);
      this.rotatedLag = Math.max(0, file.size - file.readOffset);
      if (more || atPath.size === 0) return more;
      this.flushPartial(file);
      this.log.info({ path: this.name, oldInode: file.ino, newInode: atPath.ino, lines: file.lineNo }, 'file rotated; reading the new file from its start');
      await this.closeCurrent();
      await this.openAtPath();
      return true;
    }
    if (atPath) {
      const now = await file.handle.stat();
      if (now.size < file.readOffset || (await this.rewritten(file))) {
        this.log.info({ path: this.name, inode: file.ino, size: now.size, offset: file.readOffset }, 'file truncated or rewritten in place; reading it again from its start');
        await this.readCopy(file);
        if (this.stopped) return false;
        this.resetTo(file, 0);
        file.fingerprint = await fingerprintOf(file.handle);
      }
    }
    return this.readSome(file);
  }

  /** Opens the file now at the path and decides where to start in it. */
  private async openAtPath(): Promise<void> {
    const handle = await open(this.name, 'r');
    let file: OpenFile;
    try {
      const info = await handle.stat();
      const fingerprint = await fingerprintOf(handle);
      file = {
        handle, dev: info.dev, ino: info.ino, readOffset: 0, lineOffset: 0, pending: Buffer.alloc(0),
        skipping: false, fingerprint, lineNo: 0, size: info.size, tail: Buffer.alloc(0),
      };
      const from = this.from;
      const sameFile = from !== null && from.dev === info.dev && from.ino === info.ino;
      const reused = sameFile && from.fingerprint !== null && fingerprint !== null && from.fingerprint !== fingerprint;
      if (from === null) {
        if (this.fromEnd) await this.startAtEnd(file);
      } else if (sameFile && !reused && info.size >= from.offset) {
        this.from = null;
        this.resetTo(file, from.offset);
      } else {
        // rotated while stopped, or truncated in place (copytruncate): the stored file's rest is elsewhere, if anywhere
        await handle.close();
        await this.resumeRotatedWhileStopped(from, sameFile);
        if (this.current || this.stopped) return;
        return this.openAtPath();
      }
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    this.fromEnd = false;
    this.current = file;
    this.rotatedLag = 0;
    this.state = 'reading';
  }

  /** First start without a stored position: only lines written from now on. */
  private async startAtEnd(file: OpenFile): Promise<void> {
    this.resetTo(file, file.size);
    if (file.size === 0) return;
    // Ending inside a line: its start is not ours, skip to its newline so no fragment is read as a line.
    const last = Buffer.alloc(1);
    await file.handle.read(last, 0, 1, file.size - 1);
    if (last[0] !== NEWLINE) file.skipping = true;
  }

  /**
   * The file holding the stored position is no longer the one at the path: rotated away while logwarden was stopped,
   * or (`truncated`) copied and truncated in place. It is found among the rotated siblings by its device and inode,
   * or by its first line and a size reaching the stored offset (a copy), or compressed by gzip since, and its rest is
   * read; then every sibling written after it, oldest first. The last of them is left open when plain, so the switch
   * to the file at the path is a live rotation's (it waits for the new file to have data). Progress is kept in `from`:
   * a failure or a crash half-way resumes at the file and offset reached, never reading a line twice.
   */
  private async resumeRotatedWhileStopped(from: FilePosition, truncated: boolean): Promise<void> {
    this.fromEnd = false;
    const siblings = await listRotated(this.name);
    const atPath = await stat(this.name).catch(() => null);
    const exclude = atPath ? [{ dev: atPath.dev, ino: atPath.ino }] : [];
    const stored = await this.findStored(siblings, from, exclude);
    if (!stored) {
      this.from = null;
      const fields = { path: this.name, inode: from.ino, offset: from.offset, folder: dirname(this.name), compressedRotated: siblings.filter((s) => s.compressed).length };
      if (truncated) this.log.warn(fields, 'file was truncated in place while stopped and no copy of it was found: lines written to it after the stored position are lost; reading it from its start');
      else this.log.warn(fields, 'file was rotated while stopped and the old file is gone: lines written to it after the stored position are lost');
      return;
    }
    // a compressed file's time is its compression's, not its last line's: only its name says which files came after
    const later = newerThan(siblings, stored, exclude, stored.compressed ? 'name' : 'time', this.maxRotatedBytes);
    if (later.compressed.length > 0) {
      this.log.warn({ path: this.name, files: later.compressed.map((s) => s.name) }, `${later.compressed.length} rotated file(s) written after the stored position are compressed other than by gzip and were not read: their lines are lost`);
    }
    if (later.beyondBounds.length > 0) {
      this.log.warn({ path: this.name, files: later.beyondBounds.map((s) => s.name), maxFiles: MAX_ROTATED_FILES, maxBytes: this.maxRotatedBytes }, `${later.beyondBounds.length} rotated file(s) written after the stored position are beyond what one resume reads and were not read: their lines are lost`);
    }
    const chain = [stored, ...later.read];
    // the plain files' bytes are known and kept for them; the .gz files' text, oldest first, gets what is left
    let gzipBytes = this.maxRotatedBytes - later.read.filter((s) => !s.compressed).reduce((sum, s) => sum + s.size, 0);
    const fields = { path: this.name, files: chain.map((s) => s.name), offset: from.offset };
    if (truncated) this.log.info(fields, 'file was truncated in place while stopped (copytruncate); reading the rest of its copy and the rotated files after it first');
    else this.log.info(fields, 'file was rotated while stopped; reading the rest of the stored file and the rotated files after it first');
    for (const [i, rotated] of chain.entries()) {
      const offset = rotated === stored ? from.offset : 0;
      if (rotated.compressed) {
        gzipBytes -= await this.readGzip(rotated, offset, Math.max(0, gzipBytes));
        if (this.stopped) return;
        continue;
      }
      const file = await this.openRotated(rotated, offset);
      if (!file) continue;
      this.state = 'reading';
      this.current = file;
      if (i === chain.length - 1) {
        this.from = null;
        return;
      }
      try {
        while (!this.stopped && (await this.readSome(file))) this.from = positionOf(this.name, file);
        if (!this.stopped) this.flushPartial(file);
        this.from = positionOf(this.name, file);
      } finally {
        this.current = null;
        await file.handle.close();
      }
      if (this.stopped) return;
    }
    this.from = null;
  }

  /**
   * The rotated file holding the stored position: the same inode (and first line; a .gz file read before a crash is
   * known so too), else a plain copy of it, else a .gz file whose text starts with its first line (compressed since).
   */
  private async findStored(siblings: Rotated[], from: FilePosition, exclude: { dev: number; ino: number }[]): Promise<Rotated | null> {
    const candidates = siblings.filter((s) => (!s.compressed || isGzip(s)) && !exclude.some((e) => e.dev === s.dev && e.ino === s.ino));
    const byInode = candidates.find((s) => s.dev === from.dev && s.ino === from.ino);
    if (byInode && (from.fingerprint === null || (await fingerprintAt(byInode.path, byInode.compressed)) === from.fingerprint)) return byInode;
    if (from.fingerprint === null) return null;
    const copy = await this.findCopy(candidates, from.fingerprint, from.offset);
    if (copy) return copy;
    for (const s of candidates) if (s.compressed && (await fingerprintAt(s.path, true)) === from.fingerprint) return s;
    return null;
  }

  /**
   * The largest plain file among `candidates` that starts with the first line `fingerprint`, reaches `offset` and,
   * when known, has the bytes `tail` just before that offset
   */
  private async findCopy(candidates: Rotated[], fingerprint: string, offset: number, tail: Buffer = Buffer.alloc(0)): Promise<Rotated | null> {
    let best: Rotated | null = null;
    for (const s of candidates) {
      if (s.compressed || s.size < offset || (best && best.size >= s.size)) continue;
      if ((await fingerprintAt(s.path)) === fingerprint && (await bytesAt(s.path, offset - tail.length, tail.length))?.equals(tail)) best = s;
    }
    return best;
  }

  /**
   * Opens a rotated file at `offset` (in its decompressed text for a .gz file), or null if it was replaced or removed
   * since it was listed
   */
  private async openRotated(rotated: Rotated, offset: number): Promise<OpenFile | null> {
    const handle = await open(rotated.path, 'r').catch((error) => {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    });
    if (!handle) return null;
    try {
      const info = await handle.stat();
      if (info.dev !== rotated.dev || info.ino !== rotated.ino) {
        await handle.close();
        return null;
      }
      const fingerprint = rotated.compressed ? await gzipFingerprintOf(handle) : await fingerprintOf(handle);
      // a .gz file's text has no size before it is read to its end: no lag is counted for it
      const size = rotated.compressed ? 0 : info.size;
      const file: OpenFile = {
        handle, dev: info.dev, ino: info.ino, readOffset: 0, lineOffset: 0, pending: Buffer.alloc(0),
        skipping: false, fingerprint, lineNo: 0, size, tail: Buffer.alloc(0),
      };
      this.resetTo(file, rotated.compressed ? offset : Math.min(offset, info.size));
      return file;
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
  }

  /**
   * Reads a rotated .gz file from `offset` of its text to its end, or to `maxBytes` of its text (a bomb: the rest
   * is lost, loudly), its lines handed over as a plain file's are. A damaged file gives what decompresses; a last
   * line without its newline counts only when the file is whole. Returns the decompressed bytes gone through.
   */
  private async readGzip(rotated: Rotated, offset: number, maxBytes: number): Promise<number> {
    const file = await this.openRotated(rotated, offset);
    if (!file) return 0;
    this.state = 'reading';
    this.current = file;
    try {
      const read = await gunzipText(file.handle, offset, maxBytes, (bytes) => {
        if (this.stopped) return false;
        const lines: SourceLine[] = [];
        this.split(file, bytes, lines);
        this.emit(lines);
        this.from = positionOf(this.name, file);
        return true;
      });
      const fields = { path: this.name, file: rotated.name, offset: file.lineOffset };
      if (read.end === 'end') this.flushPartial(file);
      if (read.end === 'damaged') this.log.warn({ ...fields, error: read.error }, 'compressed rotated file is damaged: its lines up to the damage were read, the rest is lost');
      if (read.end === 'bound') this.log.warn({ ...fields, maxBytes: this.maxRotatedBytes }, 'compressed rotated file decompresses to more than one resume reads: the rest of it is lost (a compression bomb, or too many rotated files at once)');
      this.from = positionOf(this.name, file);
      return read.bytes;
    } finally {
      this.current = null;
      await file.handle.close();
    }
  }

  /**
   * The open file was truncated in place while being read (copytruncate): logrotate copied it first, so the lines
   * not read yet are in the copy, a rotated sibling starting with the same first line. Its rest is read now, before
   * the truncated file from its start. Lines written between the copy and the truncate are in neither: lost.
   */
  private async readCopy(file: OpenFile): Promise<void> {
    const candidates = (await listRotated(this.name)).filter((s) => !(s.dev === file.dev && s.ino === file.ino));
    // without a complete first line there is nothing to know the copy by
    const found = file.fingerprint === null ? null : await this.findCopy(candidates, file.fingerprint, file.readOffset, file.tail);
    if (!found) {
      this.log.warn({ path: this.name, offset: file.lineOffset }, 'file truncated in place and no copy of it found: lines written before the truncate and not read yet are lost');
      return;
    }
    const copy = await this.openRotated(found, file.lineOffset);
    if (!copy) return;
    this.log.info({ path: this.name, copy: found.name, offset: copy.lineOffset, size: copy.size }, 'file truncated in place; reading the rest of its copy first');
    try {
      while (!this.stopped && (await this.readSome(copy)));
      if (!this.stopped) this.flushPartial(copy);
    } finally {
      await copy.handle.close();
    }
  }

  /** Rewritten in place since read: other bytes just before the offset read (a fixed header line), or another first line */
  private async rewritten(file: OpenFile): Promise<boolean> {
    if (file.tail.length > 0) {
      const before = Buffer.alloc(file.tail.length);
      const { bytesRead } = await file.handle.read(before, 0, before.length, file.readOffset - before.length);
      if (bytesRead === before.length && !before.equals(file.tail)) return true;
    }
    const fingerprint = await fingerprintOf(file.handle);
    if (file.fingerprint === null) {
      file.fingerprint = fingerprint;
      return false;
    }
    return fingerprint !== null && fingerprint !== file.fingerprint;
  }

  private resetTo(file: OpenFile, offset: number): void {
    file.readOffset = offset;
    file.lineOffset = offset;
    file.pending = Buffer.alloc(0);
    file.skipping = false;
    file.lineNo = 0;
    file.tail = Buffer.alloc(0);
  }

  /**
   * Reads up to maxBytesPerWake and hands over the complete lines. Returns true when more is there to read. Every read
   * starts with the bytes already read just before the offset: when they are not the same, the file was truncated
   * and written again since the last look (between the look and this read), and nothing of it is taken as lines.
   */
  private async readSome(file: OpenFile): Promise<boolean> {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE + TAIL_BYTES);
    const lines: SourceLine[] = [];
    let budget = this.maxBytesPerWake;
    let more = false;
    for (;;) {
      if (this.stopped) break;
      if (budget <= 0) {
        more = true;
        break;
      }
      const guard = file.tail;
      const { bytesRead } = await file.handle.read(buffer, 0, Math.min(CHUNK_SIZE, budget) + guard.length, file.readOffset - guard.length);
      // rewritten: the next look at the file sees it (a rotated file nobody should rewrite is left as it is)
      if (bytesRead < guard.length || !buffer.subarray(0, guard.length).equals(guard)) break;
      if (bytesRead === guard.length) break;
      const fresh = buffer.subarray(guard.length, bytesRead);
      budget -= fresh.length;
      file.tail = Buffer.from(buffer.subarray(Math.max(0, bytesRead - TAIL_BYTES), bytesRead));
      this.split(file, fresh, lines);
    }
    file.size = Math.max(file.readOffset, (await file.handle.stat()).size);
    this.emit(lines);
    return more;
  }

  /** Splits bytes into lines by their newlines, so every position is an exact byte offset after a newline. */
  private split(file: OpenFile, bytes: Buffer, out: SourceLine[]): void {
    let start = 0;
    const base = file.readOffset;
    file.readOffset += bytes.length;
    for (;;) {
      const nl = bytes.indexOf(NEWLINE, start);
      if (nl < 0) break;
      const lineEnd = base + nl + 1;
      file.lineNo++;
      if (file.skipping) {
        file.skipping = false;
        this.skipOverlong(file);
      } else {
        // the first line is complete only now: its fingerprint is taken from the bytes read, as the file may
        // already be truncated, and the copy of it must be found by this
        if (file.fingerprint === null && file.lineOffset === 0) {
          file.fingerprint = fingerprintOfStart(Buffer.concat([file.pending, bytes.subarray(start, nl + 1)]));
        }
        const raw = file.pending.length > 0 ? Buffer.concat([file.pending, bytes.subarray(start, nl)]) : bytes.subarray(start, nl);
        this.pushLine(file, raw, lineEnd, out);
      }
      file.pending = Buffer.alloc(0);
      file.lineOffset = lineEnd;
      start = nl + 1;
    }
    if (start < bytes.length && !file.skipping) {
      file.pending = Buffer.concat([file.pending, bytes.subarray(start)]);
      if (file.pending.length > MAX_PENDING_BYTES) {
        file.pending = Buffer.alloc(0);
        file.skipping = true;
      }
    }
  }

  private pushLine(file: OpenFile, raw: Buffer, lineEnd: number, out: SourceLine[]): void {
    let text = raw.toString('utf8');
    if (text.includes('\0')) text = text.replaceAll('\0', '');
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    if (text.length > MAX_LINE_LENGTH) {
      this.skipOverlong(file);
      return;
    }
    out.push({
      text,
      source: this.name,
      lineNo: file.lineNo,
      position: { kind: 'file', path: this.name, dev: file.dev, ino: file.ino, offset: lineEnd, fingerprint: file.fingerprint },
      journal: null,
      readAt: Date.now(),
    });
  }

  /** The last line of a file nobody writes to any more counts even without its newline. */
  private flushPartial(file: OpenFile): void {
    if (file.pending.length === 0 && !file.skipping) return;
    const lines: SourceLine[] = [];
    file.lineNo++;
    if (file.skipping) this.skipOverlong(file);
    else this.pushLine(file, file.pending, file.readOffset, lines);
    file.pending = Buffer.alloc(0);
    file.skipping = false;
    file.lineOffset = file.readOffset;
    this.emit(lines);
  }

  private skipOverlong(file: OpenFile): void {
    this.overlong++;
    const fields = { path: this.name, line: file.lineNo, maxLength: MAX_LINE_LENGTH, skipped: this.overlong };
    // Attackers can write long lines at will: say it loudly once, then quietly.
    if (this.overlong === 1) this.log.warn(fields, 'overlong line skipped whole (later ones are logged at debug level)');
    else this.log.debug(fields, 'overlong line skipped whole');
  }

  private emit(lines: SourceLine[]): void {
    if (lines.length === 0) return;
    this.lines += lines.length;
    this.lastLineAt = Date.now();
    this.onLines(lines);
  }

  private async closeCurrent(): Promise<void> {
    const file = this.current;
    this.current = null;
    this.rotatedLag = 0;
    await file?.handle.close().catch(() => {});
  }

  private fail(error: unknown): void {
    const text = `${errorCode(error)}: ${errorText(error)}`;
    this.lastError = text;
    if (this.failing === text) return;
    this.failing = text;
    this.errors++;
    // Lines written while it could not be read are read once it can: nothing is skipped by an error.
    this.fromEnd = false;
    this.state = 'waiting';
    this.log.error({ path: this.name, error: text }, 'cannot read log file; retrying');
  }

  private recovered(): void {
    if (this.failing === null) return;
    this.log.info({ path: this.name, previousError: this.failing }, 'log file readable again');
    this.failing = null;
  }
}
