/**
 * What inspecting the live firewall finds for one address: a rule, or a set element, that matches it (the
 * address itself or a prefix or range containing it), where it is, and which tool it looks like.
 */
import type { AddressKind } from '../parse/address.js';
import { addressToBigInt, parseNetwork, width } from '../policy/network.js';

export type Verdict = 'drop' | 'reject' | 'accept' | 'return' | 'jump' | 'other';

export interface Finding {
  /** The command whose output showed it: nft, iptables-legacy-save, ip6tables-nft-save, ipset, ... */
  source: string;
  /** logwarden, sshguard, fail2ban, crowdsec, or other (hand-written or an unknown tool) */
  tool: string;
  /** nft: family and name (`inet crowdsec`); iptables: the table (filter, raw, ...); ipset: null */
  table: string | null;
  chain: string | null;
  set: string | null;
  /** The element or prefix that covers the address, as the tool prints it */
  matched: string;
  /** Whether the address is matched as a packet's source or destination */
  direction: 'source' | 'destination';
  /** The rule as the tool prints it (null: a set element no rule seen uses) */
  rule: string | null;
  verdict: Verdict;
  /** A jump's or goto's chain, or another target's name (LOG, ...) */
  target: string | null;
  /** Dropped or rejected by this rule (or by a rule using this set) */
  blocks: boolean;
  /** Seconds the set element has left, when it has a timeout */
  expiresIn: number | null;
  /** nft's handle of the rule */
  handle: number | null;
  /** Why a DROP or REJECT found does not block it: an earlier rule of its chain accepts or returns the address */
  shadowedBy: string | null;
  /** iptables: why no packet reaches the rule's chain (nothing jumps to it from a built-in chain); it blocks nothing */
  unreached?: string;
}

/** A rule or set of no well-known tool: hand-written, or a tool not recognised */
export const UNKNOWN_TOOL = 'other';

/** The address explained, with its value for comparisons. */
export interface Target {
  addr: string;
  kind: AddressKind;
  value: bigint;
}

export function targetOf(addr: string, kind: AddressKind): Target {
  return { addr, kind, value: addressToBigInt(addr, kind) };
}

/**
 * True when `text` (an address, ADDR/LEN, or FIRST-LAST range, as nft, iptables-save and ipset print them)
 * contains the target. Anything else (another family, a port, a name) is not a match.
 */
export function covers(target: Target, text: string): boolean {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const first = parseNetwork(text.slice(0, dash));
    const last = parseNetwork(text.slice(dash + 1));
    if (!first || !last || first.kind !== target.kind || last.kind !== target.kind) return false;
    return addressToBigInt(first.addr, first.kind) <= target.value && target.value <= addressToBigInt(last.addr, last.kind);
  }
  const net = parseNetwork(text);
  if (!net || net.kind !== target.kind) return false;
  const start = addressToBigInt(net.addr, net.kind);
  return start <= target.value && target.value < start + (1n << BigInt(width(net.kind) - net.cidr));
}

/** Which tool made an object, by the names the well-known ones use (the set's name first, then chain, table). */
export function toolOf(names: { table?: string | null; chain?: string | null; set?: string | null }, fwName: string): string {
  const { table, chain, set } = names;
  if (set) {
    if (set === `${fwName}-block4` || set === `${fwName}-block6` || set === `${fwName}-allow4` || set === `${fwName}-allow6`) return 'logwarden';
    if (/^sshguard[46]?$/.test(set)) return 'sshguard';
    if (set.startsWith('f2b-')) return 'fail2ban';
    if (/^crowdsec6?-blacklists/.test(set)) return 'crowdsec';
  }
  if (chain) {
    if (chain === fwName || chain === `${fwName}-blk`) return 'logwarden';
    if (chain === 'sshguard') return 'sshguard';
    if (chain.startsWith('f2b-')) return 'fail2ban';
    if (/^crowdsec/i.test(chain)) return 'crowdsec';
  }
  if (table) {
    if (table === fwName) return 'logwarden';
    if (table === 'sshguard') return 'sshguard';
    if (table === 'f2b-table') return 'fail2ban';
    if (table === 'crowdsec' || table === 'crowdsec6') return 'crowdsec';
  }
  return UNKNOWN_TOOL;
}

export function blocking(verdict: Verdict): boolean {
  return verdict === 'drop' || verdict === 'reject';
}

/** The command that removes what was found (the rule, or the set element), as a person would type it. */
export function liftCommand(f: Finding, addr: string): string {
  if (f.tool === 'fail2ban' && f.chain?.startsWith('f2b-')) return `fail2ban-client set ${f.chain.slice(4)} unbanip ${addr}`;
  if (f.tool === 'crowdsec') return `cscli decisions delete --ip ${addr}`;
  if (f.source === 'ipset') return `ipset del ${f.set} ${f.matched}`;
  if (f.source === 'nft') {
    if (f.set !== null) return `nft delete element ${f.table} ${f.set} '{ ${f.matched} }'`;
    return `nft delete rule ${f.table} ${f.chain} handle ${f.handle}`;
  }
  if (f.set !== null && f.rule !== null) return `ipset del ${f.set} ${f.matched}`;
  const command = f.source.replace(/-save$/, '');
  return `${command} -t ${f.table} ${(f.rule ?? '').replace(/^-A /, '-D ')}`;
}

/**
 * In rule order, a drop after an accept or return of the same chain that matches the address never sees its
 * packets (logwarden's allow set before its block sets): such a finding does not block. Other conditions of the
 * rules (ports, interfaces) are not weighed: the rules are shown for a person to judge.
 */
export function markShadowed(findings: Finding[]): Finding[] {
  const letThrough = new Map<string, string>();
  for (const f of findings) {
    if (f.rule === null || f.direction !== 'source') continue;
    const chain = `${f.source} ${f.table} ${f.chain}`;
    const earlier = letThrough.get(chain);
    if (f.blocks && earlier !== undefined) {
      f.blocks = false;
      f.shadowedBy = earlier;
    } else if ((f.verdict === 'accept' || f.verdict === 'return') && earlier === undefined) {
      letThrough.set(chain, f.rule);
    }
  }
  return findings;
}
