/**
 * What to do with one decision of the fleet's stream (pure): apply it, recognise it as ours, or refuse it because
 * the whitelist wins. The kernel's allow set is checked before the block sets, so a Range that contains a
 * whitelisted address can be applied: the address inside stays reachable.
 */
import { covers } from '../control/blocking.js';
import { type Network, NetworkSet, networkText, parseNetwork, width } from '../policy/network.js';
import type { AllowEntry } from '../store/store.js';
import { type LapiDecision, parseGoDuration } from './client.js';
import { ORIGIN } from './alert.js';

export type Verdict =
  | { state: 'applied'; net: Network; until: number; /** Allow entries inside the range: they stay reachable */ spared: AllowEntry[] }
  | { state: 'own'; net: Network; until: number; detail: string }
  | { state: 'refused'; net: Network; until: number; detail: string }
  | { state: 'ignored'; why: string };

/** The store's allow list (the whitelist, the owner's addresses and open SSH sessions, commands' -w), indexed. */
export class AllowIndex {
  private readonly set = new NetworkSet();

  constructor(readonly entries: readonly AllowEntry[]) {
    for (const e of entries) this.set.add(e.net);
  }

  /** The entry that holds all of `net`, or null. */
  covering(net: Network): AllowEntry | null {
    if (net.cidr === width(net.kind) && !this.set.has(net.addr, net.kind)) return null;
    return this.entries.find((e) => covers(e.net, net)) ?? null;
  }

  /** The entries that share addresses with `net`. */
  overlapping(net: Network): AllowEntry[] {
    if (!this.set.intersects(net)) return [];
    return this.entries.filter((e) => overlaps(net, e.net));
  }
}

export interface DecisionContext {
  now: number;
  allow: AllowIndex;
  /** Keys of this host's own active blocks */
  localKeys: ReadonlySet<string>;
  /** Prefix blocks in force (local and fleet, by key): the kernel's prefix set refuses overlapping ones */
  ranges: readonly Network[];
  /** Whether the LAPI decision `id` is one this host pushed */
  pushedByUs: (id: number) => boolean;
}

/** How a decision refused for the whitelist is told (the puller judges it again once that entry is gone) */
export const WHITELISTED = 'whitelisted by ';
export const whitelistedBy = (entry: AllowEntry) => `${WHITELISTED}${entry.origin} ${entry.detail} (${networkText(entry.net)})`;

function overlaps(a: Network, b: Network): boolean {
  if (a.kind !== b.kind) return false;
  const one = new NetworkSet();
  one.add(a);
  return one.intersects(b);
}

/** The network a decision names, or null when its scope or value is not one we enforce. */
export function networkOf(d: Pick<LapiDecision, 'scope' | 'value'>): Network | null {
  const scope = d.scope.toLowerCase();
  if (scope !== 'ip' && scope !== 'range') return null;
  const net = parseNetwork(d.value);
  if (net === null) return null;
  if (scope === 'ip' && net.cidr !== width(net.kind)) return null;
  return net;
}

export function judge(d: LapiDecision, ctx: DecisionContext): Verdict {
  if (d.type.toLowerCase() !== 'ban') return { state: 'ignored', why: `type ${d.type} (only bans are enforced)` };
  const net = networkOf(d);
  if (net === null) return { state: 'ignored', why: `scope ${d.scope} value ${JSON.stringify(d.value)} (only Ip and Range are enforced)` };
  const ms = parseGoDuration(d.duration);
  if (ms === null) return { state: 'ignored', why: `unreadable duration ${JSON.stringify(d.duration)}` };
  if (ms <= 0) return { state: 'ignored', why: 'already over' };
  return judgeBlock({ id: d.id, origin: d.origin, net, until: ctx.now + ms }, ctx);
}

/** What a ban decision on `net` until `until` is here: ours, refused, or applied (also to judge one again). */
export function judgeBlock({ id, origin, net, until }: { id: number; origin: string; net: Network; until: number }, ctx: DecisionContext): Exclude<Verdict, { state: 'ignored' }> {
  const key = networkText(net);
  if (ctx.pushedByUs(id)) return { state: 'own', net, until, detail: 'pushed by this host' };
  if (origin === ORIGIN && ctx.localKeys.has(key)) return { state: 'own', net, until, detail: 'this host blocks it already' };
  const entry = ctx.allow.covering(net);
  if (entry) return { state: 'refused', net, until, detail: whitelistedBy(entry) };
  if (net.cidr === width(net.kind)) return { state: 'applied', net, until, spared: [] };
  const clash = ctx.ranges.find((r) => networkText(r) !== key && overlaps(r, net));
  if (clash) return { state: 'refused', net, until, detail: `overlaps the prefix block ${networkText(clash)} in force` };
  return { state: 'applied', net, until, spared: ctx.allow.overlapping(net) };
}
