/**
 * What a local block becomes for the fleet: a CrowdSec alert carrying one ban decision (pure).
 */
import { type Network, networkText, width } from '../policy/network.js';
import type { LapiAlert } from './client.js';

/** The origin our decisions carry in the LAPI */
export const ORIGIN = 'logwarden';
/** CrowdSec has no permanent decision: a blacklisted address is banned for ten years (deleted when unblocked) */
export const PERMANENT_SECONDS = 10 * 365 * 86_400;
/** Evidence lines sent with --lapi-share-evidence, at most */
export const MAX_SHARED_LINES = 20;

/** A block as queued for the LAPI (the outbox payload) */
export interface PushedBlock {
  net: Network;
  /** ms */
  start: number;
  /** ms; null: permanent */
  until: number | null;
  rules: string[];
  attacks: number;
  score: number;
  /** ms */
  firstSeen: number;
  /** Only with --lapi-share-evidence */
  evidence: string[];
  /** Why, for a block no rule made (a blacklist-file entry) */
  text?: string;
}

export const scopeOf = (net: Network): 'Ip' | 'Range' => (net.cidr === width(net.kind) ? 'Ip' : 'Range');

/** The decision's value: an address alone for scope Ip, the prefix for Range. */
export const valueOf = (net: Network): string => (scopeOf(net) === 'Ip' ? net.addr : networkText(net));

/** The alert for `b`, with the remaining duration at `now`; null when the block is already over. */
export function alertOf(b: PushedBlock, now: number): LapiAlert | null {
  const seconds = b.until === null ? PERMANENT_SECONDS : Math.ceil((b.until - now) / 1000);
  if (seconds <= 0) return null;
  const scope = scopeOf(b.net);
  const value = valueOf(b.net);
  const scenario = `${ORIGIN}/${b.rules[0] ?? 'blacklist'}`;
  const when = new Date(b.start).toISOString();
  return {
    scenario,
    scenario_hash: '',
    scenario_version: '',
    message:
      b.rules.length > 0
        ? `logwarden: ${value} blocked after ${b.attacks} attack(s) (${b.rules.join(', ')}), score ${b.score}`
        : `logwarden: ${value} blocked${b.until === null ? ' permanently' : ''}${b.text ? `: ${b.text}` : ''}`,
    events_count: b.attacks,
    start_at: new Date(b.firstSeen).toISOString(),
    stop_at: when,
    capacity: 0,
    leakspeed: '0',
    simulated: false,
    events: b.evidence.slice(-MAX_SHARED_LINES).map((line) => ({ timestamp: when, meta: [{ key: 'log_line', value: line }] })),
    source: scope === 'Ip' ? { scope, value, ip: value } : { scope, value, range: value },
    decisions: [{ origin: ORIGIN, type: 'ban', scope, value, duration: `${seconds}s`, scenario }],
  };
}
