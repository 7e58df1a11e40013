/**
 * The daemon's metrics: one registry whose values are read from the daemon at each scrape (its counts, sources,
 * firewall and store health, hooks), and the parse time histogram the daemon observes into.
 */
import type { Daemon } from '../daemon/daemon.js';
import { type Histogram, Registry, type Sample } from './registry.js';

/** Seconds: from a plain miss (about a microsecond) to a pathological line */
const PARSE_BUCKETS = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2];

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly parseTimer: Histogram;
  private daemon: Daemon | null = null;

  constructor(private readonly startedAt = Date.now()) {
    this.parseTimer = this.registry.histogram('logwarden_parse_seconds', 'Time to parse one log line (recognise its service, rule and address)', PARSE_BUCKETS);
    this.declare();
  }

  /** From now on the values are the daemon's. */
  watch(daemon: Daemon): void {
    this.daemon = daemon;
  }

  private declare(): void {
    const r = this.registry;
    const state = () => {
      if (this.daemon === null) throw new Error('the daemon is starting');
      return this.daemon.published();
    };
    const perSource = (value: (s: ReturnType<typeof state>['sources'][number]) => number | null): (() => Sample[]) => () =>
      state().sources.flatMap((s) => {
        const v = value(s);
        return v === null ? [] : [{ labels: { source: s.name }, value: v }];
      });
    r.read('gauge', 'logwarden_start_time_seconds', 'When the daemon started (Unix time)', () => this.startedAt / 1000);
    r.read('counter', 'logwarden_lines_total', 'Lines read, per source', perSource((s) => s.lines));
    r.read('counter', 'logwarden_source_errors_total', 'Problems met by a source (unreadable file, reader exit, ...), each also logged', perSource((s) => s.errors));
    r.read('gauge', 'logwarden_source_up', 'Whether the source is reading (1) or waiting, failed or stopped (0)', perSource((s) => (s.state === 'reading' ? 1 : 0)));
    r.read('gauge', 'logwarden_source_lag_bytes', 'Bytes written to a log file and not read yet', perSource((s) => s.lagBytes));
    r.read('gauge', 'logwarden_source_lag_seconds', 'How long a log file has been more than 1 MiB behind (0: keeping up); a warning is logged after 5 s', () =>
      state().sources.map((s) => ({ labels: { source: s.name }, value: this.daemon!.lag.seconds(s.name, Date.now()) })),
    );
    r.read('gauge', 'logwarden_source_last_line_timestamp_seconds', 'When the last line of the source was read (Unix time)', perSource((s) => (s.lastLineAt === null ? null : s.lastLineAt / 1000)));
    r.read('counter', 'logwarden_attacks_total', 'Attacks recognised, by rule and service (each line of an attempt counts; whitelisted and trusted addresses included)', () =>
      [...(this.daemon?.attacks.totals.values() ?? [])].map((a) => ({ labels: { rule: a.rule, service: a.serviceName, service_code: String(a.service) }, value: a.attacks })),
    );
    r.read('counter', 'logwarden_blocks_total', 'Blocks decided by the policy since start', () => state().counts.blocks);
    r.read('counter', 'logwarden_releases_total', 'Blocks ended since start (expired, or lifted by hand or by the whitelist)', () => state().counts.released);
    r.read('gauge', 'logwarden_active_blocks', 'Blocks in force now (in a dry run: the simulated ones)', () => this.daemon!.activeBlockCount());
    r.read('counter', 'logwarden_store_write_failures_total', 'Failed writes to the store (retried: nothing is lost while the process runs)', () => state().store.failures);
    r.read('gauge', 'logwarden_store_pending_rows', 'Rows waiting to be written to the store', () => state().store.pending);
    const firewall = () => state().firewall?.health ?? null;
    r.read('counter', 'logwarden_firewall_failures_total', 'Failed firewall commands (retried by reconciling)', () => firewall()?.failures ?? 0);
    r.read('counter', 'logwarden_firewall_batches_total', 'Batches sent to the kernel (one nft transaction, iptables-restore or ipset restore each)', () => firewall()?.batches ?? 0);
    r.read('counter', 'logwarden_firewall_operations_total', 'Blocks and unblocks sent to the kernel', () => firewall()?.operations ?? 0);
    r.read('counter', 'logwarden_firewall_drift_repaired_total', 'Differences between the kernel and the store found and repaired by the periodic sync', () => firewall()?.repairs ?? 0);
    r.read('gauge', 'logwarden_firewall_up', 'Whether the last firewall command succeeded (0 also in a dry run)', () => {
      const h = firewall();
      return h !== null && h.failingSince === null ? 1 : 0;
    });
    const fleet = () => state().fleet;
    const push = () => fleet()?.push ?? null;
    const pull = () => fleet()?.pull ?? null;
    r.read('counter', 'logwarden_fleet_pushes_total', 'Pushes to the CrowdSec LAPI, by result: sent (a block), released (its decision deleted), rejected (refused outright), failed (an attempt, retried), dropped (the outbox was full)', () => {
      const p = push();
      if (p === null) return [];
      return (['sent', 'released', 'rejected', 'failures', 'dropped'] as const).map((k) => ({ labels: { result: k === 'failures' ? 'failed' : k }, value: p[k] }));
    });
    r.read('gauge', 'logwarden_fleet_push_queue', 'Pushes waiting in the store\'s outbox for the CrowdSec LAPI', () => {
      const p = push();
      return p === null ? [] : [{ labels: {}, value: p.queued }];
    });
    r.read('counter', 'logwarden_fleet_pulls_total', 'Reads of the CrowdSec LAPI decision stream, by result (ok, failed)', () => {
      const p = pull();
      return p === null ? [] : [{ labels: { result: 'ok' }, value: p.polls }, { labels: { result: 'failed' }, value: p.failures }];
    });
    r.read('counter', 'logwarden_fleet_decisions_total', "The fleet's decisions taken from the stream, by result: applied, deleted, refused (the whitelist wins, or an overlapping prefix), own (this host's coming back), ignored (not a ban of an Ip or Range)", () => {
      const p = pull();
      if (p === null) return [];
      return (['applied', 'deleted', 'refused', 'own', 'ignored'] as const).map((k) => ({ labels: { result: k }, value: p[k] }));
    });
    r.read('gauge', 'logwarden_fleet_active_blocks', "The fleet's decisions enforced now (apart from logwarden_active_blocks)", () =>
      pull() === null ? [] : [{ labels: {}, value: this.daemon!.fleetBlockCount() }],
    );
    r.read('gauge', 'logwarden_fleet_lapi_up', 'Whether the CrowdSec LAPI answered the last attempt (1) or is unreachable or failing (0), for pulling and pushing', () => {
      const roles = [['pull', pull()], ['push', push()]] as const;
      return roles.flatMap(([role, s]) => (s === null ? [] : [{ labels: { role }, value: s.failingSince === null ? 1 : 0 }]));
    });
    r.read('counter', 'logwarden_hooks_total', 'Runs of --on-block and --on-release programs, by result', () => {
      const h = state().hooks;
      if (h === null) return [];
      return [
        { labels: { result: 'succeeded' }, value: h.succeeded },
        { labels: { result: 'failed' }, value: h.failed },
        { labels: { result: 'timed_out' }, value: h.timedOut },
        { labels: { result: 'dropped' }, value: h.dropped },
      ];
    });
  }
}
