/**
 * Editing a whitelist file by command: one entry added or removed, every other line (comments, blank lines,
 * other entries) kept as it was, and the file replaced atomically (a temporary file in the same folder, synced,
 * renamed over it, with the old file's mode and owner), so the daemon watching it never reads half a file.
 */
import { chownSync, closeSync, fchmodSync, existsSync, fsyncSync, lstatSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { type Network, networkText } from './network.js';
import { addWhitelistEntry, emptyEntries } from './whitelist.js';
import { makeFolders } from '../files/folders.js';

export type WhitelistEntry = { kind: 'network'; net: Network; text: string } | { kind: 'hostname'; name: string; text: string };

export class WhitelistEntryError extends Error {}

/** Checks an entry by the rules whitelist files are read with; throws WhitelistEntryError saying what is wrong. */
export function parseWhitelistEntry(text: string): WhitelistEntry {
  if (text === '' || /[\s#]/.test(text)) {
    throw new WhitelistEntryError(`${JSON.stringify(text)} is not an entry: one address, CIDR or hostname, without blanks or #`);
  }
  const entries = emptyEntries();
  addWhitelistEntry(entries, text);
  const net = entries.networks[0]?.net;
  if (net) return { kind: 'network', net, text: networkText(net) };
  const name = entries.hostnames[0]?.name;
  if (name) return { kind: 'hostname', name, text: name };
  const looksLikeAddress = /^[\d.]+(\/.*)?$/.test(text) || text.includes(':');
  throw new WhitelistEntryError(
    `${JSON.stringify(text)} is not an address, CIDR or hostname${looksLikeAddress ? ' (an IPv4 address is four numbers 0-255; a CIDR length is 0-32 for IPv4, 0-128 for IPv6)' : ''}`,
  );
}

/** The same entry, however written (192.0.2.1 and 192.0.2.1/32; host names in any case) */
const keyOf = (e: WhitelistEntry) => (e.kind === 'network' ? `net ${e.text}` : `host ${e.name}`);

export interface WhitelistLine {
  /** 1-based */
  line: number;
  /** The entry as written */
  written: string;
  entry: WhitelistEntry | null;
  /** Why the line is not an entry, when it is not */
  problem: string | null;
}

/** The entries of a whitelist file's text, with their lines (as readWhitelistFile reads them). */
export function whitelistLines(text: string): WhitelistLine[] {
  const out: WhitelistLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const written = raw.replace(/[\s#].*$/s, '');
    if (written === '') return;
    try {
      out.push({ line: i + 1, written, entry: parseWhitelistEntry(written), problem: null });
    } catch (error) {
      out.push({ line: i + 1, written, entry: null, problem: (error as Error).message });
    }
  });
  return out;
}

/** The lines holding `entry` (1-based). */
export function findEntry(text: string, entry: WhitelistEntry): number[] {
  return whitelistLines(text)
    .filter((l) => l.entry !== null && keyOf(l.entry) === keyOf(entry))
    .map((l) => l.line);
}

/** The text with `entry` added as a line of its own at the end (kept ending in a newline). */
export function withEntry(text: string, entry: WhitelistEntry): string {
  const base = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return `${base}${entry.text}\n`;
}

/** The text without the lines that hold `entry` (their comments go with them); every other line unchanged. */
export function withoutEntry(text: string, entry: WhitelistEntry): string {
  const drop = new Set(findEntry(text, entry));
  return text
    .split('\n')
    .filter((_, i) => !drop.has(i + 1))
    .join('\n');
}

/**
 * Replaces `file` with `text` atomically. A symbolic link is followed (the file it names is replaced, the link
 * stays); a new file gets mode 0644 and its folder is created.
 */
export function writeFileAtomically(file: string, text: string): void {
  const target = existsSync(file) && lstatSync(file).isSymbolicLink() ? realpathSync(file) : file;
  const old = existsSync(target) ? statSync(target) : null;
  if (old && !old.isFile()) throw new Error(`${target} is not a regular file`);
  const folder = dirname(target);
  if (!old) makeFolders(folder);
  const temporary = join(folder, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = old ? old.mode & 0o7777 : 0o644;
  const fd = openSync(temporary, 'wx', mode);
  try {
    fchmodSync(fd, mode); // not narrowed by the umask
    writeSync(fd, text);
    if (old && (old.uid !== process.getuid?.() || old.gid !== process.getgid?.())) chownSync(temporary, old.uid, old.gid);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, target);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    try {
      unlinkSync(temporary);
    } catch {
      // renamed, or never written
    }
    throw error;
  }
  // the rename itself must survive a crash too
  const dirFd = openSync(folder, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** The file's text, '' when it does not exist yet. */
export function readWhitelistText(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
