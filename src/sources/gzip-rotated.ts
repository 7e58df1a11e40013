/**
 * The text of a rotated file compressed by gzip (logrotate's `compress`), streamed through node:zlib and bounded:
 * highly repetitive lines, which anyone able to write to the log can send, compress a thousandfold, so the
 * decompressed bytes are counted, not the file's size. A corrupt or cut file yields what decompresses before the
 * damage (zlib may hold back its last block of output when the damage is not at the very end).
 */
import type { FileHandle } from 'node:fs/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { CHUNK_SIZE } from '../input/lines.js';

export interface GunzipEnd {
  /** Decompressed bytes gone through from the start, the skipped ones included */
  bytes: number;
  /**
   * end: the whole text; bound: more follows `maxBytes`, not read; stopped: `onBytes` asked to stop;
   * damaged: zlib failed (`error`) after what was handed over
   */
  end: 'end' | 'bound' | 'stopped' | 'damaged';
  error: string | null;
}

/**
 * Streams the decompressed text of the gzip file open at `handle`, handing the bytes from decompressed offset `from`
 * up to `maxBytes` to `onBytes` (which returns false to stop). Only a read error of the file, or what `onBytes` throws,
 * rejects.
 */
export async function gunzipText(handle: FileHandle, from: number, maxBytes: number, onBytes: (bytes: Buffer) => boolean): Promise<GunzipEnd> {
  const gunzip = createGunzip({ chunkSize: CHUNK_SIZE });
  let bytes = 0;
  let outcome: Pick<GunzipEnd, 'end' | 'error'> | Error | null = null;
  let settle = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const finish = (result: Pick<GunzipEnd, 'end' | 'error'> | Error) => {
    if (outcome) return;
    outcome = result;
    settle();
  };
  gunzip.on('data', (chunk: Buffer) => {
    if (outcome) return;
    const start = bytes;
    if (start >= maxBytes) return finish({ end: 'bound', error: null });
    bytes = Math.min(start + chunk.length, maxBytes);
    const wanted = chunk.subarray(Math.max(0, from - start), bytes - start);
    try {
      if (wanted.length > 0 && !onBytes(wanted)) return finish({ end: 'stopped', error: null });
    } catch (error) {
      // thrown inside zlib's event it would be uncaught: the caller gets it, as from a read
      return finish(error instanceof Error ? error : new Error(String(error)));
    }
    // the chunk went past the bound: the rest of the text is not read
    if (start + chunk.length > maxBytes) finish({ end: 'bound', error: null });
  });
  gunzip.on('end', () => finish({ end: 'end', error: null }));
  gunzip.on('error', (error) => finish({ end: 'damaged', error: error.message }));
  try {
    await feed(handle, gunzip, settled);
    await settled;
  } finally {
    gunzip.destroy();
  }
  const result = outcome as Pick<GunzipEnd, 'end' | 'error'> | Error | null;
  if (result instanceof Error) throw result;
  return { bytes, end: result!.end, error: result!.error };
}

/**
 * Writes the file's bytes to `gunzip` as fast as it takes them, to their end or until `settled`. The handle is read
 * directly, not through a stream: destroying a stream would close the caller's handle.
 */
async function feed(handle: FileHandle, gunzip: Gunzip, settled: Promise<void>): Promise<void> {
  let done = false;
  void settled.then(() => (done = true));
  for (let position = 0; !done; ) {
    // a buffer per write: zlib keeps it until it has taken it
    const chunk = Buffer.allocUnsafe(CHUNK_SIZE);
    const { bytesRead } = await handle.read(chunk, 0, CHUNK_SIZE, position);
    if (done) return;
    if (bytesRead === 0) {
      gunzip.end();
      return;
    }
    position += bytesRead;
    if (!gunzip.write(chunk.subarray(0, bytesRead))) await Promise.race([new Promise((resolve) => gunzip.once('drain', resolve)), settled]);
  }
}

/** The first `length` decompressed bytes of the gzip file open at `handle` (fewer when it has fewer, or is damaged) */
export async function gunzipHead(handle: FileHandle, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await gunzipText(handle, 0, length, (bytes) => {
    chunks.push(bytes);
    return true;
  });
  return Buffer.concat(chunks);
}
