/**
 * For backends whose kernel objects cannot expire (iptables): one timer per timed block, which unblocks it
 * when its time is over. (nft and ipset sets expire their elements in the kernel.)
 */
import type { Network } from '../policy/network.js';
import { networkText } from '../policy/network.js';

/** setTimeout's limit: longer waits are done in steps */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ExpiryScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly unblock: (net: Network) => Promise<void>,
    private readonly onError: (net: Network, error: Error) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** (Re)schedules the end of a block; a permanent block (null) has no end. */
  schedule(net: Network, expiresAt: number | null): void {
    const key = networkText(net);
    this.cancel(key);
    if (expiresAt === null) return;
    const wait = Math.max(0, expiresAt - this.now());
    const timer = setTimeout(() => {
      this.timers.delete(key);
      if (wait > MAX_TIMER_MS) this.schedule(net, expiresAt);
      else this.unblock(net).catch((error: Error) => this.onError(net, error));
    }, Math.min(wait, MAX_TIMER_MS));
    this.timers.set(key, timer);
  }

  cancel(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  get size(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
