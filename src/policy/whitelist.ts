/**
 * The whitelist: loopback always, plus addresses, CIDRs and hostnames from files and -w, in sshguard's
 * syntax. Hostnames are resolved off the hot path by an injected resolver and refreshed periodically.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { AddressKind } from '../parse/address.js';
import { type Network, NetworkSet, networkText, parseNetwork } from './network.js';

export interface WhitelistProblem {
  source: string;
  line: number | null;
  entry: string;
  message: string;
  /** A network wider than WIDEST_WHITELIST, skipped */
  wide?: boolean;
}

export interface WhitelistEntries {
  /** `line`: the entry's line in its file (none for -w) */
  networks: { net: Network; source: string; line?: number }[];
  hostnames: { name: string; source: string; line?: number }[];
  problems: WhitelistProblem[];
}

const LOOPBACK = ['127.0.0.0/8', '::1'];
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

function addEntry(entries: WhitelistEntries, text: string, source: string, line: number | null): void {
  const net = parseNetwork(text);
  const at = line === null ? {} : { line };
  if (net) {
    entries.networks.push({ net, source, ...at });
  } else if (HOSTNAME.test(text) && !/^[\d.]+$/.test(text)) {
    entries.hostnames.push({ name: text.toLowerCase().replace(/\.$/, ''), source, ...at });
  } else {
    entries.problems.push({ source, line, entry: text, message: 'not an address, CIDR or hostname' });
  }
}

/**
 * Whitelisted networks wider than these (0.0.0.0/0, ::/0, 2000::/3...) turn protection off for a large part of
 * the Internet, most likely by a typo: refused unless asked for (run --wide-whitelist). /8 and IPv6 /32 are the
 * widest networks one organisation holds.
 */
export const WIDEST_WHITELIST: Readonly<Record<AddressKind, number>> = { 4: 8, 6: 32 };

export function isWideNetwork(net: Network): boolean {
  return net.cidr < WIDEST_WHITELIST[net.kind];
}

/** Why a wide entry is refused, for errors and logs. */
export function wideNetworkProblem(net: Network): string {
  const share = net.cidr === 0 ? 'every address' : `1/${2 ** net.cidr} of all ${net.kind === 4 ? 'IPv4' : 'IPv6'} addresses`;
  return `${networkText(net)} would never block ${share} (wider than /${WIDEST_WHITELIST[net.kind]}); give --wide-whitelist (wide-whitelist=yes in the configuration) if that is meant`;
}

/** Moves the entries wider than WIDEST_WHITELIST to the problems (skipped, as any entry that is not valid). */
export function withoutWide(entries: WhitelistEntries): WhitelistEntries {
  const wide = entries.networks.filter((n) => isWideNetwork(n.net));
  if (wide.length === 0) return entries;
  return {
    networks: entries.networks.filter((n) => !isWideNetwork(n.net)),
    hostnames: entries.hostnames,
    problems: [
      ...entries.problems,
      ...wide.map((n) => ({ source: n.source, line: n.line ?? null, entry: networkText(n.net), message: wideNetworkProblem(n.net), wide: true })),
    ],
  };
}

/** Parses a whitelist file's text: one entry per line, everything after whitespace or `#` is a comment. */
export function parseWhitelistText(text: string, source: string, entries: WhitelistEntries = emptyEntries()): WhitelistEntries {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const entry = lines[i].replace(/[\s#].*$/s, '');
    if (entry.length > 0) addEntry(entries, entry, source, i + 1);
  }
  return entries;
}

export function emptyEntries(): WhitelistEntries {
  return { networks: [], hostnames: [], problems: [] };
}

/** A `-w` value names a file when it starts with `/` or `.` (sshguard's rule) or names an existing file. */
export function isWhitelistFile(value: string): boolean {
  return value.startsWith('/') || value.startsWith('.') || (existsSync(value) && statSync(value).isFile());
}

/** Reads a whitelist file into `entries`; throws when it cannot be read. */
export function readWhitelistFile(file: string, entries: WhitelistEntries = emptyEntries()): WhitelistEntries {
  return parseWhitelistText(readFileSync(file, 'utf8'), file, entries);
}

/** Adds one entry given on the command line (not a file). */
export function addWhitelistEntry(entries: WhitelistEntries, value: string, source = '-w'): void {
  addEntry(entries, value, source, null);
}

/**
 * A `-w` value for one-shot commands: a file (an unreadable one becomes a problem, reported and skipped) or one
 * entry. The daemon is stricter: see config/run.ts.
 */
export function addWhitelistArgument(entries: WhitelistEntries, value: string): void {
  if (!isWhitelistFile(value)) {
    addEntry(entries, value, '-w', null);
    return;
  }
  try {
    readWhitelistFile(value, entries);
  } catch (error) {
    entries.problems.push({ source: value, line: null, entry: value, message: `cannot read: ${(error as Error).message}` });
  }
}

/** What entries one whitelist has and another lacks, by network or hostname (wherever each came from). */
export interface WhitelistDiff {
  added: { networks: Network[]; hostnames: string[] };
  removed: { networks: Network[]; hostnames: string[] };
}

export function diffWhitelist(before: WhitelistEntries, after: WhitelistEntries): WhitelistDiff {
  const nets = (e: WhitelistEntries) => new Map(e.networks.map(({ net }) => [networkText(net), net]));
  const names = (e: WhitelistEntries) => new Set(e.hostnames.map((h) => h.name));
  const [netsBefore, netsAfter] = [nets(before), nets(after)];
  const [namesBefore, namesAfter] = [names(before), names(after)];
  const only = <T>(a: Map<string, T>, b: Map<string, T>) => [...a].filter(([key]) => !b.has(key)).map(([, v]) => v);
  return {
    added: { networks: only(netsAfter, netsBefore), hostnames: [...namesAfter].filter((n) => !namesBefore.has(n)) },
    removed: { networks: only(netsBefore, netsAfter), hostnames: [...namesBefore].filter((n) => !namesAfter.has(n)) },
  };
}

/** A whitelisted network and where it came from: a file and line, `-w`, `loopback`; `hostname` when resolved from one. */
export interface WhitelistSource {
  net: Network;
  source: string;
  line?: number;
  hostname?: string;
}

export type Resolver = (hostname: string) => Promise<string[]>;

export class Whitelist {
  private networks = new NetworkSet();
  /** Where each entry came from, for explanations */
  private readonly sources: WhitelistSource[] = [];
  private resolved = new Map<string, string[]>();

  constructor(
    private current: WhitelistEntries,
    private readonly resolver: Resolver | null = null,
  ) {
    this.rebuild();
  }

  get entries(): WhitelistEntries {
    return this.current;
  }

  /**
   * Takes new entries (a reloaded whitelist file) at once; hostnames already resolved keep their addresses, new
   * ones count from the next refresh().
   */
  replace(entries: WhitelistEntries): void {
    this.current = entries;
    const names = new Set(entries.hostnames.map((h) => h.name));
    for (const name of this.resolved.keys()) if (!names.has(name)) this.resolved.delete(name);
    this.rebuild();
  }

  private rebuild(): void {
    const set = new NetworkSet();
    this.sources.length = 0;
    for (const text of LOOPBACK) {
      const net = parseNetwork(text)!;
      set.add(net);
      this.sources.push({ net, source: 'loopback' });
    }
    for (const entry of this.entries.networks) {
      set.add(entry.net);
      this.sources.push(entry);
    }
    for (const { name, source, line } of this.entries.hostnames) {
      for (const addr of this.resolved.get(name) ?? []) {
        const net = parseNetwork(addr);
        if (!net) continue;
        set.add(net);
        this.sources.push({ net, source: `${source} (${name})`, hostname: name, ...(line === undefined ? {} : { line }) });
      }
    }
    this.networks = set;
  }

  /** Resolves every hostname entry (keeping the last answer when a lookup fails) and returns failures. */
  async refresh(): Promise<WhitelistProblem[]> {
    if (!this.resolver || this.entries.hostnames.length === 0) return [];
    const problems: WhitelistProblem[] = [];
    const next = new Map(this.resolved);
    await Promise.all(
      this.entries.hostnames.map(async ({ name, source }) => {
        try {
          next.set(name, await this.resolver!(name));
        } catch (error) {
          problems.push({ source, line: null, entry: name, message: `cannot resolve: ${(error as Error).message}` });
        }
      }),
    );
    this.resolved = next;
    this.rebuild();
    return problems;
  }

  /**
   * Resolves hostnames now and then every `periodMs`, off the parsing path (also those a reload adds later);
   * returns the function that stops it.
   */
  startRefresh(periodMs: number, onProblems: (problems: WhitelistProblem[]) => void): () => void {
    if (!this.resolver) return () => {};
    const tick = () => void this.refresh().then((problems) => problems.length > 0 && onProblems(problems));
    tick();
    const timer = setInterval(tick, periodMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  has(addr: string, kind: AddressKind): boolean {
    return this.networks.has(addr, kind);
  }

  /** True when a block of `net` would cover a whitelisted address. */
  overlaps(net: Network): boolean {
    return this.networks.intersects(net);
  }

  /** Which entry whitelists `addr`, for explanations. */
  reason(addr: string, kind: AddressKind): string | null {
    const entry = this.entryFor(addr, kind);
    return entry === null ? null : `${entry.source}: ${entry.net.addr}/${entry.net.cidr}`;
  }

  /** The first entry that whitelists `addr`: its network, file (or -w, loopback) and line. */
  entryFor(addr: string, kind: AddressKind): WhitelistSource | null {
    for (const entry of this.sources) {
      const one = new NetworkSet();
      one.add(entry.net);
      if (one.has(addr, kind)) return entry;
    }
    return null;
  }

  /** Every whitelisted network (for the firewall's allow sets). */
  list(): Network[] {
    return this.sources.map((s) => s.net);
  }
}
