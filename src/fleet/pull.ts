/**
 * Following the fleet's decision stream as a bouncer: everything at start (startup=true), then what changed every
 * interval. Decisions become fleet rows in the store, apart from local blocks; the applier enforces the applied
 * ones with their remaining time (they are part of its wanted state), and lifts those the stream deletes. While
 * the LAPI is unreachable, local blocking goes on and fleet blocks already applied end at their own time.
 */
import { covers } from '../control/blocking.js';
import type { Applier } from '../firewall/applier.js';
import type { Logger } from '../log/logger.js';
import { type Network, networkText, width } from '../policy/network.js';
import type { FleetDecisionRow, Store } from '../store/store.js';
import type { LapiClient, LapiDecision, LapiStream } from './client.js';
import { judge } from './decisions.js';

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
  polls: number;
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
  readonly stats: PullerStats = { polls: 0, applied: 0, refused: 0, own: 0, ignored: 0, deleted: 0, failingSince: null, lastError: null, lastPollAt: null };
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
    for (const d of stream.deleted) {
      const row = store.fleet.decision(d.id);
      if (row === null) continue;
      store.fleet.forgetDecision(d.id);
      this.stats.deleted++;
      if (row.state !== 'applied') continue;
      log.info({ addr: row.key, decision: row.id }, `fleet: decision ${row.id} on ${row.key} deleted (origin ${row.origin}): lifted`);
      if (applier && !this.held(row.key)) await applier.unblock(row.net);
    }
    if (startup) this.forgetMissing(stream.new);
    for (const d of stream.new) await this.take(d, now);
    await this.recheckWhitelist(now);
  }

  /** After a startup call, decisions we hold that the LAPI no longer has are gone (deleted while we were away). */
  private forgetMissing(present: readonly LapiDecision[]): void {
    const ids = new Set(present.map((d) => d.id));
    const { store, applier } = this.options;
    for (const row of store.fleet.decisions()) {
      if (ids.has(row.id)) continue;
      store.fleet.forgetDecision(row.id);
      if (row.state === 'applied' && applier && !this.held(row.key)) void applier.unblock(row.net);
    }
  }

  private async take(d: LapiDecision, now: number): Promise<void> {
    const { store, applier, log } = this.options;
    const local = store.activeBlocks();
    const applied = store.fleet.decisions().filter((r) => r.state === 'applied' && r.id !== d.id);
    const ranges: Network[] = [
      ...local.filter((b) => b.cidr < width(b.kind)).map((b) => ({ addr: b.addr, cidr: b.cidr, kind: b.kind })),
      ...applied.filter((r) => r.net.cidr < width(r.net.kind)).map((r) => r.net),
    ];
    const verdict = judge(d, {
      now,
      allow: store.allowList(),
      localKeys: new Set(local.map((b) => b.key)),
      ranges,
      pushedByUs: (id) => store.fleet.pushedKey(id) !== null,
    });
    if (verdict.state === 'ignored') {
      this.stats.ignored++;
      log.debug({ decision: d.id }, `fleet: decision ${d.id} ignored: ${verdict.why}`);
      return;
    }
    const key = networkText(verdict.net);
    const before = store.fleet.decision(d.id);
    const detail = verdict.state === 'applied' ? '' : verdict.detail;
    const row: FleetDecisionRow = { id: d.id, key, net: verdict.net, origin: d.origin, scenario: d.scenario, until: verdict.until, state: verdict.state, detail, seenAt: before?.seenAt ?? now };
    store.fleet.recordDecision(row);
    const news = before === null || before.state !== verdict.state;
    if (!news) return;
    const fields = { addr: key, decision: d.id, origin: d.origin, scenario: d.scenario };
    const seconds = Math.max(1, Math.ceil((verdict.until - now) / 1000));
    if (verdict.state === 'own') {
      this.stats.own++;
      log.debug(fields, `fleet: decision ${d.id} on ${key} is ours (${verdict.detail}): not applied twice`);
    } else if (verdict.state === 'refused') {
      this.stats.refused++;
      log.warn(fields, `fleet: decision ${d.id} on ${key} (origin ${d.origin}, scenario ${d.scenario}) not applied: ${verdict.detail}`);
    } else {
      this.stats.applied++;
      const spared = verdict.spared.map((e) => `${networkText(e.net)} (${e.origin} ${e.detail})`);
      const note = spared.length > 0 ? `; the allow list keeps ${spared.join(', ')} reachable` : '';
      log.warn(fields, `${applier ? 'blocked' : 'would block'} ${key} for ${seconds} s: fleet decision ${d.id} from origin ${d.origin} (scenario ${d.scenario})${note}`);
      if (applier) await applier.block({ net: verdict.net, timeout: seconds });
    }
  }

  /** A whitelist entry added since a decision was applied wins: the decision is refused from now on. */
  private async recheckWhitelist(now: number): Promise<void> {
    const { store, applier, log } = this.options;
    const allow = store.allowList();
    for (const row of store.fleet.decisions()) {
      if (row.state !== 'applied') continue;
      const entry = allow.find((e) => covers(e.net, row.net));
      if (!entry) continue;
      const detail = `whitelisted by ${entry.origin} ${entry.detail} (${networkText(entry.net)})`;
      store.fleet.recordDecision({ ...row, state: 'refused', detail, seenAt: now });
      this.stats.refused++;
      log.warn({ addr: row.key, decision: row.id }, `fleet: decision ${row.id} on ${row.key} lifted: ${detail}`);
      if (applier && !this.held(row.key)) await applier.unblock(row.net);
    }
  }

  /** Whether something else still wants `key` blocked: a local block, or another applied fleet decision. */
  private held(key: string): boolean {
    const { store } = this.options;
    if (store.activeBlocks().some((b) => b.key === key)) return true;
    return store.fleet.decisions().some((r) => r.state === 'applied' && r.key === key && r.until > this.now());
  }
}
