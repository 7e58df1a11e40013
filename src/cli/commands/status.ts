/**
 * `logwarden status [--json]`: whether the daemon runs, the active blocks, the last 24 hours' counts, each source
 * and its lag, and whether the kernel holds what the store wants. It reads the store through a read-only
 * connection (never a lock, never blocking the daemon) and lists the kernel's objects with the backend's
 * read-only list commands. The exit status is for monitoring:
 *   0 running and healthy · 1 running with a problem (a source not reading, the firewall failing, missing objects,
 *   drift, store writes failing) · 3 not running · 4 the store cannot be read.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { defaultPaths } from '../../config/paths.js';
import { HEARTBEAT_STALE_MS, type PublishedState } from '../../daemon/health.js';
import type { FirewallOptions, KernelState } from '../../firewall/backend.js';
import { DEFAULT_FIREWALL } from '../../firewall/backend.js';
import { backendNamed } from '../../firewall/backends.js';
import { Firewall } from '../../firewall/firewall.js';
import { silentLogger } from '../../log/logger.js';
import { addressToBigInt, type Network, networkText, width } from '../../policy/network.js';
import type { SourceStatus } from '../../sources/source.js';
import type { BlockRow } from '../../store/blocks.js';
import { type DaemonStatusRow, type FleetBlockRow, openStatusReader, type StatusReader } from '../../store/status.js';
import type { Args, Command } from '../args.js';

export const EXIT = { healthy: 0, unhealthy: 1, notRunning: 3, unreadable: 4 } as const;

const DAY_MS = 86_400_000;
/** Store blocks ending this close to now may or may not still be in the kernel (the daemon lifts them within a second) */
const ENDING_SLACK_MS = 5000;
/** A difference seen once is looked at again after this long: one just decided is in the kernel by then */
const RECHECK_MS = 1000;

interface StatusArgs {
  db?: string;
  backend: string;
  'fw-name': string;
  json: boolean;
  _given: Set<string>;
}

export interface BlockView {
  addr: string;
  cidr: number;
  kind: 4 | 6;
  since: string;
  until: string | null;
  reason: string;
  origin: string;
}

/** A decision of the fleet (CrowdSec LAPI) as recorded here: enforced, or refused with why */
export interface FleetBlockView {
  addr: string;
  cidr: number;
  kind: 4 | 6;
  until: string;
  decision: number;
  origin: string;
  scenario: string;
  /** Why it is not applied ('' when it is) */
  detail: string;
}

/** The daemon's link to CrowdSec's LAPI, as it last published it */
export interface LapiView {
  url: string;
  pull: {
    interval_s: number;
    /** The last stream read that succeeded */
    last_ok_at: string | null;
    failing_since: string | null;
    last_error: string | null;
    polls: number;
    applied: number;
    refused: number;
    deleted: number;
    ignored: number;
  } | null;
  push: {
    machine: string;
    /** The last push or release the LAPI took */
    last_ok_at: string | null;
    failing_since: string | null;
    last_error: string | null;
    /** Pushes waiting in the store's outbox now */
    queued: number;
    sent: number;
    released: number;
    rejected: number;
    dropped: number;
  } | null;
}

export interface DaemonView {
  running: boolean;
  /** Why it is taken as not running, or null */
  why: string | null;
  pid: number | null;
  host: string | null;
  started_at: string | null;
  heartbeat_at: string | null;
  stopped_at: string | null;
  dry_run: boolean | null;
  metrics: string | null;
}

export interface BackendView {
  name: string;
  fw_name: string | null;
  /** Whether our kernel objects exist; null when not checked (dry run, null backend) */
  present: boolean | null;
  in_sync: boolean | null;
  drift: { missing: string[]; extra: string[]; allow_differs: boolean } | null;
  drift_count: number | null;
  /** The daemon's view: failed commands, since when, drift it repaired, its last sync */
  failures: number | null;
  failing_since: string | null;
  last_error: string | null;
  repairs: number | null;
  last_sync_at: string | null;
  /** Listing the kernel failed */
  error: string | null;
}

export interface StatusReport {
  daemon: DaemonView;
  blocks: BlockView[];
  /** A dry run's blocks: recorded, never applied */
  simulated: BlockView[];
  /** The fleet's decisions enforced here, apart from local blocks */
  fleet_blocks: FleetBlockView[];
  /** The fleet's decisions not applied here (the whitelist wins, an overlapping prefix) */
  fleet_refused: FleetBlockView[];
  /** A dry run's: the fleet's decisions it would enforce (recorded, never applied) */
  fleet_simulated: FleetBlockView[];
  /** null: the daemon does not use a LAPI (or has not said so) */
  lapi: LapiView | null;
  counts: {
    since: string;
    blocks: number;
    simulated_blocks: number;
    /** Fleet decisions enforced now (not in `blocks`, which counts this host's own) */
    fleet_blocks: number;
    attacks: number;
    rules: { rule: string; service: number; service_name: string; attacks: number }[];
    services: { service: number; service_name: string; attacks: number }[];
  };
  sources: (Omit<SourceStatus, 'lastError' | 'lastLineAt' | 'lagBytes'> & { last_error: string | null; last_line_at: string | null; lag_bytes: number | null })[];
  backend: BackendView;
  store: { path: string; pending: number | null; failures: number | null; failing_since: string | null; last_error: string | null };
  problems: string[];
  exit: number;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the row's daemon runs: a clean stop, a pid that is gone (on this host) or a stale heartbeat say not. */
export function daemonView(row: DaemonStatusRow | null, now: number, isAlive: (pid: number) => boolean = alive): DaemonView {
  if (row === null) {
    return { running: false, why: 'no daemon has run with this store', pid: null, host: null, started_at: null, heartbeat_at: null, stopped_at: null, dry_run: null, metrics: null };
  }
  const state = row.state as Partial<PublishedState>;
  const age = now - row.heartbeatAt;
  let why: string | null = null;
  if (row.stoppedAt !== null) why = `stopped at ${iso(row.stoppedAt)}`;
  else if (row.host === hostname() && !isAlive(row.pid)) why = `pid ${row.pid} is gone (it did not stop cleanly: last heartbeat ${Math.round(age / 1000)} s ago)`;
  else if (age > HEARTBEAT_STALE_MS) why = `no heartbeat for ${Math.round(age / 1000)} s (pid ${row.pid} hangs or is gone)`;
  return {
    running: why === null,
    why,
    pid: row.pid,
    host: row.host,
    started_at: iso(row.startedAt),
    heartbeat_at: iso(row.heartbeatAt),
    stopped_at: iso(row.stoppedAt),
    dry_run: state.dryRun ?? null,
    metrics: why === null ? (state.metrics ?? null) : null,
  };
}

export function reasonText(b: BlockRow): string {
  const r = b.reason;
  const parts: string[] = [];
  if (r.attacks !== undefined) parts.push(`${r.attacks} attack(s)`);
  if (r.score !== undefined) parts.push(`score ${r.score}`);
  const scored = parts.join(', ') + (r.rules && r.rules.length > 0 ? ` (${r.rules.join(', ')})` : '');
  const origin = b.origin === 'policy' ? '' : b.origin === 'manual' ? 'by hand' : b.origin;
  return [origin, r.text, scored].filter((t) => t !== undefined && t !== '').join(': ') || b.origin;
}

function blockView(b: BlockRow): BlockView {
  return { addr: b.addr, cidr: b.cidr, kind: b.kind, since: iso(b.start)!, until: iso(b.expires), reason: reasonText(b), origin: b.origin };
}

function fleetView(d: FleetBlockRow): FleetBlockView {
  return { addr: d.addr, cidr: d.cidr, kind: d.kind, until: iso(d.until)!, decision: d.id, origin: d.origin, scenario: d.scenario, detail: d.detail };
}

/** What the daemon published about the LAPI, with the outbox as the store holds it now. */
export function lapiView(state: Partial<PublishedState> | null, queued: number): LapiView | null {
  const f = state?.fleet;
  if (!f) return null;
  const { pull, push } = f;
  return {
    url: f.url,
    pull: pull
      ? {
          interval_s: pull.intervalSeconds,
          last_ok_at: iso(pull.lastPollAt),
          failing_since: iso(pull.failingSince),
          last_error: pull.lastError,
          polls: pull.polls,
          applied: pull.applied,
          refused: pull.refused,
          deleted: pull.deleted,
          ignored: pull.ignored,
        }
      : null,
    push: push
      ? {
          machine: push.machine,
          last_ok_at: iso(push.lastSentAt),
          failing_since: iso(push.failingSince),
          last_error: push.lastError,
          queued,
          sent: push.sent,
          released: push.released,
          rejected: push.rejected,
          dropped: push.dropped,
        }
      : null,
  };
}

/** What differs between the store's wanted state and the kernel; blocks ending right now are left out. */
export function driftOf(wanted: readonly { key: string; expires: number | null }[], allow: Network[], kernel: KernelState, now: number): { missing: string[]; extra: string[]; allow_differs: boolean } {
  const ending = new Set(wanted.filter((b) => b.expires !== null && Math.abs(b.expires - now) <= ENDING_SLACK_MS).map((b) => b.key));
  const want = new Set(wanted.filter((b) => (b.expires === null || b.expires > now) && !ending.has(b.key)).map((b) => b.key));
  const have = new Set(kernel.blocks.map((b) => networkText(b.net)));
  const missing = [...want].filter((k) => !have.has(k));
  const extra = [...have].filter((k) => !want.has(k) && !ending.has(k));
  // the kernel holds no entry that another one contains (an interval set refuses them): compare what is covered
  const wantedKeys = new Set(allow.map(networkText));
  const allow_differs = allow.some((w) => !kernel.allow.some((k) => contains(k, w))) || kernel.allow.some((k) => !wantedKeys.has(networkText(k)));
  return { missing, extra, allow_differs };
}

function contains(outer: Network, inner: Network): boolean {
  if (outer.kind !== inner.kind || outer.cidr > inner.cidr) return false;
  const shift = BigInt(width(outer.kind) - outer.cidr);
  return addressToBigInt(outer.addr, outer.kind) >> shift === addressToBigInt(inner.addr, inner.kind) >> shift;
}

/** Which backend to look at: the daemon's (as it published it) unless --backend or --fw-name is given. */
function firewallToCheck(args: StatusArgs, state: Partial<PublishedState> | null): { backend: string; options: FirewallOptions } | null {
  const given = (name: string) => args._given.has(name);
  const published = state?.firewall ?? null;
  if (state?.dryRun && !given('backend')) return null;
  const backend = given('backend') || published === null ? args.backend : published.backend;
  const options: FirewallOptions = published
    ? { name: published.name, hooks: published.hooks, priority: published.priority }
    : { ...DEFAULT_FIREWALL };
  if (given('fw-name') || published === null) options.name = args['fw-name'];
  return { backend, options };
}

async function checkBackend(args: StatusArgs, reader: StatusReader, state: Partial<PublishedState> | null, recheck: boolean): Promise<BackendView> {
  const health = state?.firewall?.health ?? null;
  const target = firewallToCheck(args, state);
  const view: BackendView = {
    name: target?.backend ?? 'none (dry run)',
    fw_name: target?.options.name ?? null,
    present: null,
    in_sync: null,
    drift: null,
    drift_count: null,
    failures: health?.failures ?? null,
    failing_since: iso(health?.failingSince),
    last_error: health?.lastError ?? null,
    repairs: health?.repairs ?? null,
    last_sync_at: iso(health?.lastSyncAt),
    error: null,
  };
  if (target === null || target.backend === 'null') return view;
  try {
    const firewall = new Firewall(backendNamed(target.backend), target.options, silentLogger);
    const look = async () => {
      const kernel = await firewall.state();
      const now = Date.now();
      // the fleet's applied decisions are part of the wanted state too
      const fleet = reader.fleetDecisions(now).filter((d) => d.state === 'applied').map((d) => ({ key: d.key, expires: d.until }));
      return { kernel, drift: driftOf([...reader.activeBlocks(), ...fleet], reader.allowList().map((e) => e.net), kernel, now) };
    };
    let seen = await look();
    view.present = seen.kernel.present;
    const count = (d: typeof seen.drift) => d.missing.length + d.extra.length + (d.allow_differs ? 1 : 0);
    if (seen.kernel.present && count(seen.drift) > 0 && recheck) {
      await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
      const again = await look();
      // only what differs both times: a block decided or lifted between the two reads is no drift
      const first = seen.drift;
      seen = {
        kernel: again.kernel,
        drift: {
          missing: again.drift.missing.filter((k) => first.missing.includes(k)),
          extra: again.drift.extra.filter((k) => first.extra.includes(k)),
          allow_differs: first.allow_differs && again.drift.allow_differs,
        },
      };
      view.present = again.kernel.present;
    }
    if (view.present) {
      view.drift = seen.drift;
      view.drift_count = count(seen.drift);
      view.in_sync = view.drift_count === 0;
    }
  } catch (error) {
    view.error = (error as Error).message;
  }
  return view;
}

function countsOf(reader: StatusReader, now: number, fleetBlocks: number): StatusReport['counts'] {
  const since = now - DAY_MS;
  const rules = reader.attacksSince(since).map((r) => ({ rule: r.rule, service: r.service, service_name: r.serviceName, attacks: r.attacks }));
  const services = new Map<number, { service: number; service_name: string; attacks: number }>();
  for (const r of rules) {
    const s = services.get(r.service) ?? { service: r.service, service_name: r.service_name, attacks: 0 };
    s.attacks += r.attacks;
    services.set(r.service, s);
  }
  const blocks = reader.blocksSince(since);
  return {
    since: iso(since)!,
    blocks: blocks.filter((b) => !b.simulated).reduce((n, b) => n + b.blocks, 0),
    simulated_blocks: blocks.filter((b) => b.simulated).reduce((n, b) => n + b.blocks, 0),
    fleet_blocks: fleetBlocks,
    attacks: rules.reduce((n, r) => n + r.attacks, 0),
    rules,
    services: [...services.values()].sort((a, b) => b.attacks - a.attacks || a.service - b.service),
  };
}

/** Everything `status` reports, and its exit code. */
export async function statusReport(args: StatusArgs, reader: StatusReader): Promise<StatusReport> {
  const now = Date.now();
  const row = reader.daemon();
  const daemon = daemonView(row, now);
  const state = (row?.state ?? null) as Partial<PublishedState> | null;
  const problems: string[] = [];
  const sources = (state?.sources ?? []).map(({ lastError, lastLineAt, lagBytes, ...s }) => ({
    ...s,
    last_error: lastError,
    last_line_at: iso(lastLineAt),
    lag_bytes: lagBytes,
  }));
  const backend = await checkBackend(args, reader, state, daemon.running);
  const storeHealth = state?.store;
  const fleet = reader.fleetDecisions(now);
  const applied = fleet.filter((d) => d.state === 'applied');
  const dryRun = state?.dryRun === true;
  const lapi = lapiView(state, reader.fleetOutbox());
  if (!daemon.running) problems.push(`the daemon is not running: ${daemon.why}`);
  else {
    if (lapi?.pull?.failing_since) problems.push(`the LAPI decision stream cannot be read since ${lapi.pull.failing_since}: ${lapi.pull.last_error} (fleet blocks already applied end at their own time)`);
    if (lapi?.push?.failing_since) problems.push(`pushing to the LAPI fails since ${lapi.push.failing_since}: ${lapi.push.last_error} (${lapi.push.queued} push(es) wait in the outbox)`);
    for (const s of sources) if (s.state !== 'reading') problems.push(`source ${s.name} is ${s.state}${s.last_error ? ` (${s.last_error})` : ''}`);
    if (backend.failing_since !== null) problems.push(`firewall commands failing since ${backend.failing_since}: ${backend.last_error}`);
    if (storeHealth?.failingSince) problems.push(`store writes failing since ${iso(storeHealth.failingSince)}: ${storeHealth.lastError}`);
  }
  if (backend.error !== null) problems.push(`cannot list the ${backend.name} objects: ${backend.error}`);
  else if (backend.present === false && (daemon.running || reader.activeBlocks().length > 0)) {
    problems.push(`the ${backend.name} objects named ${backend.fw_name} are not in the kernel: nothing is blocked`);
  } else if (backend.in_sync === false && backend.drift) {
    const d = backend.drift;
    const list = (keys: string[]) => keys.slice(0, 5).join(', ') + (keys.length > 5 ? `, ... (${keys.length})` : '');
    const parts = [
      d.missing.length > 0 ? `${d.missing.length} block(s) missing from the kernel (${list(d.missing)})` : '',
      d.extra.length > 0 ? `${d.extra.length} element(s) in the kernel the store does not want (${list(d.extra)})` : '',
      d.allow_differs ? 'the allow list differs' : '',
    ].filter(Boolean);
    problems.push(`firewall drift: ${parts.join('; ')}${daemon.running ? ' (the daemon repairs it at its next sync)' : ''}`);
  }
  const exit = !daemon.running ? EXIT.notRunning : problems.length > 0 ? EXIT.unhealthy : EXIT.healthy;
  return {
    daemon,
    blocks: reader.activeBlocks().map(blockView),
    simulated: reader.activeBlocks({ simulated: true }).map(blockView),
    fleet_blocks: dryRun ? [] : applied.map(fleetView),
    fleet_refused: fleet.filter((d) => d.state === 'refused').map(fleetView),
    fleet_simulated: dryRun ? applied.map(fleetView) : [],
    lapi,
    counts: countsOf(reader, now, dryRun ? 0 : applied.length),
    sources,
    backend,
    store: {
      path: reader.path,
      pending: storeHealth?.pending ?? null,
      failures: storeHealth?.failures ?? null,
      failing_since: iso(storeHealth?.failingSince),
      last_error: storeHealth?.lastError ?? null,
    },
    problems,
    exit,
  };
}

function ago(isoTime: string | null, now: number): string {
  if (isoTime === null) return 'never';
  const s = Math.round((now - Date.parse(isoTime)) / 1000);
  return `${isoTime} (${s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`} ago)`;
}

function fleetTable(out: string[], rows: FleetBlockView[]): void {
  const what = (b: FleetBlockView) => (b.cidr === (b.kind === 4 ? 32 : 128) ? b.addr : `${b.addr}/${b.cidr}`);
  const width = Math.max(0, ...rows.map((b) => what(b).length));
  for (const b of rows) {
    out.push(`  ${what(b).padEnd(width)}  until ${b.until}  decision ${b.decision} from origin ${b.origin} (scenario ${b.scenario})${b.detail ? `: ${b.detail}` : ''}`);
  }
}

function lapiText(l: LapiView, running: boolean, now: number): string[] {
  const out = [`fleet: CrowdSec LAPI ${l.url}${running ? '' : ' (as the daemon last said)'}`];
  const health = (h: { last_ok_at: string | null; failing_since: string | null; last_error: string | null }) =>
    h.failing_since ? `UNREACHABLE since ${ago(h.failing_since, now)}: ${h.last_error}; last ok ${ago(h.last_ok_at, now)}` : `last ok ${ago(h.last_ok_at, now)}`;
  if (l.pull) {
    const p = l.pull;
    out.push(`  pull (every ${p.interval_s} s): ${health(p)}; ${p.applied} applied, ${p.refused} refused, ${p.deleted} deleted, ${p.ignored} ignored`);
  }
  if (l.push) {
    const p = l.push;
    out.push(`  push (machine ${p.machine}): ${health(p)}; ${p.queued} queued, ${p.sent} sent, ${p.released} released, ${p.rejected} rejected, ${p.dropped} dropped`);
  }
  return out;
}

export function statusText(r: StatusReport, now = Date.now()): string {
  const out: string[] = [];
  const d = r.daemon;
  if (d.running) {
    out.push(`daemon: running${d.dry_run ? ' (dry run)' : ''}, pid ${d.pid} since ${d.started_at}, heartbeat ${ago(d.heartbeat_at, now)}${d.metrics ? `, metrics at http://${d.metrics}/metrics` : ''}`);
  } else out.push(`daemon: NOT RUNNING: ${d.why}`);
  const table = (blocks: BlockView[]) => {
    const width = Math.max(0, ...blocks.map((b) => (b.cidr === (b.kind === 4 ? 32 : 128) ? b.addr : `${b.addr}/${b.cidr}`).length));
    for (const b of blocks) {
      const what = b.cidr === (b.kind === 4 ? 32 : 128) ? b.addr : `${b.addr}/${b.cidr}`;
      out.push(`  ${what.padEnd(width)}  since ${b.since}  ${b.until === null ? 'permanent' : `until ${b.until}`}  ${b.reason}`);
    }
  };
  out.push(`active blocks: ${r.blocks.length}`);
  table(r.blocks);
  if (r.simulated.length > 0) {
    out.push(`simulated blocks (dry run, not applied): ${r.simulated.length}`);
    table(r.simulated);
  }
  if (r.fleet_blocks.length > 0 || (r.lapi?.pull && !d.dry_run)) {
    out.push(`fleet blocks (decisions of the CrowdSec LAPI enforced here): ${r.fleet_blocks.length}`);
    fleetTable(out, r.fleet_blocks);
  }
  if (r.fleet_simulated.length > 0) {
    out.push(`fleet decisions a dry run would enforce (not applied): ${r.fleet_simulated.length}`);
    fleetTable(out, r.fleet_simulated);
  }
  if (r.fleet_refused.length > 0) {
    out.push(`fleet decisions not applied here: ${r.fleet_refused.length}`);
    fleetTable(out, r.fleet_refused);
  }
  const c = r.counts;
  out.push(`last 24 h: ${c.blocks} block(s)${c.simulated_blocks > 0 ? ` and ${c.simulated_blocks} simulated` : ''}, ${c.attacks} attack(s)`);
  if (c.rules.length > 0) out.push(`  top rules: ${c.rules.slice(0, 5).map((x) => `${x.rule} (${x.service_name}) ${x.attacks}`).join(', ')}`);
  if (c.services.length > 0) out.push(`  top services: ${c.services.slice(0, 5).map((x) => `${x.service_name} ${x.attacks}`).join(', ')}`);
  if (r.lapi) out.push(...lapiText(r.lapi, d.running, now));
  out.push(`sources${d.running ? '' : ' (as the daemon last said)'}: ${r.sources.length === 0 ? 'none known' : ''}`);
  for (const s of r.sources) {
    const lag = s.lag_bytes === null ? '' : `, lag ${s.lag_bytes} bytes`;
    out.push(`  ${s.name}: ${s.state}, ${s.lines} line(s), last line ${ago(s.last_line_at, now)}${lag}${s.errors > 0 ? `, ${s.errors} error(s), last: ${s.last_error}` : ''}`);
  }
  const b = r.backend;
  let fw = `firewall: ${b.name}${b.fw_name ? ` (objects named ${b.fw_name})` : ''}`;
  if (b.error !== null) fw += `: cannot list its objects: ${b.error}`;
  else if (b.present === false) fw += ': objects NOT in the kernel';
  else if (b.present) fw += b.in_sync ? `: present, in sync with the store` : `: present, ${b.drift_count} difference(s) with the store`;
  if (b.repairs !== null) fw += `; the daemon repaired ${b.repairs} drift(s), ${b.failures} failure(s)${b.last_sync_at ? `, last sync ${ago(b.last_sync_at, now)}` : ''}`;
  out.push(fw);
  out.push(`store: ${r.store.path}${r.store.pending !== null ? `, ${r.store.pending} row(s) pending, ${r.store.failures} failed write(s)` : ''}`);
  if (r.problems.length > 0) {
    out.push('problems:');
    for (const p of r.problems) out.push(`  - ${p}`);
  } else out.push('ok');
  return `${out.join('\n')}\n`;
}

export const statusCommand: Command = {
  name: 'status',
  describe: 'Whether the daemon runs; active blocks, last 24 h counts, sources and their lag, firewall in sync (exit 0 healthy, 1 a problem, 3 not running)',
  positionals: [],
  handler: async (raw: Args) => {
    const args = raw as unknown as StatusArgs;
    const path = args.db ?? defaultPaths().db;
    if (!existsSync(path)) {
      process.stderr.write(`logwarden status: no store at ${path}: the daemon has not run with it (give its --db)\n`);
      if (args.json) process.stdout.write(`${JSON.stringify({ daemon: { running: false, why: `no store at ${path}` }, blocks: [], sources: [], backend: null, exit: EXIT.notRunning })}\n`);
      process.exitCode = EXIT.notRunning;
      return;
    }
    let reader: StatusReader;
    try {
      reader = openStatusReader(path);
    } catch (error) {
      process.stderr.write(`logwarden status: ${(error as Error).message}\n`);
      process.exitCode = EXIT.unreadable;
      return;
    }
    try {
      const report = await statusReport(args, reader);
      process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : statusText(report));
      process.exitCode = report.exit;
    } finally {
      reader.close();
    }
  },
};
