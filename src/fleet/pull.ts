/**
 * Following the fleet's decision stream as a bouncer: everything at start (startup=true), then what changed every
 * interval. Decisions become fleet rows in the store, apart from local blocks; the applier enforces the applied
 * ones with their remaining time (they are part of its wanted state), and lifts those the stream deletes. While
 * the LAPI is unreachable, local blocking goes on and fleet blocks already applied end at their own time.
 */
import type { Applier } from '../firewall/applier.js';
import type { BlockEntry } from '../firewall/backend.js';
import type { Logger } from '../log/logger.js';
import { type Network, networkText, width } from '../policy/network.js';
import type { FleetDecisionRow, Store } from '../store/store.js';
import type { LapiClient, LapiDecision, LapiStream } from './client.js';
import { AllowIndex, judge, judgeBlock, WHITELISTED, whitelistedBy } from './decisions.js';

/** More new blocks than this in one poll are applied by one reconciliation */
const BLOCKS_ONE_BY_ONE = 100;
/** New fleet blocks logged one by one per poll; the rest in one line */
const TOLD_ONE_BY_ONE = 20;

export interface PullerOptions {
  client: LapiClient;
  store: Store;
  /** null in a dry run: decisions are recorded and logged, never applied */
  applier: Applier | null;
  log: Logger;
  /** ms between polls (--lapi-interval) */
  intervalMs: number;
  now?: () => number;
}

export interface PullerStats {
  /** Stream reads that succeeded, and those that failed */
  polls: number;
  failures: number;
  applied: number;
  refused: number;
  own: number;
  ignored: number;
  deleted: number;
  /** ms since the stream fails; null while it answers */
  failingSince: number | null;
  lastError: string | null;
  lastPollAt: number | null;
}

export class FleetPuller {
  readonly stats: PullerStats = { polls: 0, failures: 0, applied: 0, refused: 0, own: 0, ignored: 0, deleted: 0, failingSince: null, lastError: null, lastPollAt: null };
  /** The stream's position is the LAPI's, per bouncer key: until one startup call succeeds, ask for everything */
  private startup = true;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: PullerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Polls now, then every interval. */
  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** One poll of the stream (concurrent calls share it). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const { client, log, store } = this.options;
    let stream: LapiStream;
    try {
      stream = await client.stream(this.startup);
    } catch (error) {
      const first = this.stats.failingSince === null;
      this.stats.failures++;
      this.stats.failingSince ??= this.now();
      this.stats.lastError = (error as Error).message;
      if (first) log.warn({ url: client.url }, `fleet: cannot read the LAPI decision stream (${(error as Error).message}); local blocking goes on, fleet blocks already applied end at their own time`);
      store.fleet.forgetOver(this.now());
      return;
    }
    if (this.stats.failingSince !== null) {
      log.info({ url: client.url }, `fleet: the LAPI decision stream answers again after ${Math.round((this.now() - this.stats.failingSince) / 1000)} s`);
      this.stats.failingSince = null;
      this.stats.lastError = null;
    }
    const wasStartup = this.startup;
    this.startup = false;
    this.stats.polls++;
    this.stats.lastPollAt = this.now();
    try {
      await this.apply(stream, wasStartup);
    } catch (error) {
      log.error({}, `fleet: applying the LAPI decisions failed: ${(error as Error).message}`);
    }
  }

  /** The stream's changes: deletions first (a decision replaced by a longer one comes as both). */
  async apply(stream: LapiStream, startup: boolean): Promise<void> {
    const { store, applier, log } = this.options;
    const now = this.now();
    store.fleet.forgetOver(now);
    const holders = this.holders();
    const lifted: Network[] = [];
    const lift = (row: FleetDecisionRow) => {
      store.fleet.forgetDecision(row.id);
      if (row.state !== 'applied') return;
      holders.release(row.key);
      if (!holders.holds(row.key)) lifted.push(row.net);
    };
    for (const d of stream.deleted) {
      const row = holders.rows.get(d.id);
      if (row === undefined) continue;
      holders.rows.delete(d.id);
      this.stats.deleted++;
      if (row.state === 'applied') log.info({ addr: row.key, decision: row.id }, `fleet: decision ${row.id} on ${row.key} deleted (origin ${row.origin}): lifted`);
      lift(row);
    }
    // after a startup call, decisions we hold that the LAPI no longer has were deleted while we were away
    if (startup) {
      const present = new Set(stream.new.map((d) => d.id));
      for (const row of [...holders.rows.values()]) if (!present.has(row.id)) lift(row);
    }
    const entries = this.take(stream.new, now);
    if (applier !== null && entries.length + lifted.length > 0) await this.enforce(applier, entries, lifted);
    await this.recheckWhitelist(now);
  }

  private async enforce(applier: Applier, added: BlockEntry[], lifted: Network[]): Promise<void> {
    // a startup set (a community blocklist holds tens of thousands) is one reconciliation, not one call each
    if (added.length + lifted.length <= BLOCKS_ONE_BY_ONE) {
      await Promise.all([...lifted.map((net) => applier.unblock(net)), ...added.map((e) => applier.block(e))]);
      return;
    }
    await applier.reconcile().catch((error: Error) =>
      this.options.log.error({}, `fleet: applying ${added.length} new and ${lifted.length} lifted fleet block(s) failed (the periodic sync retries): ${error.message}`),
    );
  }

  /** Judges and records new decisions in one transaction; returns the kernel entries to add. */
  private take(decisions: readonly LapiDecision[], now: number): BlockEntry[] {
    const { store, applier, log } = this.options;
    if (decisions.length === 0) return [];
    const known = new Map(store.fleet.decisions().map((r) => [r.id, r]));
    const ctx = this.context(now, known.values());
    const { ranges } = ctx;
    const rows: FleetDecisionRow[] = [];
    const entries: BlockEntry[] = [];
    let told = 0;
    let untold = 0;
    for (const d of decisions) {
      const verdict = judge(d, ctx);
      if (verdict.state === 'ignored') {
        this.stats.ignored++;
        log.debug({ decision: d.id }, `fleet: decision ${d.id} ignored: ${verdict.why}`);
        continue;
      }
      const key = networkText(verdict.net);
      const before = known.get(d.id) ?? null;
      const detail = verdict.state === 'applied' ? '' : verdict.detail;
      rows.push({ id: d.id, key, net: verdict.net, origin: d.origin, scenario: d.scenario, until: verdict.until, state: verdict.state, detail, seenAt: before?.seenAt ?? now });
      // each decision is told once: not again at the next poll, nor at a restart's startup call
      if (before !== null && before.state === verdict.state) continue;
      const fields = { addr: key, decision: d.id, origin: d.origin, scenario: d.scenario };
      const seconds = Math.max(1, Math.ceil((verdict.until - now) / 1000));
      if (verdict.state === 'own') {
        this.stats.own++;
        log.debug(fields, `fleet: decision ${d.id} on ${key} is ours (${verdict.detail}): not applied twice`);
        continue;
      }
      if (verdict.state === 'refused') {
        this.stats.refused++;
        log.warn(fields, `fleet: decision ${d.id} on ${key} (origin ${d.origin}, scenario ${d.scenario}) not applied: ${verdict.detail}`);
        continue;
      }
      this.stats.applied++;
      entries.push({ net: verdict.net, timeout: seconds });
      if (verdict.net.cidr < width(verdict.net.kind)) ranges.push(verdict.net);
      if (told++ >= TOLD_ONE_BY_ONE) {
        untold++;
        continue;
      }
      const spared = verdict.spared.map((e) => `${networkText(e.net)} (${e.origin} ${e.detail})`);
      const note = spared.length > 0 ? `; the allow list keeps ${spared.join(', ')} reachable` : '';
      log.warn(fields, `${applier ? 'blocked' : 'would block'} ${key} for ${seconds} s: fleet decision ${d.id} from origin ${d.origin} (scenario ${d.scenario})${note}`);
    }
    store.fleet.recordDecisions(rows);
    if (untold > 0) log.warn({ count: untold }, `${applier ? 'blocked' : 'would block'} ${untold} more address(es) by fleet decisions (${entries.length} in this poll)`);
    return entries;
  }

  /** What judging a decision needs to know of this host now. */
  private context(now: number, rows: Iterable<FleetDecisionRow>) {
    const { store } = this.options;
    const local = store.activeBlocks();
    const ranges: Network[] = [
      ...local.filter((b) => b.cidr < width(b.kind)).map((b) => ({ addr: b.addr, cidr: b.cidr, kind: b.kind })),
      ...[...rows].filter((r) => r.state === 'applied' && r.net.cidr < width(r.net.kind)).map((r) => r.net),
    ];
    return {
      now,
      allow: new AllowIndex(store.allowList()),
      localKeys: new Set(local.map((b) => b.key)),
      ranges,
      pushedByUs: (id: number) => store.fleet.pushedKey(id) !== null,
    };
  }

  /**
   * A whitelist entry added since a decision was applied wins: the decision is refused from now on. One removed
   * since a decision was refused for it no longer protects: the decision is judged again, and applied for the
   * rest of its time.
   */
  private async recheckWhitelist(now: number): Promise<void> {
    const { store, applier, log } = this.options;
    const allow = new AllowIndex(store.allowList());
    const rows = store.fleet.decisions();
    for (const row of rows) {
      if (row.state === 'refused' && row.detail.startsWith(WHITELISTED) && row.until > now && !allow.covering(row.net)) {
        await this.judgeAgain(row, rows, now);
        continue;
      }
      if (row.state !== 'applied') continue;
      const entry = allow.covering(row.net);
      if (!entry) continue;
      const detail = whitelistedBy(entry);
      store.fleet.recordDecision({ ...row, state: 'refused', detail, seenAt: now });
      this.stats.refused++;
      log.warn({ addr: row.key, decision: row.id }, `fleet: decision ${row.id} on ${row.key} lifted: ${detail}`);
      // recorded as refused already: only other holders count
      if (applier && !this.holders().holds(row.key)) await applier.unblock(row.net);
    }
  }

  private async judgeAgain(row: FleetDecisionRow, rows: readonly FleetDecisionRow[], now: number): Promise<void> {
    const { store, applier, log } = this.options;
    const verdict = judgeBlock(row, this.context(now, rows));
    if (verdict.state !== 'applied') {
      store.fleet.recordDecision({ ...row, state: verdict.state, detail: verdict.detail, seenAt: now });
      return;
    }
    const seconds = Math.max(1, Math.ceil((row.until - now) / 1000));
    store.fleet.recordDecision({ ...row, state: 'applied', detail: '', seenAt: now });
    this.stats.applied++;
    log.warn({ addr: row.key, decision: row.id, origin: row.origin, scenario: row.scenario }, `${applier ? 'blocked' : 'would block'} ${row.key} for ${seconds} s: fleet decision ${row.id} from origin ${row.origin} (scenario ${row.scenario}), no longer whitelisted`);
    await applier?.block({ net: row.net, timeout: seconds });
  }

  /** What wants each address blocked: local blocks, and applied fleet decisions (counted by key). */
  private holders() {
    const { store } = this.options;
    const local = new Set(store.activeBlocks().map((b) => b.key));
    const rows = new Map(store.fleet.decisions().map((r) => [r.id, r]));
    const applied = new Map<string, number>();
    for (const r of rows.values()) if (r.state === 'applied') applied.set(r.key, (applied.get(r.key) ?? 0) + 1);
    return {
      rows,
      release: (key: string) => applied.set(key, (applied.get(key) ?? 1) - 1),
      holds: (key: string) => local.has(key) || (applied.get(key) ?? 0) > 0,
    };
  }
}
