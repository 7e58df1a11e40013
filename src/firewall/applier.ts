/**
 * The one owner of firewall effects. It makes the kernel hold the wanted state (the store's active blocks and
 * allow list), like a controller that reconciles: the daemon's blocks, the commands, the start-up restore and
 * the periodic sync all go through it. A failure is logged with the command and its output, counted and
 * retried by reconciling again; it is never fed back into the policy.
 */
import type { Logger } from '../log/logger.js';
import { type Network, NetworkSet, networkText } from '../policy/network.js';
import { type BlockEntry, type HookJump, type KernelState, type Operation, syncOperations } from './backend.js';
import { ExpiryScheduler } from './expiry.js';
import { describeOperation } from './firewall.js';
import type { FirewallPort } from './surface.js';

export interface WantedState {
  blocks: BlockEntry[];
  allow: Network[];
}

/** What a reconciliation found different in the kernel, and repaired. */
export interface Drift {
  /** Our objects were missing (first start, or flushed by someone) and were created */
  setUp: boolean;
  /** The kernel's allow list differed from the wanted one */
  allowChanged: boolean;
  /** Our objects were there but changed (a rule inserted into our chain, a set or chain gone): what, rebuilt */
  altered?: string;
  /** iptables, ipset: the hook chains (`INPUT (IPv4)`) that no longer jumped to ours; the jump was inserted again */
  jumps?: string[];
  /** iptables, ipset: what is odd in the hook chains but left as it is (our jump not first, or there twice) */
  hookNotes?: string[];
  /** Blocks (re)added: missing, or with a kernel timeout shorter than the store's */
  blocked: BlockEntry[];
  /** Elements removed: in the kernel, not wanted */
  unblocked: Network[];
  /** Blocks longer than the kernel's longest timeout, renewed as planned (not drift) */
  renewed: BlockEntry[];
}

export interface ApplierHealth {
  batches: number;
  operations: number;
  failures: number;
  repairs: number;
  /** ms since the first failure of the current run of failures; null when healthy */
  failingSince: number | null;
  lastError: string | null;
  /** ms, the last reconciliation that succeeded */
  lastSyncAt: number | null;
}

export interface ApplierOptions {
  /** First retry after a failure (ms); doubles up to maxRetryMs */
  retryMs?: number;
  maxRetryMs?: number;
  now?: () => number;
}

/**
 * Whether the kernel's allow list lets through exactly the wanted one: each of its entries is wanted, and each
 * wanted entry is there or inside one that is (nft drops an entry contained in another: 127.0.0.1 in 127.0.0.0/8).
 */
const sameNetworks = (kernel: Network[], wanted: Network[]) => {
  const key = (n: Network) => networkText(n);
  const held = new Set(kernel.map(key));
  const want = new Set(wanted.map(key));
  if (!kernel.every((n) => want.has(key(n)))) return false;
  const inside = (outer: Network, inner: Network) => {
    if (outer.kind !== inner.kind || outer.cidr > inner.cidr) return false;
    const one = new NetworkSet();
    one.add(outer);
    return one.has(inner.addr, inner.kind);
  };
  return wanted.every((w) => held.has(key(w)) || kernel.some((k) => inside(k, w)));
};

const hookName = (h: HookJump) => `${h.hook} (IPv${h.family})`;

/** The hook chains that hold no jump to our chain: nothing they see is blocked until setup inserts it again. */
export function missingJumps(state: KernelState): string[] {
  return (state.hooks ?? []).filter((h) => h.jumps === 0).map(hookName);
}

/**
 * What is odd in the hook chains but not ours to change: rules before our jump (an administrator's accept, a
 * container runtime's jumps, which it inserts first in FORWARD when it starts) and a jump there twice (harmless
 * for blocking; teardown removes one and then fails loudly on the other). Moving our jump back to the top would
 * fight whoever put theirs there, every sync: these are reported, once per change, instead.
 */
export function hookNotes(state: KernelState, chain: string): string[] {
  const notes: string[] = [];
  for (const h of state.hooks ?? []) {
    if (h.jumps > 1) notes.push(`${hookName(h)} jumps to ${chain} ${h.jumps} times`);
    if (h.jumps > 0 && h.above.length > 0) {
      const shown = h.above.slice(0, 3).join('; ') + (h.above.length > 3 ? '; ...' : '');
      notes.push(`${h.above.length} rule(s) of ${hookName(h)} see packets before its jump to ${chain} (${shown})`);
    }
  }
  return notes;
}

export class Applier {
  readonly health: ApplierHealth;
  /** Backends without kernel timeouts (iptables): their blocks are lifted from here */
  private readonly expiry: ExpiryScheduler | null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private readonly now: () => number;
  private pending = new Set<Promise<unknown>>();
  private stopped = false;
  /** The hook notes last reported: each change is warned about once, not at every sync */
  private hookNotice = '';

  constructor(
    readonly firewall: FirewallPort,
    private readonly log: Logger,
    /** Read on every reconciliation: the store is the truth */
    private readonly wanted: () => WantedState,
    private readonly options: ApplierOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    const sent = firewall.sent;
    this.health = {
      // what the kernel really received: a burst of blocks is one batch, however many operations it holds
      get batches() {
        return sent.batches;
      },
      get operations() {
        return sent.operations;
      },
      failures: 0,
      repairs: 0,
      failingSince: null,
      lastError: null,
      lastSyncAt: null,
    };
    this.retryDelay = options.retryMs ?? 1000;
    this.expiry = firewall.backend.kernelExpiry
      ? null
      : new ExpiryScheduler(
          (net) => this.submit({ op: 'unblock', net }),
          (net, error) => this.failed(`lifting the expired block of ${networkText(net)}`, error),
          this.now,
        );
  }

  /**
   * Makes the kernel match the wanted state: creates our objects if missing, sets the allow list exactly, adds
   * what is missing, refreshes short timeouts, removes what should be lifted. Throws on failure (the caller
   * decides: fatal at start, retried later); the drift it repaired is logged.
   */
  async reconcile(): Promise<Drift> {
    // The kernel first, then the wanted state: a block decided and applied while the listing runs is then in the
    // wanted state (it is recorded before it reaches the kernel), and is never taken for an element to remove
    const before = await this.firewall.state();
    const wanted = this.wanted();
    const drift: Drift = { setUp: !before.present, allowChanged: false, blocked: [], unblocked: [], renewed: [] };
    if (before.altered !== undefined) drift.altered = before.altered;
    drift.allowChanged = before.present && !sameNetworks(before.allow, wanted.allow);
    // setup inserts a missing jump (after a -C check: an existing one is never doubled)
    const jumps = before.present ? missingJumps(before) : [];
    if (jumps.length > 0) drift.jumps = jumps;
    const notes = hookNotes(before, this.firewall.options.name);
    if (notes.length > 0) drift.hookNotes = notes;
    if (!before.present || drift.allowChanged || drift.altered !== undefined || jumps.length > 0) await this.firewall.setup(wanted.allow);
    const current: KernelState = before.present ? before : { present: true, blocks: [], allow: wanted.allow };
    const { kernelExpiry, maxTimeout } = this.firewall.backend;
    const ops = syncOperations(wanted.blocks, current, kernelExpiry, maxTimeout);
    if (ops.length > 0) await this.firewall.apply(ops, current);
    const held = new Set(current.blocks.map((b) => networkText(b.net)));
    for (const op of ops) {
      if (op.op === 'unblock') drift.unblocked.push(op.net);
      else if (held.has(networkText(op.entry.net)) && (op.entry.timeout ?? 0) > (maxTimeout ?? Infinity)) drift.renewed.push(op.entry);
      else drift.blocked.push(op.entry);
    }
    if (this.expiry) for (const b of wanted.blocks) this.expiry.schedule(b.net, b.timeout === null ? null : this.now() + b.timeout * 1000);
    this.health.lastSyncAt = this.now();
    this.recovered();
    return drift;
  }

  /**
   * The periodic sync: reconciles and logs every repair; a failure is logged and retried, never thrown.
   * `firstRun` words the log for the start-up restore, where adding everything is expected.
   */
  async sync(firstRun = false): Promise<Drift | null> {
    try {
      const drift = await this.reconcile();
      this.report(drift, firstRun);
      return drift;
    } catch (error) {
      this.failed('reconciling the firewall with the store', error as Error);
      return null;
    }
  }

  private report(drift: Drift, firstRun: boolean): void {
    const repairs =
      drift.blocked.length + drift.unblocked.length + (drift.setUp ? 1 : 0) + (drift.allowChanged ? 1 : 0) + (drift.altered !== undefined ? 1 : 0) + (drift.jumps?.length ?? 0);
    const notice = (drift.hookNotes ?? []).join('; ');
    if (notice !== '' && notice !== this.hookNotice) {
      this.log.warn({ notes: drift.hookNotes }, `firewall: ${notice}; left as it is (logwarden moves no one's rules, nor its own jump once there)`);
    }
    this.hookNotice = notice;
    if (firstRun) {
      this.log.info(
        { blocks: drift.blocked.length, lifted: drift.unblocked.length, created: drift.setUp },
        `firewall ready: ${drift.blocked.length} block(s) restored, ${drift.unblocked.length} stale element(s) removed`,
      );
      return;
    }
    if (drift.renewed.length > 0) {
      this.log.info({ count: drift.renewed.length }, `renewed the kernel timeout of ${drift.renewed.length} block(s) longer than ${this.firewall.backend.name} can hold at once`);
    }
    if (repairs === 0) return;
    this.health.repairs += repairs;
    if (drift.setUp) this.log.warn({}, `firewall objects of ${this.firewall.options.name} were missing: created them again`);
    if (drift.allowChanged) this.log.warn({}, 'the kernel allow list differed from the whitelist: set it again');
    if (drift.altered !== undefined) this.log.warn({ altered: drift.altered }, `firewall objects of ${this.firewall.options.name} were changed (${drift.altered}): rebuilt them`);
    if (drift.jumps) this.log.warn({ hooks: drift.jumps }, `firewall drift: no jump to ${this.firewall.options.name} in ${drift.jumps.join(', ')}: inserted it again`);
    const sample = (list: string[]) => list.slice(0, 10).join(', ') + (list.length > 10 ? `, ... (${list.length} in all)` : '');
    if (drift.blocked.length > 0) {
      this.log.warn({ count: drift.blocked.length }, `firewall drift: re-added ${sample(drift.blocked.map((b) => networkText(b.net)))}`);
    }
    if (drift.unblocked.length > 0) {
      this.log.warn({ count: drift.unblocked.length }, `firewall drift: removed ${sample(drift.unblocked.map(networkText))}`);
    }
  }

  /**
   * A one-shot command's change, applied at once: creates our objects if they are missing and sets the allow
   * list when it differs from `allow` (the store's, which every command and the daemon share). Throws when the
   * kernel refuses, so the command can leave the store unchanged and exit non-zero.
   */
  async change(ops: Operation[], allow: Network[]): Promise<void> {
    const current = await this.firewall.state();
    if (!current.present || current.altered !== undefined || missingJumps(current).length > 0 || !sameNetworks(current.allow, allow)) await this.firewall.setup(allow);
    await this.firewall.apply(ops, current.present ? current : { present: true, blocks: [], allow });
  }

  /** What to tell about a block longer than the kernel's longest timeout (null when it fits). */
  cappedNotice(entry: BlockEntry): string | null {
    const max = this.firewall.backend.maxTimeout;
    if (max === undefined || entry.timeout === null || entry.timeout <= max) return null;
    return `${this.firewall.backend.name} holds a timeout of at most ${(max / 86_400).toFixed(1)} days: ${networkText(entry.net)} gets that in the kernel, and the daemon's periodic sync renews it until its ${Math.round(entry.timeout / 86_400)} days are over`;
  }

  /** A block decided now: to the kernel within milliseconds (batched with others of the same moment). */
  block(entry: BlockEntry): Promise<void> {
    const capped = this.cappedNotice(entry);
    if (capped) this.log.info({ addr: networkText(entry.net), seconds: entry.timeout }, capped);
    this.expiry?.schedule(entry.net, entry.timeout === null ? null : this.now() + entry.timeout * 1000);
    return this.submit({ op: 'block', entry });
  }

  unblock(net: Network): Promise<void> {
    this.expiry?.cancel(networkText(net));
    return this.submit({ op: 'unblock', net });
  }

  /** Resolves whether or not the kernel took it: a failure is logged and retried here, not by the caller. */
  private submit(op: Operation): Promise<void> {
    const done = this.firewall.submit(op).then(
      () => this.recovered(),
      (error: Error) => this.failed(describeOperation(op), error),
    );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
    return done;
  }

  /** Waits until what was submitted has been tried. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private failed(what: string, error: Error): void {
    this.health.failures++;
    this.health.lastError = `${what}: ${error.message}`;
    this.health.failingSince ??= this.now();
    this.log.error({ failures: this.health.failures }, `firewall: ${what} failed: ${error.message}`);
    this.scheduleRetry();
  }

  private recovered(): void {
    if (this.health.failingSince === null) return;
    this.log.info({ failures: this.health.failures }, `firewall: working again after ${Math.round((this.now() - this.health.failingSince) / 1000)} s of failures`);
    this.health.failingSince = null;
    this.retryDelay = this.options.retryMs ?? 1000;
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null || this.stopped) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.options.maxRetryMs ?? 60_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.sync();
    }, delay);
    this.retryTimer.unref();
  }

  /** No more retries or expiry timers (at shutdown; the kernel keeps what it holds). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.expiry?.stop();
  }
}
