/**
 * Address arithmetic for keys, blocks and whitelist ranges: an address as a bigint, prefixes and
 * containment. Input must already be canonical (see parse/address.ts).
 */
import { type AddressKind, canonicalIP, formatIPv6, parseIPv4Octets, parseIPv6Groups } from '../parse/address.js';

export interface Network {
  /** Canonical network address */
  addr: string;
  cidr: number;
  kind: AddressKind;
}

export function addressToBigInt(addr: string, kind: AddressKind): bigint {
  if (kind === 4) {
    const o = parseIPv4Octets(addr)!;
    return BigInt(((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3]);
  }
  let value = 0n;
  for (const group of parseIPv6Groups(addr)!) value = (value << 16n) | BigInt(group);
  return value;
}

export function bigIntToAddress(value: bigint, kind: AddressKind): string {
  if (kind === 4) {
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  return formatIPv6(groups);
}

/** Bits in an address of this kind: 32 or 128. */
export const width = (kind: AddressKind) => (kind === 4 ? 32 : 128);

/** The network of `addr` with the given prefix length. */
export function networkOf(addr: string, kind: AddressKind, cidr: number): Network {
  if (cidr >= width(kind)) return { addr, cidr: width(kind), kind };
  if (kind === 4) {
    const o = parseIPv4Octets(addr)!;
    const n = ((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3];
    const mask = cidr === 0 ? 0 : (~0 << (32 - cidr)) >>> 0;
    const net = (n & mask) >>> 0;
    return { addr: `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}`, cidr, kind };
  }
  const groups = parseIPv6Groups(addr)!;
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, cidr - i * 16));
    groups[i] &= keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
  }
  return { addr: formatIPv6(groups), cidr, kind };
}

/**
 * True when `net` is exactly what the parsers produce: a canonical address of its kind, a prefix length in
 * range and no host bits. The firewall backends render nothing else.
 */
export function isCanonicalNetwork(net: unknown): net is Network {
  if (net === null || typeof net !== 'object') return false;
  const n = net as Network;
  if ((n.kind !== 4 && n.kind !== 6) || typeof n.addr !== 'string' || !Number.isInteger(n.cidr)) return false;
  if (n.cidr < 0 || n.cidr > width(n.kind)) return false;
  const ip = canonicalIP(n.addr);
  return ip !== null && ip.addr === n.addr && ip.kind === n.kind && networkOf(n.addr, n.kind, n.cidr).addr === n.addr;
}

/** `addr` for a host network, `addr/cidr` otherwise: the text users see and the store's key. */
export function networkText(net: Network): string {
  return net.cidr === width(net.kind) ? net.addr : `${net.addr}/${net.cidr}`;
}

/** Parses `ADDR` or `ADDR/LEN` into a canonical network (host bits cleared), or null. */
export function parseNetwork(text: string): Network | null {
  const slash = text.indexOf('/');
  const ip = canonicalIP(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return null;
  if (slash < 0) return { addr: ip.addr, cidr: width(ip.kind), kind: ip.kind };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const len = Number(lenText);
  if (len > width(ip.kind)) return null;
  return networkOf(ip.addr, ip.kind, len);
}

/** A set of networks with a fast membership test for addresses. */
export class NetworkSet {
  private readonly exact = new Set<string>();
  private readonly ranges: { kind: AddressKind; start: bigint; end: bigint }[] = [];

  add(net: Network): void {
    if (net.cidr === width(net.kind)) {
      this.exact.add(net.addr);
      return;
    }
    const start = addressToBigInt(net.addr, net.kind);
    const size = 1n << BigInt(width(net.kind) - net.cidr);
    this.ranges.push({ kind: net.kind, start, end: start + size - 1n });
  }

  has(addr: string, kind: AddressKind): boolean {
    if (this.exact.has(addr)) return true;
    if (this.ranges.length === 0) return false;
    const value = addressToBigInt(addr, kind);
    for (const r of this.ranges) if (r.kind === kind && value >= r.start && value <= r.end) return true;
    return false;
  }

  /** True when some member lies inside `net` (a block of `net` would catch it). */
  intersects(net: Network): boolean {
    const start = addressToBigInt(net.addr, net.kind);
    const end = start + (1n << BigInt(width(net.kind) - net.cidr)) - 1n;
    for (const addr of this.exact) {
      const ip = canonicalIP(addr)!;
      if (ip.kind !== net.kind) continue;
      const v = addressToBigInt(addr, ip.kind);
      if (v >= start && v <= end) return true;
    }
    return this.ranges.some((r) => r.kind === net.kind && r.start <= end && r.end >= start);
  }

  get size(): number {
    return this.exact.size + this.ranges.length;
  }
}
