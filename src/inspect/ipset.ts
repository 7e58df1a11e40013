/** Reading `ipset list` output: each set's name, type, family and members (pure; the command is run elsewhere). */
import { covers, type Target } from './finding.js';

export interface IpsetMember {
  /** The address, ADDR/LEN or range part of the member (ports and interfaces of hash:net,port and the like cut off) */
  value: string;
  /** Seconds left, when the member has a timeout */
  timeout: number | null;
  /** An exception inside the set (`nomatch`): addresses it covers do not match */
  nomatch: boolean;
}

export interface IpsetSet {
  name: string;
  type: string;
  family: 'inet' | 'inet6' | null;
  members: IpsetMember[];
}

export function parseIpsetList(text: string): IpsetSet[] {
  const sets: IpsetSet[] = [];
  let current: IpsetSet | null = null;
  let inMembers = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Name: ')) {
      current = { name: line.slice(6).trim(), type: '', family: null, members: [] };
      sets.push(current);
      inMembers = false;
    } else if (current === null) {
      continue;
    } else if (inMembers) {
      if (line.trim() === '') inMembers = false;
      else current.members.push(memberOf(line.trim()));
    } else if (line.startsWith('Type: ')) {
      current.type = line.slice(6).trim();
    } else if (line.startsWith('Header: ')) {
      const words = line.slice(8).trim().split(/\s+/);
      const family = words[words.indexOf('family') + 1];
      if (words.includes('family') && (family === 'inet' || family === 'inet6')) current.family = family;
    } else if (line.startsWith('Members:')) {
      inMembers = true;
    }
  }
  return sets;
}

function memberOf(text: string): IpsetMember {
  const words = text.split(/\s+/);
  const at = words.indexOf('timeout');
  const timeout = at >= 0 ? Number(words[at + 1]) : NaN;
  return { value: words[0].split(',')[0], timeout: Number.isFinite(timeout) ? timeout : null, nomatch: words.includes('nomatch') };
}

/** The member of `set` that makes it match the target, or null (a covering `nomatch` member excludes it). */
export function memberCovering(set: IpsetSet, target: Target): IpsetMember | null {
  if (set.members.some((m) => m.nomatch && covers(target, m.value))) return null;
  return set.members.find((m) => !m.nomatch && covers(target, m.value)) ?? null;
}
