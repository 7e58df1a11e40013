/**
 * Opt-in resolution of client host names (`--resolve-hostnames`), for lines that name an attacker by host name
 * where no line of the same connection gives its address. Off the parsing path (the engine goes on while a
 * lookup runs), cached, rate-limited, and forward-confirmed: a name counts against an address only when the
 * address's reverse lookup gives the same name back. An attacker controls the DNS of his own names and can point
 * one at any address, the owner's included; he cannot make someone else's address reverse to his name.
 */
import { promises as dns } from 'node:dns';
import { parseAddress } from '../parse/address.js';
import type { AddressKind } from '../parse/address.js';
import type { Logger } from '../log/logger.js';

export interface Dns {
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  reverse(addr: string): Promise<string[]>;
}

export interface ResolvedHost {
  addr: string;
  kind: AddressKind;
}

export interface HostnameResolverOptions {
  dns?: Dns;
  /** Lookups started per second at most; names past it are left unresolved (and counted) */
  perSecond?: number;
  /** How long an answer (or a failure) is kept, ms */
  cacheMs?: number;
  /** Names cached at most */
  cacheSize?: number;
  now?: () => number;
  log?: Logger;
}

export interface ResolverStats {
  lookups: number;
  cached: number;
  confirmed: number;
  unconfirmed: number;
  failed: number;
  rateLimited: number;
}

const canonicalName = (name: string) => name.toLowerCase().replace(/\.$/, '');

export class HostnameResolver {
  readonly stats: ResolverStats = { lookups: 0, cached: 0, confirmed: 0, unconfirmed: 0, failed: 0, rateLimited: 0 };
  private readonly dns: Dns;
  private readonly perSecond: number;
  private readonly cacheMs: number;
  private readonly cacheSize: number;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly cache = new Map<string, { until: number; hosts: ResolvedHost[] }>();
  private readonly inFlight = new Map<string, Promise<ResolvedHost[]>>();
  private windowStart = -Infinity;
  private startedInWindow = 0;

  constructor(options: HostnameResolverOptions = {}) {
    this.dns = options.dns ?? dns;
    this.perSecond = options.perSecond ?? 5;
    this.cacheMs = options.cacheMs ?? 3_600_000;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.now = options.now ?? Date.now;
    this.log = options.log;
  }

  /** The forward-confirmed addresses of a host name: empty when it has none, or when over the rate limit. */
  async resolve(hostname: string): Promise<ResolvedHost[]> {
    const name = canonicalName(hostname);
    const now = this.now();
    const hit = this.cache.get(name);
    if (hit !== undefined && hit.until > now) {
      this.stats.cached++;
      return hit.hosts;
    }
    const running = this.inFlight.get(name);
    if (running !== undefined) return running;
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.startedInWindow = 0;
    }
    if (this.startedInWindow >= this.perSecond) {
      this.stats.rateLimited++;
      return [];
    }
    this.startedInWindow++;
    this.stats.lookups++;
    const lookup = this.confirmed(name).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, lookup);
    const hosts = await lookup;
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(name, { until: this.now() + this.cacheMs, hosts });
    return hosts;
  }

  private async confirmed(name: string): Promise<ResolvedHost[]> {
    const forward = await Promise.all([
      this.dns.resolve4(name).catch(() => [] as string[]),
      this.dns.resolve6(name).catch(() => [] as string[]),
    ]);
    const candidates = forward.flat();
    if (candidates.length === 0) {
      this.stats.failed++;
      this.log?.info({ hostname: name }, 'host name has no address: its attacks stay unresolved');
      return [];
    }
    const hosts: ResolvedHost[] = [];
    for (const text of candidates) {
      const parsed = parseAddress(text);
      if (parsed === null || !('addr' in parsed)) continue;
      const names = await this.dns.reverse(parsed.addr).catch(() => [] as string[]);
      if (names.map(canonicalName).includes(name)) hosts.push({ addr: parsed.addr, kind: parsed.kind });
    }
    if (hosts.length > 0) {
      this.stats.confirmed++;
      this.log?.info({ hostname: name, addresses: hosts.map((h) => h.addr) }, 'host name resolved (forward-confirmed)');
    } else {
      this.stats.unconfirmed++;
      this.log?.warn({ hostname: name, addresses: candidates }, 'host name not forward-confirmed: no address reverses to it, nobody is blamed');
    }
    return hosts;
  }
}
