/**
 * The rotated siblings of a log file (auth.log.1, auth.log-20240101, auth.log.2.gz, ...) and which of them hold
 * lines written after a given one: what a tailer must read, oldest first, when it resumes after rotations it did
 * not see.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface Rotated {
  path: string;
  name: string;
  dev: number;
  ino: number;
  size: number;
  /** ns since the epoch: exact, so that equal times compare equal */
  mtimeNs: bigint;
  /** 0n where the file system does not say */
  birthtimeNs: bigint;
  /** .gz, .xz, ...: not readable as text as it is (.gz is read through node:zlib, the others not at all) */
  compressed: boolean;
  /** logrotate's numbering (FILE.N: higher is older) or the date of dateext (FILE-YYYYMMDD...: lower is older) */
  order: { kind: 'number'; n: number } | { kind: 'date'; stamp: string };
}

/** At most this many rotated files, and this many bytes, are read on one resume; the rest is warned about */
export const MAX_ROTATED_FILES = 20;
export const MAX_ROTATED_BYTES = 512 * 1024 * 1024;

const COMPRESSED = /\.(gz|xz|zst|bz2|lz4|lzma|Z)$/;
/** FILE.N, or dateext: FILE-YYYYMMDD, FILE-YYYY-MM-DD, FILE-YYYYMMDD-HH, FILE-YYYYMMDDHH, FILE-YYYYMMDD-EPOCH ... */
const SUFFIX = /^(?:\.(\d{1,9})|[-._](\d{4}-?\d{2}-?\d{2}(?:[-_T.]?\d+)*))$/;

/** The extension logrotate's `extension` directive keeps last (`app.log` → `app.1.log`, `app-20261201.log.gz`) */
const EXTENSION = /^(.+)(\.[A-Za-z0-9]{1,8})$/;

/**
 * How `name` is a rotated form of `base`, or null when it is not one: the rotation's suffix after the whole name
 * (`auth.log.1`), or, as logrotate writes it with `extension`, between the name and its extension (`app.1.log`)
 */
export function rotatedName(base: string, name: string): Pick<Rotated, 'compressed' | 'order'> | null {
  if (name === base) return null;
  const compressed = COMPRESSED.test(name);
  const plain = compressed ? name.replace(COMPRESSED, '') : name;
  let m = plain.startsWith(base) ? SUFFIX.exec(plain.slice(base.length)) : null;
  const ext = m ? null : EXTENSION.exec(base);
  if (ext && plain.startsWith(ext[1]!) && plain.endsWith(ext[2]!) && plain.length > base.length) {
    m = SUFFIX.exec(plain.slice(ext[1]!.length, plain.length - ext[2]!.length));
  }
  if (!m) return null;
  return { compressed, order: m[1] !== undefined ? { kind: 'number', n: Number(m[1]) } : { kind: 'date', stamp: m[2]!.replace(/\D/g, '') } };
}

/** The rotated siblings of `path` in its folder (regular files only; the path itself is not one). */
export async function listRotated(path: string): Promise<Rotated[]> {
  const dir = dirname(path);
  const base = basename(path);
  const out: Rotated[] = [];
  for (const name of await readdir(dir)) {
    const kind = rotatedName(base, name);
    if (!kind) continue;
    const full = join(dir, name);
    const info = await stat(full, { bigint: true }).catch(() => null);
    if (!info || !info.isFile()) continue;
    out.push({
      path: full, name, dev: Number(info.dev), ino: Number(info.ino), size: Number(info.size),
      mtimeNs: info.mtimeNs, birthtimeNs: info.birthtimeNs, ...kind,
    });
  }
  return out;
}

/** Which of two rotated files came later by name alone: 0 when the names do not say (another form) */
export function compareNames(a: Rotated, b: Rotated): number {
  if (a.order.kind === 'number' && b.order.kind === 'number' && a.order.n !== b.order.n) return b.order.n - a.order.n;
  if (a.order.kind === 'date' && b.order.kind === 'date' && a.order.stamp !== b.order.stamp) return a.order.stamp < b.order.stamp ? -1 : 1;
  return 0;
}

/** Which of two rotated files was written last: their last write, then their birth, then their names */
export function compareAge(a: Rotated, b: Rotated): number {
  if (a.mtimeNs !== b.mtimeNs) return a.mtimeNs < b.mtimeNs ? -1 : 1;
  if (a.birthtimeNs > 0n && b.birthtimeNs > 0n && a.birthtimeNs !== b.birthtimeNs) return a.birthtimeNs < b.birthtimeNs ? -1 : 1;
  return compareNames(a, b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export interface NewerFiles {
  /** Files to read after `after`, oldest first: plain ones and .gz ones */
  read: Rotated[];
  /** Newer files compressed other than by gzip (.xz, .zst, ...): not read */
  compressed: Rotated[];
  /** Newer files beyond the bounds: not read (the oldest ones are left, so the latest lines are read) */
  beyondBounds: Rotated[];
}

/** Compressed by gzip, by its name: readable through node:zlib */
export function isGzip(rotated: Rotated): boolean {
  return rotated.compressed && rotated.name.endsWith('.gz');
}

/**
 * The siblings written after `after`, which holds the stored position: a file last written before it is older
 * (already read, or unrelated, like a FILE.7 from last week). `exclude` are inodes never to read here (the file
 * now at the path, read after these). Hard links to one inode count once. `by` 'name' orders by the rotated
 * names alone, for when `after`'s time cannot be trusted (a compressed file). The files to read are bounded by
 * MAX_ROTATED_FILES and `maxBytes`, a .gz file counting its compressed size here (the least its text can be: its
 * decompressed bytes are bounded while read).
 *
 * A compressed file's time is its compression's, not its last line's: with delaycompress, FILE.2.gz is made by the
 * rotation that makes FILE.1, after FILE.1's last line. So whether a compressed file came after `after`, and where
 * it goes among the plain ones, only its name says (a name of another form than `after`'s says nothing: not read);
 * plain files go by their last write.
 */
export function newerThan(siblings: Rotated[], after: Rotated, exclude: { dev: number; ino: number }[], by: 'time' | 'name' = 'time', maxBytes = MAX_ROTATED_BYTES): NewerFiles {
  const seen = new Set([`${after.dev}:${after.ino}`, ...exclude.map((e) => `${e.dev}:${e.ino}`)]);
  const compare = (a: Rotated, b: Rotated) => (by === 'time' && !a.compressed && !b.compressed ? compareAge(a, b) : compareNames(a, b));
  const newer: Rotated[] = [];
  for (const s of [...siblings].sort(compareAge)) {
    const key = `${s.dev}:${s.ino}`;
    if (seen.has(key) || compare(s, after) <= 0 || beingCompressed(s, siblings)) continue;
    seen.add(key);
    newer.push(s);
  }
  const ordered = newer.filter((s) => !s.compressed).sort(compare);
  for (const c of newer.filter(isGzip).sort(compareNames)) {
    const at = ordered.findIndex((s) => compareNames(s, c) > 0);
    ordered.splice(at < 0 ? ordered.length : at, 0, c);
  }
  // the newest first until a bound is reached
  let files = 0;
  let bytes = 0;
  let cut = ordered.length;
  while (cut > 0 && files < MAX_ROTATED_FILES && bytes + ordered[cut - 1]!.size <= maxBytes) {
    cut--;
    files++;
    bytes += ordered[cut]!.size;
  }
  return { read: ordered.slice(cut), compressed: newer.filter((s) => s.compressed && !isGzip(s)), beyondBounds: ordered.slice(0, cut) };
}

/** A compressed file whose plain original is still there: logrotate is compressing it (the original is read) */
function beingCompressed(file: Rotated, siblings: Rotated[]): boolean {
  return file.compressed && siblings.some((s) => !s.compressed && s.name === file.name.replace(COMPRESSED, ''));
}
