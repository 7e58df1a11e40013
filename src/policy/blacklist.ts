/**
 * sshguard's blacklist file: `unix_time|service|kind|addr` per line; lines starting with `#` or whitespace
 * are skipped. Its addresses are blocked for good at start.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressKind } from '../parse/address.js';
import { type Network, parseNetwork } from './network.js';
import { makeFolders } from '../files/folders.js';

export interface BlacklistEntry {
  /** ms */
  time: number;
  service: number;
  net: Network;
}

export interface BlacklistOption {
  threshold: number;
  file: string;
}

/** Parses `-b THRESH:FILE`. */
export function parseBlacklistOption(value: string): BlacklistOption {
  const m = /^(\d+):(.+)$/.exec(value);
  if (!m) throw new Error(`--blacklist: expected THRESH:FILE (e.g. 90:/var/lib/logwarden/blacklist), got ${JSON.stringify(value)}`);
  return { threshold: Number(m[1]), file: m[2] };
}

export function parseBlacklist(text: string, source: string): { entries: BlacklistEntry[]; problems: string[] } {
  const entries: BlacklistEntry[] = [];
  const problems: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.length === 0 || line.startsWith('#') || /^\s/.test(line)) continue;
    const fields = line.split('|');
    const net = fields.length === 4 ? parseNetwork(fields[3].trim()) : null;
    if (!net || !/^\d+$/.test(fields[0]) || !/^\d+$/.test(fields[1]) || (fields[2] !== '4' && fields[2] !== '6')) {
      problems.push(`${source}:${i + 1}: not a blacklist line (time|service|kind|addr): ${JSON.stringify(line.slice(0, 80))}`);
      continue;
    }
    entries.push({ time: Number(fields[0]) * 1000, service: Number(fields[1]), net });
  }
  return { entries, problems };
}

/** Reads the blacklist file; a missing file is an empty list (it is created on the first permanent block). */
export function readBlacklist(file: string): { entries: BlacklistEntry[]; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], problems: [] };
    throw new Error(`cannot read blacklist ${file}: ${(error as Error).message}`);
  }
  return parseBlacklist(text, file);
}

export function blacklistLine(time: number, service: number, kind: AddressKind, addr: string): string {
  return `${Math.floor(time / 1000)}|${service}|${kind}|${addr}\n`;
}

export function appendBlacklist(file: string, line: string): void {
  makeFolders(dirname(file));
  appendFileSync(file, line);
}
