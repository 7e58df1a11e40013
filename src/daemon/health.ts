/**
 * What the running daemon publishes about itself for `logwarden status`: every few seconds it rewrites one row
 * of the store (pid, start, heartbeat, its sources' states, the firewall's and the store's health, counts) and
 * adds the attacks counted since the last time. A status command tells a live daemon from a dead one by the pid
 * and the heartbeat's age; a clean stop says so at once.
 */
import { hostname } from 'node:os';
import type { ApplierHealth } from '../firewall/applier.js';
import type { FirewallOptions } from '../firewall/backend.js';
import type { FleetStatus } from '../fleet/fleet.js';
import type { Logger } from '../log/logger.js';
import type { SourceStatus } from '../sources/source.js';
import type { AttackCount, Store, StoreHealth } from '../store/store.js';
import { HOUR_MS } from '../store/status.js';
import type { HookStats } from './hooks.js';

/** How often the row is rewritten */
export const HEARTBEAT_MS = 2000;
/** A heartbeat older than this means the daemon is gone (or hangs) */
export const HEARTBEAT_STALE_MS = 10_000;

/** The JSON of the status row: what `status` shows about a running daemon. */
export interface PublishedState {
  dryRun: boolean;
  /** null in a dry run */
  firewall: (FirewallOptions & { backend: string; kernelExpiry: boolean; health: ApplierHealth }) | null;
  store: StoreHealth & { path: string };
  sources: SourceStatus[];
  counts: { lines: number; events: number; attacks: number; blocks: number; released: number };
  /** Where /metrics is served, or null */
  metrics: string | null;
  hooks: HookStats | null;
  /** CrowdSec's LAPI: pushing and pulling; null when not configured (or published by an older logwarden) */
  fleet: FleetStatus | null;
}

/** Attacks by rule and service: totals since start (metrics), and what is not yet in the store, by hour. */
export class AttackTally {
  /** `rule service` → count since start */
  readonly totals = new Map<string, { rule: string; service: number; serviceName: string; attacks: number }>();
  private unpublished = new Map<string, AttackCount>();
  total = 0;

  constructor(private readonly serviceNames: ReadonlyMap<number, string>) {}

  serviceName(service: number): string {
    return this.serviceNames.get(service) ?? String(service);
  }

  add(rule: string, service: number, time: number, n = 1): void {
    this.total += n;
    const key = `${rule} ${service}`;
    const total = this.totals.get(key);
    if (total) total.attacks += n;
    else this.totals.set(key, { rule, service, serviceName: this.serviceName(service), attacks: n });
    const hour = Math.floor(time / HOUR_MS) * HOUR_MS;
    const hourly = `${hour} ${key}`;
    const pending = this.unpublished.get(hourly);
    if (pending) pending.attacks += n;
    else this.unpublished.set(hourly, { hour, rule, service, serviceName: this.serviceName(service), attacks: n });
  }

  /** The counts not yet written; they are forgotten here, and given back with `putBack` when the write failed. */
  take(): AttackCount[] {
    const counts = [...this.unpublished.values()];
    this.unpublished = new Map();
    return counts;
  }

  putBack(counts: readonly AttackCount[]): void {
    for (const c of counts) {
      const key = `${c.hour} ${c.rule} ${c.service}`;
      const found = this.unpublished.get(key);
      if (found) found.attacks += c.attacks;
      else this.unpublished.set(key, { ...c });
    }
  }
}

/** Writes the daemon's status row every HEARTBEAT_MS; a failed write is logged once per run of failures, never thrown. */
export class HealthPublisher {
  readonly startedAt: number;
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  constructor(
    private readonly store: Store,
    private readonly tally: AttackTally,
    private readonly state: () => PublishedState,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly everyMs = HEARTBEAT_MS,
  ) {
    this.startedAt = now();
  }

  start(): void {
    this.publish();
    this.timer = setInterval(() => this.publish(), this.everyMs);
    this.timer.unref();
  }

  publish(stoppedAt: number | null = null): void {
    const counts = this.tally.take();
    const now = this.now();
    try {
      this.store.publishStatus(
        { pid: process.pid, host: hostname(), startedAt: this.startedAt, heartbeatAt: now, stoppedAt, state: this.state() },
        counts,
      );
      if (this.failing) this.log.info({}, 'the status row is written again');
      this.failing = false;
    } catch (error) {
      this.tally.putBack(counts);
      if (!this.failing) this.log.error({}, `cannot write the status row (logwarden status will say the daemon is not running): ${(error as Error).message}`);
      this.failing = true;
    }
  }

  /** The last row, saying the daemon stopped. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.publish(this.now());
  }
}
