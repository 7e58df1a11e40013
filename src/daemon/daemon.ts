/**
 * The long-running wiring: sources → parser → engine (correlation, policy) → store (wanted state) → applier →
 * kernel. Start-up restores the store's blocks in one batch before any line is read; a wall-clock tick expires
 * and prunes on a quiet server; a periodic sync repairs what someone changed in the kernel.
 */
import { Engine, type Item, itemOf } from '../engine/engine.js';
import { storeEvidence } from '../engine/evidence.js';
import { covers, entryOf } from '../control/blocking.js';
import type { Applier } from '../firewall/applier.js';
import type { Fleet } from '../fleet/fleet.js';
import { excerpt } from '../log/excerpt.js';
import type { Logger } from '../log/logger.js';
import type { ParsedEvent, Parser } from '../parse/parser.js';
import { bannerTime } from '../parse/time.js';
import { appendBlacklist, type BlacklistEntry, blacklistLine } from '../policy/blacklist.js';
import { type Network, NetworkSet, networkText } from '../policy/network.js';
import { type BlockDecision, markBlocked, newPolicyState, type PolicyConfig, type PolicyState, release } from '../policy/policy.js';
import type { Whitelist } from '../policy/whitelist.js';
import type { HostnameResolver } from '../resolve/hostnames.js';
import type { JournalFields, Source, SourceLine, SourceStatus } from '../sources/source.js';
import type { WaitingLine } from '../store/waiting.js';
import type { BlockRow, Store } from '../store/store.js';
import { BlockWatcher } from '../store/watch.js';
import type { Histogram } from '../metrics/registry.js';
import { ExternalFilter, sshgLine } from './external.js';
import { AttackTally, HEARTBEAT_MS, HealthPublisher, type PublishedState } from './health.js';
import type { HookCall, Hooks } from './hooks.js';
import { SenderCheck } from '../sources/senders.js';
import { LagWatch } from './lag.js';

export interface DaemonOptions {
  sources: Source[];
  parser: Parser;
  policy: PolicyConfig;
  whitelist: Whitelist;
  /** Addresses blacklisted for good, and the file new permanent blocks are appended to */
  blacklist: { entries: BlacklistEntry[]; file: string | null };
  store: Store;
  /** null in a dry run: nothing reaches the kernel, blocks are recorded as simulated */
  applier: Applier | null;
  /** The owner's addresses (interfaces, open SSH sessions): never scored, never blocked, in the allow list */
  owner: { net: Network; why: string }[];
  log: Logger;
  /** ms between reconciliations of the kernel with the store */
  syncIntervalMs: number;
  timezone?: string;
  now?: () => number;
  /** Opt-in: attempts known by host name only are resolved (forward-confirmed) and then scored */
  resolver?: HostnameResolver | null;
  /** sshguard's PARSER (replaces logwarden's parser) and POST_PARSER (filters its attacks), shell commands */
  external?: { parser: string | null; postParser: string | null };
  /** --on-block / --on-release programs */
  hooks?: Hooks | null;
  /** Parse time per line, observed when metrics are served */
  parseTimer?: Histogram | null;
  /** ms between status rows written for `logwarden status` (default HEARTBEAT_MS; 0: none) */
  publishEveryMs?: number;
  /** CrowdSec's Local API: blocks pushed, the fleet's decisions enforced with the local ones */
  fleet?: Fleet | null;
}

const TICK_MS = 1000;
/** The blocks are read at their earliest end, and at least this often */
const EXPIRY_RECHECK_MS = 60_000;
const WATCH_MS = 500;

export class Daemon {
  readonly state: PolicyState;
  readonly engine: Engine;
  private readonly owner = new NetworkSet();
  /** Entries whitelisted by commands (`-w` of block, `whitelist add`), read from the store's allow list */
  private byCommands = new NetworkSet();
  private storeVersion = -1;
  /** ms: no block ends before this (so the tick need not read the blocks every second) */
  private nextExpiry = 0;
  private readonly now: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private watcher: BlockWatcher | null = null;
  private stopping = false;
  private readonly parserCommand: ExternalFilter | null = null;
  private readonly postParser: ExternalFilter | null = null;
  readonly counts = { lines: 0, events: 0, blocks: 0, released: 0 };
  /** Attacks handed to the engine, by rule and service */
  readonly attacks: AttackTally;
  /** Where /metrics is served (set by run), for the status row */
  metricsAt: string | null = null;
  private publisher: HealthPublisher | null = null;
  /** Keys whose block reached the kernel (or was restored): only their end is a release for --on-release */
  private readonly inForce = new Set<string>();
  /** The journal fields of the journal lines correlation may hold (to keep them with the line if it does) */
  private readonly journalOf = new WeakMap<Item, JournalFields>();
  /** Journal entries count only when journald says the service's own daemon wrote them */
  readonly senders: SenderCheck;
  /** Sources the daemon cannot keep up with, said in the log and the metrics */
  readonly lag: LagWatch;

  constructor(private readonly options: DaemonOptions) {
    this.senders = new SenderCheck(options.parser.rules, options.log);
    this.now = options.now ?? Date.now;
    this.lag = new LagWatch(options.log);
    const names = new Map<number, string>();
    for (const r of options.parser.rules) if (!names.has(r.service)) names.set(r.service, r.serviceName);
    this.attacks = new AttackTally(names);
    for (const { net } of options.owner) this.owner.add(net);
    const whitelist = options.whitelist;
    this.state = newPolicyState({
      has: (addr, kind) => whitelist.has(addr, kind) || this.owner.has(addr, kind) || this.byCommands.has(addr, kind),
    });
    this.engine = new Engine({
      policy: options.policy,
      state: this.state,
      evidence: storeEvidence(options.store, options.applier === null),
      now: this.now,
      onBlock: (block, trigger) => this.blocked(block, trigger.parsed, trigger.line),
      resolver: options.resolver,
    });
    const ext = options.external;
    const filter = (command: string, role: 'parser' | 'post-parser') =>
      new ExternalFilter({
        command,
        role,
        log: options.log,
        onEvent: (e) => this.handle(itemOf(e, this.now(), role, null, sshgLine(e))),
      });
    if (ext?.parser) this.parserCommand = filter(ext.parser, 'parser');
    if (ext?.postParser) this.postParser = filter(ext.postParser, 'post-parser');
  }

  get dryRun(): boolean {
    return this.options.applier === null;
  }

  /** The allow list the kernel must hold: the store's, which the daemon keeps up to date with its whitelist. */
  allowList(): Network[] {
    const seen = new Map<string, Network>();
    for (const { net } of this.options.store.allowList()) seen.set(networkText(net), net);
    return [...seen.values()];
  }

  /** Writes the configured whitelist and the owner's addresses to the store's allow list (the wanted state). */
  recordAllowList(): void {
    const { store, whitelist, owner } = this.options;
    const sources = new Map<string, string>();
    for (const n of whitelist.entries.networks) sources.set(networkText(n.net), n.source);
    store.replaceAllow('config', whitelist.list().map((net) => ({ net, detail: sources.get(networkText(net)) ?? 'host name' })));
    store.replaceAllow('owner', owner.map((o) => ({ net: o.net, detail: o.why })));
  }

  private readAllowOfCommands(): void {
    const set = new NetworkSet();
    for (const e of this.options.store.allowList()) if (e.origin !== 'config' && e.origin !== 'owner') set.add(e.net);
    this.byCommands = set;
  }

  /** The wanted state for the applier: the store's real active blocks, with their remaining time. */
  wanted(): { blocks: ReturnType<typeof entryOf>[]; allow: Network[] } {
    const now = this.now();
    const local = this.options.store.activeBlocks().map((b) => entryOf(b, now));
    return { blocks: this.options.fleet ? this.options.fleet.withFleetBlocks(local, now) : local, allow: this.allowList() };
  }

  /**
   * Restores the policy state and the kernel from the store, then starts the sources. Throws when the
   * firewall cannot be set up: a blocker that cannot block must not run.
   */
  async start(): Promise<void> {
    const { store, log } = this.options;
    const now = this.now();
    for (const { net, why } of this.options.owner) log.info({ addr: networkText(net) }, `never blocked: ${networkText(net)} (${why})`);
    for (const o of store.loadOffenders()) this.state.offenders.set(o.key, o);
    this.recordAllowList();
    this.readAllowOfCommands();
    // read once: 20,000 active blocks take ~60 ms to read
    const active = store.activeBlocks();
    this.restoreBlacklist(now, active);
    for (const b of active) {
      markBlocked(this.state, { addr: b.addr, cidr: b.cidr, kind: b.kind }, b.start, b.expires ?? Infinity);
      if (b.expires === null || b.expires > now) this.inForce.add(b.key);
    }
    if (this.options.applier) {
      await this.options.applier.reconcile().then((drift) =>
        log.info(
          { restored: drift.blocked.length, removed: drift.unblocked.length },
          `firewall ${this.options.applier!.firewall.backend.name} ready: ${drift.blocked.length} active block(s) restored`,
        ),
      );
    } else {
      log.info({}, 'dry run: no firewall is changed; blocks are logged as "would block" and recorded as simulated');
    }
    this.watcher = new BlockWatcher(store);
    this.timers.push(setInterval(() => this.tick(), TICK_MS));
    this.timers.push(setInterval(() => this.pickUpCommands(), WATCH_MS));
    if (this.options.applier) this.timers.push(setInterval(() => void this.options.applier!.sync(), this.options.syncIntervalMs));
    this.parserCommand?.start();
    this.postParser?.start();
    this.feedBackWaiting();
    store.trackWaiting(() => this.waitingLines());
    for (const source of this.options.sources) {
      await source.start((lines) => this.lines(source, lines));
      // a first start reads from the end: without this, lines written before the first line read and the next
      // start would never be read
      const at = source.position?.();
      if (at) store.queuePosition(source.name, at);
    }
    // written now, not ~100 ms later: a crash in between would make the next start begin at the end again
    store.flushAll();
    log.info({ sources: this.options.sources.map((s) => s.name) }, `reading ${this.options.sources.map((s) => s.name).join(', ')}`);
    const every = this.options.publishEveryMs ?? HEARTBEAT_MS;
    if (every > 0) {
      this.publisher = new HealthPublisher(store, this.attacks, () => this.published(), log, this.now, every);
      this.publisher.start();
    }
  }

  /** What the status row says about this daemon. */
  published(): PublishedState {
    const { applier, store, hooks } = this.options;
    return {
      dryRun: this.dryRun,
      firewall: applier
        ? { backend: applier.firewall.backend.name, kernelExpiry: applier.firewall.backend.kernelExpiry, ...applier.firewall.options, health: { ...applier.health } }
        : null,
      store: { path: store.path, ...store.health() },
      sources: this.status(),
      counts: { ...this.counts, attacks: this.attacks.total },
      metrics: this.metricsAt,
      hooks: hooks ? { ...hooks.stats } : null,
      fleet: this.options.fleet?.status() ?? null,
    };
  }

  /** The fleet's decisions in force now. */
  fleetBlockCount(): number {
    return this.options.store.fleet.appliedCount(this.now());
  }

  /** The blocks in force now (a dry run's simulated ones in a dry run). */
  activeBlockCount(): number {
    return this.options.store.activeBlocks({ simulated: this.dryRun }).length;
  }

  /** Every item goes to the engine through here: attacks are counted by rule and service. */
  private handle(item: Item): void {
    if (item.event === 'attack') this.attacks.add(item.parsed.rule, item.parsed.service, item.time, item.parsed.count);
    this.engine.handle(item);
  }

  private hook(call: HookCall): void {
    if (this.dryRun || !this.options.hooks) return;
    const key = networkText({ addr: call.addr, cidr: call.cidr, kind: call.addr.includes(':') ? 6 : 4 });
    if (call.event === 'block') this.inForce.add(key);
    else if (!this.inForce.delete(key)) return; // a block already over when decided was never in force
    this.options.hooks.notify(call);
  }

  /** Blacklisted addresses are blocked for good from the start, and recorded as such. */
  private restoreBlacklist(now: number, blocks: BlockRow[]): void {
    const active = new Set(blocks.map((b) => b.key));
    for (const entry of this.options.blacklist.entries) {
      markBlocked(this.state, entry.net, entry.time, Infinity);
      const key = networkText(entry.net);
      if (!active.has(key)) this.options.store.addBlock(entry.net, now, null, 'blacklist', { text: 'in the blacklist file' });
      this.inForce.add(key);
    }
  }

  private lines(source: Source, batch: SourceLine[]): void {
    const now = this.now();
    for (const line of batch) {
      this.counts.lines++;
      if (this.parserCommand) {
        this.parserCommand.send(line.text);
        continue;
      }
      const timer = this.options.parseTimer;
      const t0 = timer ? performance.now() : 0;
      const parsed = this.parse(line);
      if (timer) timer.observe((performance.now() - t0) / 1000);
      if (parsed === null) continue;
      this.counts.events++;
      // as in sshguard, POST_PARSER sees each attack line; logins (not in its format) keep their own path
      if (this.postParser && parsed.event === 'attack') this.postParser.send(sshgLine(parsed));
      else {
        const item = itemOf(parsed, this.timeOf(parsed, line, now), line.source, line.lineNo, line.text);
        if (line.journal !== null) this.journalOf.set(item, line.journal);
        this.handle(item);
      }
    }
    const last = batch[batch.length - 1];
    // committed with the effects of these lines: a crash re-reads none of them and skips none
    if (last?.position) this.options.store.queuePosition(source.name, last.position);
  }

  /** The lines correlation holds now, as the store keeps them. */
  private waitingLines(): WaitingLine[] {
    return this.engine.waiting().map((item) => {
      const j = this.journalOf.get(item);
      const journal = j === undefined ? null : { identifier: j.identifier, pid: j.pid, host: j.host, uid: j.uid, exe: j.exe, unit: j.unit, transport: j.transport, comm: j.comm };
      return { source: item.source, lineNo: item.lineNo, time: item.time, line: item.line, journal };
    });
  }

  /**
   * The lines correlation held when logwarden last wrote its positions (at a stop, or before a crash): they are
   * past those positions, so they are read again from the store, through the same checks, before any new line.
   */
  private feedBackWaiting(): void {
    const waiting = this.options.store.waitingLines();
    if (waiting.length === 0) return;
    for (const w of waiting) {
      const journal = w.journal === null ? null : { ...w.journal, time: w.time, cursor: '' };
      const line: SourceLine = { text: w.line, source: w.source, lineNo: w.lineNo, position: null, journal, readAt: w.time };
      const parsed = this.parse(line);
      if (parsed === null) continue;
      const item = itemOf(parsed, w.time, w.source, w.lineNo, w.line);
      if (journal !== null) this.journalOf.set(item, journal);
      this.handle(item);
    }
    this.options.log.info({ lines: waiting.length }, `read again ${waiting.length} line(s) attempt correlation held at the last stop`);
  }

  private parse(line: SourceLine): ParsedEvent | null {
    const j = line.journal;
    if (j === null) return this.options.parser.parse(line.text);
    const parsed = this.options.parser.parseRecord({ tag: j.identifier, pid: j.pid, host: j.host, message: line.text, time: j.time });
    return parsed && this.senders.admit(parsed, j);
  }

  /** The line's own time when it has one (journal: its realtime stamp), never later than now. */
  private timeOf(parsed: ParsedEvent, line: SourceLine, now: number): number {
    const own = line.journal ? line.journal.time : bannerTime(parsed.banner, { now: line.readAt, timezone: this.options.timezone });
    return Math.min(own ?? line.readAt, now);
  }

  private blocked(b: BlockDecision, trigger: ParsedEvent, line: string): void {
    const { log, applier } = this.options;
    this.counts.blocks++;
    this.nextExpiry = Math.min(this.nextExpiry, b.until);
    const key = networkText(b.net);
    const span = Math.round((b.at - b.firstSeen) / 1000);
    const example = excerpt(line);
    const fields = { addr: key, duration: b.duration, attacks: b.attacks, score: b.score, rules: b.rules, services: b.services, line: example };
    const how = b.permanent ? 'permanently' : `for ${b.duration} s`;
    const why = `${b.attacks} attack(s) over ${span} s (${b.rules.join(', ')}), score ${b.score}`;
    if (!b.applied) log.info(fields, `recorded a block of ${key} ${how} that was already over (old log lines): ${why}`);
    else if (applier === null) log.warn(fields, `would block ${key} ${how}: ${why}; e.g. ${example}`);
    else {
      log.warn(fields, `blocked ${key} ${how}: ${why}; e.g. ${example}`);
      void applier.block({ net: b.net, timeout: b.permanent ? null : Math.max(1, Math.ceil((b.until - this.now()) / 1000)) });
      this.options.fleet?.blocked(b, line);
      this.hook({ event: 'block', addr: b.net.addr, cidr: b.net.cidr, duration: b.permanent ? null : b.duration, reason: why });
    }
    const file = this.options.blacklist.file;
    if (b.permanent && file !== null && applier !== null) {
      try {
        appendBlacklist(file, blacklistLine(b.at, trigger.service, b.net.kind, b.net.addr));
      } catch (error) {
        log.error({ file }, `cannot append ${key} to the blacklist ${file}: ${(error as Error).message}`);
      }
    }
  }

  private tick(): void {
    try {
      const now = this.now();
      this.lag.check(this.status(), now);
      this.logExpiries(now);
      this.engine.tick(now);
      this.options.store.checkFile();
    } catch (error) {
      this.options.log.error({}, `expiry and pruning failed: ${(error as Error).message}`);
    }
  }

  /** Every release is one log line: blocks whose time is over now (the kernel lifts them by itself, or the applier). */
  private logExpiries(now: number): void {
    if (this.nextExpiry > now) return;
    let next = Infinity;
    for (const b of this.options.store.activeBlocks({ simulated: this.dryRun })) {
      if (b.expires === null) continue;
      if (b.expires > now) next = Math.min(next, b.expires);
      else {
        this.counts.released++;
        const lasted = Math.round((b.expires - b.start) / 1000);
        this.options.log.info(
          { addr: b.key, since: new Date(b.start).toISOString(), origin: b.origin },
          `${this.dryRun ? 'would release' : 'released'} ${b.key}: its ${lasted} s block is over`,
        );
        this.hook({ event: 'release', addr: b.addr, cidr: b.cidr, duration: lasted, reason: 'expired' });
      }
    }
    // new blocks lower this themselves; the bound only guards against one missed
    this.nextExpiry = Math.min(next, now + EXPIRY_RECHECK_MS);
  }

  /** `block`, `unblock` and whitelisting by other processes: their kernel change is done, the policy learns it. */
  private pickUpCommands(): void {
    if (this.watcher === null) return;
    try {
      const version = this.options.store.db.pragma('data_version', { simple: true }) as number;
      if (version !== this.storeVersion) {
        this.storeVersion = version;
        this.readAllowOfCommands();
      }
      const { added, ended } = this.watcher.poll();
      for (const b of added) {
        markBlocked(this.state, { addr: b.addr, cidr: b.cidr, kind: b.kind }, b.start, b.expires ?? Infinity);
        if (b.expires !== null) this.nextExpiry = Math.min(this.nextExpiry, b.expires);
        // the watcher also lists the daemon's own new blocks: only those made by hand are news
        if (b.origin === 'manual') {
          this.options.log.info({ addr: b.key, reason: b.reason.text }, `${b.key} was blocked by hand (${b.reason.text ?? 'no reason given'})`);
          const duration = b.expires === null ? null : Math.round((b.expires - b.start) / 1000);
          this.hook({ event: 'block', addr: b.addr, cidr: b.cidr, duration, reason: `by hand: ${b.reason.text ?? 'no reason given'}` });
        }
      }
      for (const b of ended) {
        if (b.state === 'expired') continue;
        release(this.state, b.key, b.endedAt ?? this.now());
        // `whitelist add` ends the block itself: the fleet must drop it too
        if (b.state === 'whitelisted') this.options.fleet?.released(b.key);
        if (b.state === 'released') {
          this.options.log.info({ addr: b.key }, `released ${b.key} by hand (logwarden unblock)`);
          this.counts.released++;
          this.hook({ event: 'release', addr: b.addr, cidr: b.cidr, duration: this.lasted(b.start, b.endedAt), reason: 'released by hand' });
          this.options.fleet?.released(b.key);
        }
      }
    } catch (error) {
      this.options.log.error({}, `reading changes made by commands failed: ${(error as Error).message}`);
    }
  }

  /** A whitelist entry appeared: lift its blocks at once and clear its window. */
  async whitelisted(net: Network): Promise<void> {
    const { store, applier, log } = this.options;
    const now = this.now();
    for (const b of store.activeBlocks()) {
      const blocked: Network = { addr: b.addr, cidr: b.cidr, kind: b.kind };
      if (!covers(net, blocked)) continue;
      store.endBlock(b.key, 'whitelisted', now);
      release(this.state, b.key, now);
      this.counts.released++;
      log.info({ addr: b.key, entry: networkText(net) }, `released ${b.key}: whitelisted now (${networkText(net)})`);
      this.hook({ event: 'release', addr: b.addr, cidr: b.cidr, duration: this.lasted(b.start, now), reason: `whitelisted (${networkText(net)})` });
      this.options.fleet?.released(b.key);
      await applier?.unblock(blocked);
    }
  }

  /** The allow list changed (whitelist reloaded): the store and the kernel get the new one. */
  async allowChanged(): Promise<void> {
    this.recordAllowList();
    await this.options.applier?.sync();
  }

  /** Seconds a block lasted, from its start to its end (now when not recorded). */
  private lasted(start: number, end: number | null): number {
    return Math.max(0, Math.round(((end ?? this.now()) - start) / 1000));
  }

  get sources(): readonly Source[] {
    return this.options.sources;
  }

  status(): SourceStatus[] {
    return this.options.sources.map((s) => s.status());
  }

  /**
   * Stops reading and writes everything. What correlation still holds is kept in the store for the next start
   * (scored now only at the end of the input: standard input cannot be read again).
   */
  async stop(endOfInput = false): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.options.sources.map((s) => s.stop()));
    this.parserCommand?.stop();
    this.postParser?.stop();
    if (endOfInput) this.engine.finish();
    else this.options.store.snapshotWaiting();
    await this.options.applier?.settle();
    this.options.applier?.stop();
    try {
      this.options.store.flushAll();
    } finally {
      await this.options.hooks?.stop();
      this.publisher?.stop();
    }
  }
}
