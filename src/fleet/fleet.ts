/**
 * The daemon's one handle on the fleet (CrowdSec's Local API): pushes its blocks and releases, follows the
 * decision stream, and adds the applied fleet decisions to the applier's wanted state.
 */
import type { Applier } from '../firewall/applier.js';
import type { BlockEntry } from '../firewall/backend.js';
import type { Logger } from '../log/logger.js';
import { networkText } from '../policy/network.js';
import type { BlockDecision } from '../policy/policy.js';
import type { Store } from '../store/store.js';
import { MAX_SHARED_LINES } from './alert.js';
import { X509Certificate } from 'node:crypto';
import { type ClientCert, LapiClient } from './client.js';
import { FleetPuller, type PullerStats } from './pull.js';
import { FleetPusher, type PusherStats } from './push.js';

/** How often pushed blocks are checked for an early end */
const RELEASES_EVERY_MS = 2000;

export interface FleetConfig {
  url: string;
  /** PEM certificates the LAPI's https certificate must chain to; null: the system's CAs */
  ca?: string | null;
  /** Pushing (watcher): null when not configured */
  machine: { id: string; password: string } | null;
  /** Pulling (bouncer): null when not configured */
  bouncerKey: string | null;
  /** Client certificates for the LAPI's TLS authentication, instead of the machine's password or the bouncer key */
  machineCert?: ClientCert | null;
  bouncerCert?: ClientCert | null;
  /** seconds between polls of the decision stream */
  interval: number;
  /** Evidence lines go with the alerts (off: they stay on this host) */
  shareEvidence: boolean;
}

/** What the daemon publishes about the fleet (status row, metrics) */
export interface FleetStatus {
  url: string;
  /** null: not pushing (no machine credentials, or a dry run) */
  push: (PusherStats & { machine: string }) | null;
  /** null: not pulling (no bouncer key) */
  pull: (PullerStats & { intervalSeconds: number }) | null;
}

export interface FleetParts {
  store: Store;
  applier: Applier | null;
  log: Logger;
  now?: () => number;
  /** Outbox bound, retry timing (tests) */
  push?: { bound?: number; retryMs?: number; maxRetryMs?: number };
}

export class Fleet {
  readonly client: LapiClient;
  readonly pusher: FleetPusher | null;
  readonly puller: FleetPuller | null;
  private readonly now: () => number;
  /** The machine as the LAPI knows it: its id, or its certificate's CN (the LAPI adds @ADDRESS) */
  private readonly machineName: string;
  private releasesTimer: NodeJS.Timeout | null = null;
  /** Keys whose release is queued: not queued again while it waits */
  private readonly releasing = new Set<string>();

  constructor(
    readonly config: FleetConfig,
    private readonly parts: FleetParts,
  ) {
    this.now = parts.now ?? Date.now;
    const { url, ca, machine, bouncerKey, machineCert, bouncerCert } = config;
    this.client = new LapiClient({ url, ca: ca ?? null, machine, bouncerKey, machineCert, bouncerCert, now: this.now });
    this.machineName = machine ? machine.id : machineCert ? `${/^CN=(.*)$/m.exec(new X509Certificate(machineCert.cert).subject)?.[1] ?? '?'} (client certificate)` : '';
    const log = parts.log;
    // a dry run pushes nothing: its blocks are not real
    this.pusher = (machine || machineCert) && parts.applier ? new FleetPusher({ client: this.client, store: parts.store, log, now: this.now, ...parts.push }) : null;
    this.puller = bouncerKey || bouncerCert
      ? new FleetPuller({ client: this.client, store: parts.store, applier: parts.applier, log, intervalMs: config.interval * 1000, now: this.now })
      : null;
  }

  start(): void {
    const { url, interval } = this.config;
    const roles = [this.pusher ? `pushing its blocks as machine ${this.machineName}` : null, this.puller ? `enforcing the fleet's decisions (polled every ${interval} s)` : null];
    this.parts.log.info({ url }, `fleet: CrowdSec LAPI ${url}: ${roles.filter((r) => r !== null).join(', ') || 'nothing to do in a dry run'}`);
    this.pusher?.start();
    if (this.pusher) this.shareUnsharedPermanent();
    this.puller?.start();
    if (this.pusher) this.releasesTimer = setInterval(() => this.findReleases(), RELEASES_EVERY_MS);
  }

  /**
   * Permanent blocks the LAPI never got (the blacklist file's entries restored at start, blocks made before the
   * fleet was configured) are queued once: a time-limited one is pushed when made, or is over soon anyway.
   */
  private shareUnsharedPermanent(): void {
    try {
      const store = this.parts.store;
      const shared = store.fleet.sharedKeys();
      const unshared = store.activeBlocks().filter((b) => b.expires === null && !shared.has(b.key));
      for (const b of unshared) {
        const r = b.reason;
        const net = { addr: b.addr, cidr: b.cidr, kind: b.kind };
        this.pusher!.block({ net, start: b.start, until: null, rules: r.rules ?? [], attacks: r.attacks ?? 0, score: r.score ?? 0, firstSeen: b.start, evidence: [], text: r.text });
      }
      if (unshared.length > 0) this.parts.log.info({ count: unshared.length }, `fleet: ${unshared.length} permanent block(s) the LAPI does not have yet are queued for it`);
    } catch (error) {
      this.parts.log.error({}, `fleet: looking for permanent blocks to share failed: ${(error as Error).message}`);
    }
  }

  /**
   * Pushed blocks that were lifted early (an `unblock` or `whitelist add` from another process, seen here however
   * the daemon learnt of it) get their release; those that simply ended are forgotten, as the LAPI's decision
   * ends at the same time.
   */
  findReleases(): void {
    try {
      for (const { key, state } of this.parts.store.fleet.pushedStates()) {
        if (state === 'active') continue;
        if (state === 'released' || state === 'whitelisted') {
          if (!this.releasing.has(key)) this.release(key);
        } else {
          this.parts.store.fleet.forgetPushed(key);
          this.releasing.delete(key);
        }
      }
      // a release sent forgets the key's ids: it may be released again after a new block
      const pushed = new Set(this.parts.store.fleet.pushedStates().map((p) => p.key));
      for (const key of this.releasing) if (!pushed.has(key)) this.releasing.delete(key);
    } catch (error) {
      this.parts.log.error({}, `fleet: looking for released blocks failed: ${(error as Error).message}`);
    }
  }

  private release(key: string): void {
    this.releasing.add(key);
    this.pusher!.release(key);
  }

  async stop(): Promise<void> {
    if (this.releasesTimer) clearInterval(this.releasesTimer);
    await Promise.all([this.pusher?.stop(), this.puller?.stop()]);
  }

  status(): FleetStatus {
    const { url, interval } = this.config;
    return {
      url,
      push: this.pusher ? { ...this.pusher.stats, machine: this.machineName } : null,
      pull: this.puller ? { ...this.puller.stats, intervalSeconds: interval } : null,
    };
  }

  /** A block the daemon applied: queued for the LAPI, never waited for. */
  blocked(b: BlockDecision, trigger: string): void {
    if (this.pusher === null) return;
    let evidence: string[] = [];
    if (this.config.shareEvidence) {
      const ids = b.evidence.filter((e): e is number => typeof e === 'number').slice(-MAX_SHARED_LINES);
      evidence = this.parts.store.evidenceLines(ids);
      if (evidence[evidence.length - 1] !== trigger) evidence.push(trigger);
    }
    this.pusher.block({
      net: b.net,
      start: b.at,
      until: b.permanent ? null : b.until,
      rules: b.rules,
      attacks: b.attacks,
      score: b.score,
      firstSeen: b.firstSeen,
      evidence,
    });
  }

  /** A local block lifted before its time (unblock, whitelisting): its decision is deleted from the LAPI. */
  released(key: string): void {
    if (this.pusher && !this.releasing.has(key)) this.release(key);
  }

  /** The local blocks plus the applied fleet decisions still running; for one address, the longer one wins. */
  withFleetBlocks(local: BlockEntry[], now = this.now()): BlockEntry[] {
    if (this.puller === null) return local;
    const byKey = new Map<string, BlockEntry>();
    for (const e of local) byKey.set(networkText(e.net), e);
    for (const d of this.parts.store.fleet.decisions()) {
      if (d.state !== 'applied' || d.until <= now) continue;
      const entry: BlockEntry = { net: d.net, timeout: Math.max(1, Math.ceil((d.until - now) / 1000)) };
      const held = byKey.get(d.key);
      if (held === undefined || (held.timeout !== null && held.timeout < entry.timeout!)) byKey.set(d.key, entry);
    }
    return [...byKey.values()];
  }
}
