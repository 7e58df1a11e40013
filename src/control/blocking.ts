/**
 * Blocking and unblocking by hand, once for every caller (the `block`/`unblock` commands, the daemon when a
 * whitelist entry appears). The kernel is changed first and the store after: when the kernel refuses, nothing
 * is recorded; when the store cannot be written, the kernel change is undone. Either way store and kernel agree.
 */
import type { Applier } from '../firewall/applier.js';
import type { BlockEntry } from '../firewall/backend.js';
import { type Network, NetworkSet, networkText, width } from '../policy/network.js';
import type { Store } from '../store/store.js';

export class RefusedError extends Error {}

export interface BlockingContext {
  store: Store;
  applier: Applier;
  /** Whether an address is whitelisted, and by what (null: not whitelisted) */
  whitelistedBy: (net: Network) => string | null;
  /** The allow list the kernel must hold: the store's, with the command's own `-w` entries */
  allow: Network[];
  /** The command's own `-w` entries: recorded in the store's allow list once the kernel has them */
  ownAllow: Network[];
  /** This host's addresses and open SSH sessions: no block may cover them */
  owner: { net: Network; why: string }[];
  /** Allows prefixes wider than MIN_PREFIX */
  force: boolean;
  now: number;
}

/** Prefixes wider than these need --force: /0 or a /4 by mistake would cut the server off */
export const MIN_PREFIX = { 4: 8, 6: 32 } as const;

/** Whether `outer` holds all of `inner` */
export function covers(outer: Network, inner: Network): boolean {
  if (outer.kind !== inner.kind || outer.cidr > inner.cidr) return false;
  const one = new NetworkSet();
  one.add(outer);
  return one.has(inner.addr, inner.kind);
}

/** Active blocks of prefixes that hold `net` (other than `net` itself): they keep blocking it after an unblock */
export function coveringBlocks<T extends { key: string; addr: string; cidr: number; kind: 4 | 6 }>(blocks: readonly T[], net: Network): T[] {
  return blocks.filter((b) => b.key !== networkText(net) && covers({ addr: b.addr, cidr: b.cidr, kind: b.kind }, net));
}

function overlaps(a: Network, b: Network): boolean {
  if (a.kind !== b.kind) return false;
  const one = new NetworkSet();
  one.add(a);
  return one.intersects(b);
}

/** Blocks `net` for `seconds` (null: until unblocked). Throws RefusedError, FirewallError or StoreError. */
export async function blockByHand(ctx: BlockingContext, net: Network, seconds: number | null, reason: string): Promise<void> {
  const { store, applier, now } = ctx;
  const text = networkText(net);
  const single = net.cidr === width(net.kind);
  const by = single ? ctx.whitelistedBy(net) : null;
  if (by !== null) throw new RefusedError(`${text} is whitelisted (${by}): not blocked`);
  const min = MIN_PREFIX[net.kind];
  if (net.cidr < min && !ctx.force) {
    throw new RefusedError(`${text} is wider than /${min}: that blocks a large part of the Internet; give --force if you mean it`);
  }
  const locked = ctx.owner.find((o) => covers(net, o.net));
  if (locked) throw new RefusedError(`${text} contains ${networkText(locked.net)} (${locked.why}): refusing, it would lock this host's owner out`);
  // prefixes share one kernel set, which refuses overlapping ones
  const overlapping = single ? undefined : store.activeBlocks().find((b) => b.key !== text && b.cidr < width(b.kind) && overlaps(b, net));
  if (overlapping) throw new RefusedError(`${text} overlaps the active block ${overlapping.key}: unblock that first`);
  const previous = store.activeBlocks().find((b) => b.key === text);
  await applier.change([{ op: 'block', entry: { net, timeout: seconds } }], ctx.allow);
  try {
    store.addBlock(net, now, seconds === null ? null : now + seconds * 1000, 'manual', { text: reason });
    store.flushAll();
    recordOwnAllow(ctx);
  } catch (error) {
    await applier.change([previous ? { op: 'block', entry: entryOf(previous, now) } : { op: 'unblock', net }], ctx.allow);
    throw error;
  }
}

/** Lifts the block of `net`; returns whether the store had it active. Throws FirewallError or StoreError. */
export async function unblockByHand(ctx: BlockingContext, net: Network): Promise<boolean> {
  const { store, applier, now } = ctx;
  const text = networkText(net);
  const previous = store.activeBlocks().find((b) => b.key === text);
  await applier.change([{ op: 'unblock', net }], ctx.allow);
  try {
    const wasActive = store.endBlock(text, 'released', now);
    store.releaseOffender(text, now);
    recordOwnAllow(ctx);
    return wasActive;
  } catch (error) {
    if (previous) await applier.change([{ op: 'block', entry: entryOf(previous, now) }], ctx.allow);
    throw error;
  }
}

/**
 * A command's `-w` entries stay in the store's allow list (origin `command`), so the next command or the
 * daemon keeps them in the kernel instead of wiping them.
 */
function recordOwnAllow(ctx: BlockingContext): void {
  if (ctx.ownAllow.length === 0) return;
  const mine = new Map<string, { net: Network; detail: string }>();
  for (const e of ctx.store.allowList()) if (e.origin === 'command') mine.set(networkText(e.net), e);
  for (const net of ctx.ownAllow) if (!mine.has(networkText(net))) mine.set(networkText(net), { net, detail: `-w, ${new Date(ctx.now).toISOString()}` });
  ctx.store.replaceAllow('command', [...mine.values()]);
}

/** The kernel element of an active block of the store, with its remaining time. */
export function entryOf(block: { addr: string; cidr: number; kind: 4 | 6; expires: number | null }, now: number): BlockEntry {
  return {
    net: { addr: block.addr, cidr: block.cidr, kind: block.kind },
    timeout: block.expires === null ? null : Math.max(1, Math.ceil((block.expires - now) / 1000)),
  };
}
