/**
 * The scoring policy, free of effects: it never reads a clock, the disk or the network. Each call takes the
 * state, one event and "now", updates the state and returns what happened; the caller stores evidence and
 * applies blocks. Semantics: ../shared/reference/design.md, "Policy semantics".
 */
import type { AddressKind } from '../parse/address.js';
import { type Network, networkOf, networkText } from './network.js';

export interface PolicyConfig {
  /** Block when the window's danger reaches this */
  threshold: number;
  /** Window length in seconds, from the window's first attack */
  detectionTime: number;
  /** First block's length in seconds */
  blockTime: number;
  multiplier: number;
  maxBlockTime: number;
  /** Seconds for the penalty level to halve */
  penaltyHalfLife: number;
  ipv4Subnet: number;
  ipv6Subnet: number;
  /** Seconds a successful login exempts its address from scoring */
  trustTime: number;
  /** Logins to these accounts grant no trust */
  noTrustUsers: ReadonlySet<string>;
  /** Danger summed over an offender's blocks that makes the next block permanent; null = off */
  blacklistThreshold: number | null;
}

export const DEFAULT_POLICY: PolicyConfig = {
  threshold: 30,
  detectionTime: 1800,
  blockTime: 120,
  multiplier: 2,
  maxBlockTime: 30 * 86400,
  penaltyHalfLife: 7 * 86400,
  ipv4Subnet: 32,
  ipv6Subnet: 64,
  trustTime: 3600,
  noTrustUsers: new Set(['git', 'gitea', 'gitlab', 'forgejo', 'gogs', 'anonymous', 'ftp']),
  blacklistThreshold: null,
};

export interface PolicyEvent {
  event: 'attack' | 'login';
  /** ms since the epoch */
  time: number;
  addr: string;
  kind: AddressKind;
  danger: number;
  service: number;
  rule: string;
  user: string | null;
  /** The log line, or a reference the caller can turn back into it (the store's evidence id), kept with the
   * window so that a block can show what led to it */
  evidence?: Evidence;
}

/** A log line with where it was read (file and line number, or the journal) */
export interface LineRef {
  line: string;
  source: string;
  lineNo: number | null;
}

/** A log line, or a number standing for one (the store's evidence id: far smaller to keep per offender). */
export type Evidence = string | number | LineRef;

/**
 * Most offenders have one service, one rule and a line or two in their window: a lone value costs nothing
 * more, where an array would cost about 50 bytes (a million offenders must fit in well under 1 GB).
 */
export type OneOrMore<T> = T | T[] | null;

export function listOf<T>(v: OneOrMore<T>): T[] {
  return v === null ? [] : Array.isArray(v) ? v : [v];
}

function countOf<T>(v: OneOrMore<T>): number {
  return v === null ? 0 : Array.isArray(v) ? v.length : 1;
}

function including<T>(v: OneOrMore<T>, item: T, distinct: boolean): OneOrMore<T> {
  if (v === null) return item;
  if (!Array.isArray(v)) return distinct && v === item ? v : [v, item];
  if (!distinct || !v.includes(item)) v.push(item);
  return v;
}

/** Lines of evidence a block keeps from its window */
export const BLOCK_EVIDENCE_LINES = 20;

export interface Offender {
  key: string;
  net: Network;
  windowStart: number;
  score: number;
  windowAttacks: number;
  /** What the window holds, kept compact: one value alone, a list once there are several, null when none */
  windowServices: OneOrMore<number>;
  windowRules: OneOrMore<string>;
  windowEvidence: OneOrMore<Evidence>;
  /** Penalty level and when it was last set (decays with the half-life) */
  level: number;
  levelAt: number;
  /** Danger summed over all blocks (for the blacklist) */
  blockedDanger: number;
  /** ms; 0 = not blocked, Infinity = permanent */
  blockedUntil: number;
  blocks: number;
  attacks: number;
  firstSeen: number;
  lastSeen: number;
}

export interface PolicyState {
  offenders: Map<string, Offender>;
  /** address → ms until which it is trusted */
  trusted: Map<string, number>;
  whitelist: { has(addr: string, kind: AddressKind): boolean };
}

export interface BlockDecision {
  key: string;
  net: Network;
  /** ms */
  at: number;
  /** seconds; null when permanent */
  duration: number | null;
  /** ms; Infinity when permanent */
  until: number;
  permanent: boolean;
  /** False when the block was already over at decision time (an old backlog): recorded, not applied */
  applied: boolean;
  score: number;
  attacks: number;
  services: number[];
  rules: string[];
  evidence: Evidence[];
  firstSeen: number;
  /** The penalty level the duration was computed from (decayed from levelBefore since the last block) */
  level: number;
  levelBefore: number;
  /** ms, the last block's time (0 for a first block) */
  previousBlockAt: number;
  /** Where each evidence line was read, when known (in the order of `evidence`) */
  evidenceSources?: ({ source: string; lineNo: number | null } | null)[];
}

export type Outcome =
  | 'scored'
  | 'blocked'
  | 'whitelisted'
  | 'trusted'
  | 'already-blocked'
  | 'trust-granted'
  | 'login-no-trust'
  | 'login-whitelisted';

export interface Result {
  outcome: Outcome;
  key: string;
  block?: BlockDecision;
}

export function newPolicyState(whitelist: PolicyState['whitelist']): PolicyState {
  return { offenders: new Map(), trusted: new Map(), whitelist };
}

/** The scoring key of an address: its /IPV4_SUBNET or /IPV6_SUBNET network. */
export function keyOf(addr: string, kind: AddressKind, config: PolicyConfig): Network {
  return networkOf(addr, kind, kind === 4 ? config.ipv4Subnet : config.ipv6Subnet);
}

/** The penalty level decayed to time t. */
export function decayedLevel(o: Pick<Offender, 'level' | 'levelAt'>, t: number, config: PolicyConfig): number {
  if (o.level === 0) return 0;
  const elapsed = Math.max(0, t - o.levelAt) / 1000;
  return o.level * 0.5 ** (elapsed / config.penaltyHalfLife);
}

/** Block length in seconds for a decayed penalty level n. */
export function blockDuration(n: number, config: PolicyConfig): number {
  return Math.min(Math.round(config.blockTime * config.multiplier ** n), config.maxBlockTime);
}

function newOffender(net: Network, key: string, time: number): Offender {
  return {
    key,
    net,
    windowStart: time,
    score: 0,
    windowAttacks: 0,
    windowServices: null,
    windowRules: null,
    windowEvidence: null,
    level: 0,
    levelAt: time,
    blockedDanger: 0,
    blockedUntil: 0,
    blocks: 0,
    attacks: 0,
    firstSeen: time,
    lastSeen: time,
  };
}

export function getOffender(state: PolicyState, net: Network, time: number): Offender {
  const key = networkText(net);
  let o = state.offenders.get(key);
  if (o === undefined) state.offenders.set(key, (o = newOffender(net, key, time)));
  return o;
}

function clearWindow(o: Offender, time: number): void {
  o.windowStart = time;
  o.score = 0;
  o.windowAttacks = 0;
  o.windowServices = null;
  o.windowRules = null;
  o.windowEvidence = null;
}

export function applyEvent(state: PolicyState, config: PolicyConfig, e: PolicyEvent, now: number): Result {
  const net = keyOf(e.addr, e.kind, config);
  const key = networkText(net);
  if (e.event === 'login') {
    if (state.whitelist.has(e.addr, e.kind)) return { outcome: 'login-whitelisted', key };
    if (e.user !== null && config.noTrustUsers.has(e.user)) return { outcome: 'login-no-trust', key };
    state.trusted.set(e.addr, e.time + config.trustTime * 1000);
    const o = state.offenders.get(key);
    if (o !== undefined) clearWindow(o, e.time);
    return { outcome: 'trust-granted', key };
  }
  if (state.whitelist.has(e.addr, e.kind)) return { outcome: 'whitelisted', key };
  const trustedUntil = state.trusted.get(e.addr);
  if (trustedUntil !== undefined) {
    if (trustedUntil > e.time) return { outcome: 'trusted', key };
    state.trusted.delete(e.addr);
  }
  const o = getOffender(state, net, e.time);
  o.attacks++;
  if (e.time > o.lastSeen) o.lastSeen = e.time;
  if (o.blockedUntil > e.time) return { outcome: 'already-blocked', key };
  if (o.score === 0 || e.time - o.windowStart > config.detectionTime * 1000) clearWindow(o, e.time);
  o.score += e.danger;
  o.windowAttacks++;
  o.windowServices = including(o.windowServices, e.service, true);
  o.windowRules = including(o.windowRules, e.rule, true);
  if (e.evidence !== undefined && countOf(o.windowEvidence) < BLOCK_EVIDENCE_LINES) {
    o.windowEvidence = including(o.windowEvidence, e.evidence, false);
  }
  if (o.score < config.threshold) return { outcome: 'scored', key };
  return { outcome: 'blocked', key, block: decideBlock(o, config, e.time, now) };
}

function decideBlock(o: Offender, config: PolicyConfig, time: number, now: number): BlockDecision {
  const n = decayedLevel(o, time, config);
  o.blockedDanger += o.score;
  const permanent = config.blacklistThreshold !== null && o.blockedDanger >= config.blacklistThreshold;
  const duration = permanent ? null : blockDuration(n, config);
  const until = duration === null ? Infinity : time + duration * 1000;
  const block: BlockDecision = {
    key: o.key,
    net: o.net,
    at: time,
    duration,
    until,
    permanent,
    applied: until > now,
    score: o.score,
    attacks: o.windowAttacks,
    services: listOf(o.windowServices),
    rules: listOf(o.windowRules),
    evidence: listOf(o.windowEvidence),
    firstSeen: o.firstSeen,
    level: n,
    levelBefore: o.level,
    previousBlockAt: o.blocks > 0 ? o.levelAt : 0,
  };
  o.level = n + 1;
  o.levelAt = time;
  o.blockedUntil = until;
  o.blocks++;
  clearWindow(o, time);
  return block;
}

/**
 * Takes back an attack that turned out to be part of a successful login (same connection), if it is still
 * in the offender's window.
 */
export function forgiveAttack(state: PolicyState, config: PolicyConfig, e: PolicyEvent): boolean {
  const o = state.offenders.get(networkText(keyOf(e.addr, e.kind, config)));
  if (o === undefined || o.score === 0 || e.time < o.windowStart) return false;
  o.score = Math.max(0, o.score - e.danger);
  o.windowAttacks = Math.max(0, o.windowAttacks - 1);
  return true;
}

/** A block from outside the policy (a blacklist file, `logwarden block`): recorded on the offender. */
export function markBlocked(state: PolicyState, net: Network, from: number, until: number): Offender {
  const o = getOffender(state, net, from);
  o.blockedUntil = Math.max(o.blockedUntil, until);
  clearWindow(o, from);
  return o;
}

/** `logwarden unblock` or a new whitelist entry: lifted now, window cleared so the next line does not re-block. */
export function release(state: PolicyState, key: string, time: number): void {
  const o = state.offenders.get(key);
  if (o === undefined) return;
  o.blockedUntil = 0;
  clearWindow(o, time);
}

/** Below this decayed level an offender with nothing pending is forgotten (with its blacklist sum). */
export const FORGET_LEVEL = 0.01;

/** Drops offenders with no block, no open window and a penalty decayed to almost nothing; and stale trust. */
export function prune(state: PolicyState, config: PolicyConfig, now: number): string[] {
  const removed: string[] = [];
  const windowMs = config.detectionTime * 1000;
  for (const [key, o] of state.offenders) {
    if (o.blockedUntil > now) continue;
    if (o.score > 0 && now - o.windowStart <= windowMs) continue;
    if (decayedLevel(o, now, config) >= FORGET_LEVEL) continue;
    state.offenders.delete(key);
    removed.push(key);
  }
  for (const [addr, until] of state.trusted) if (until <= now) state.trusted.delete(addr);
  return removed;
}
