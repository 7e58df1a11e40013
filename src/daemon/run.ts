/**
 * `logwarden run`: the daemon's lifecycle. Start: open the store, set up the backend and restore the active
 * blocks in one batch, protect the owner, then read. Stop (SIGTERM/SIGINT): stop reading, write the store,
 * remove our firewall objects unless --keep-on-exit, exit 0 within 5 s. Any failure to set up is fatal and
 * loud: a blocker that cannot block must not run.
 */
import { lookup } from 'node:dns/promises';
import { Applier } from '../firewall/applier.js';
import type { BlockEntry } from '../firewall/backend.js';
import { backendNamed } from '../firewall/backends.js';
import { Fleet } from '../fleet/fleet.js';
import { Firewall } from '../firewall/firewall.js';
import type { RemoteFirewall } from '../firewall/remote.js';
import type { FirewallPort } from '../firewall/surface.js';
import type { RunConfig } from '../config/run.js';
import { type DaemonLogger, daemonLogger } from '../log/pino.js';
import type { Parser } from '../parse/parser.js';
import { readBlacklist } from '../policy/blacklist.js';
import { networkText } from '../policy/network.js';
import { Whitelist } from '../policy/whitelist.js';
import { WhitelistWatcher } from '../policy/whitelist-watch.js';
import type { Source } from '../sources/source.js';
import { HostnameResolver } from '../resolve/hostnames.js';
import { StdinSource } from '../sources/stdin.js';
import { Store } from '../store/store.js';
import { DaemonMetrics } from '../metrics/daemon.js';
import { listenText, type MetricsServer, serveMetrics } from '../metrics/server.js';
import { Daemon } from './daemon.js';
import { Hooks } from './hooks.js';
import { ownerAddresses } from './owner.js';
import { writePidFile } from './pidfile.js';
import { onSignals } from './signals.js';
import { readSyslogConfigs, syslogNetworkInputs } from './syslog-network.js';

/** The stop when standard input, the only input, has ended: what correlation holds is scored, not kept */
const END_OF_INPUT = 'end of standard input';
/** A clean stop (the store's last writes, the teardown, the fleet's last pushes) that takes longer is forced */
const STOP_DEADLINE_MS = 20_000;

/** What `run` needs besides its configuration: the parser, and the sources built from the store's positions. */
export interface DaemonParts {
  parser: Parser;
  sources: (store: Store, log: DaemonLogger) => Source[];
  /** With --user: the firewall process's operations, which also holds the PID file (daemon/privsep.ts) */
  remote?: (log: DaemonLogger) => RemoteFirewall;
}

/**
 * Runs until a signal stops it; resolves with the exit code. Signals are handled from the first moment: one
 * that comes while starting stops the daemon cleanly as soon as it has started (or failed to).
 */
export async function runDaemon(config: RunConfig, parts: DaemonParts): Promise<number> {
  // with --user the firewall process writes to the same stdout
  const log = daemonLogger(config.logLevel, { sharedStdout: parts.remote !== undefined });
  let requested: ((why: string) => void) | null = null;
  let pending: string | null = null;
  let reload: () => void = () => log.info({}, 'SIGHUP while starting: the whitelist is read at start anyway');
  // resolves once the clean stop is over, so that the signal handler's deadline covers all of it
  let stoppedCleanly: () => void = () => {};
  const over = new Promise<void>((resolve) => (stoppedCleanly = resolve));
  const stop = (why: string): Promise<void> => {
    if (requested) requested(why);
    else pending = why;
    return over;
  };
  const force = (why: string) => {
    log.error({}, `forced exit: ${why}`);
    void log.flush().finally(() => process.exit(1));
  };
  const control = onSignals({ stop, reload: () => reload(), force, deadlineMs: STOP_DEADLINE_MS });
  let removePid: (() => void) | null = null;
  let store: Store | null = null;
  let firewall: FirewallPort | null = null;
  let watcher: WhitelistWatcher | null = null;
  let metricsServer: MetricsServer | null = null;
  // with --user: the firewall process gone means no block can be made; a blocker that cannot block stops, loudly
  let lost: string | null = null;
  const remote = parts.remote?.(log.child({ module: 'firewall' })) ?? null;
  // the firewall process passes the signals it gets on as messages
  remote?.onEvent((event, why) => {
    if (event === 'reload') reload();
    else control.forwarded(why);
  });
  remote?.whenLost((why) => {
    lost = why;
    log.error({}, `${why}: no block can be made any more, so the daemon stops (exit 1)`);
    control.stop('the firewall process is gone');
  });
  try {
    for (const w of config.warnings) log.warn({ origin: w.origin }, `${w.origin}: ${w.message}`);
    // journald records who wrote an entry; a log file's line only says who it claims to be from
    const { files, stdin, logreader } = config.sources;
    for (const n of files.length > 0 || stdin || logreader !== null ? syslogNetworkInputs(readSyslogConfigs()) : []) {
      log.warn({ file: n.path, line: n.line }, `${n.path}:${n.line}: the local syslog accepts lines from the network (${n.what}): whoever reaches it can write lines the log files attribute to any daemon (docs/security.md)`);
    }
    const resolve = async (name: string) => (await lookup(name, { all: true })).map((a) => a.address);
    const whitelist = new Whitelist(config.whitelist.entries, resolve);
    for (const p of config.whitelist.entries.problems) log.warn({ source: p.source, line: p.line }, `whitelist entry ${JSON.stringify(p.entry)} skipped: ${p.message}`);
    for (const p of await whitelist.refresh()) log.warn({ source: p.source }, `whitelist ${p.entry}: ${p.message}`);
    const blacklist = config.blacklist ? readBlacklist(config.blacklist.file) : { entries: [], problems: [] };
    for (const p of blacklist.problems) log.warn({ file: config.blacklist?.file }, p);

    const { backend, ...options } = config.firewall;
    firewall = config.dryRun ? null : (remote ?? new Firewall(backendNamed(backend), options, log.child({ module: 'firewall' })));
    // the firewall answers before anything is created: a backend that cannot work leaves no file behind
    const kernel = firewall ? await firewall.state() : null;
    removePid = remote ? null : writePidFile(config.pidFile);
    store = Store.open(config.db, { log: log.child({ module: 'store' }), check: 'full' });
    let daemon: Daemon | null = null;
    const applier: Applier | null = firewall ? new Applier(firewall, log.child({ module: 'firewall' }), () => daemon!.wanted()) : null;
    if (kernel && store.recovered) adoptKernel(store, kernel.blocks, log);
    const metrics = config.metrics ? new DaemonMetrics() : null;
    const { onBlock, onRelease } = config.hooks;
    const hooks = onBlock || onRelease ? new Hooks({ onBlock, onRelease, log: log.child({ module: 'hooks' }) }) : null;
    if (hooks && config.dryRun) log.info({}, 'dry run: the --on-block and --on-release programs are not run');
    const fleet = config.fleet ? new Fleet(config.fleet, { store, applier, log: log.child({ module: 'fleet' }) }) : null;
    daemon = new Daemon({
      sources: parts.sources(store, log),
      parser: parts.parser,
      policy: config.policy,
      whitelist,
      blacklist: { entries: blacklist.entries, file: config.blacklist?.file ?? null },
      store,
      applier,
      owner: await ownerAddresses(),
      log,
      syncIntervalMs: config.syncInterval * 1000,
      external: { parser: config.parser, postParser: config.postParser },
      resolver: config.resolveHostnames ? new HostnameResolver({ log: log.child({ module: 'resolve' }) }) : null,
      hooks,
      parseTimer: metrics?.parseTimer ?? null,
      fleet,
    });
    if (metrics && config.metrics) {
      metrics.watch(daemon);
      metricsServer = await serveMetrics(config.metrics, metrics.registry, log.child({ module: 'metrics' }));
      daemon.metricsAt = listenText(metricsServer.address);
      log.info({ metrics: daemon.metricsAt }, `metrics at http://${daemon.metricsAt}/metrics`);
    }
    firewall?.keepSessionOpen();
    await daemon.start();
    fleet?.start();
    const running = daemon;
    watcher = new WhitelistWatcher(config.whitelist, {
      log: log.child({ module: 'whitelist' }),
      onChange: (change) => {
        whitelist.replace(change.entries);
        void whitelist.refresh().then(async () => {
          for (const net of change.added.networks) await running.whitelisted(net);
          await running.allowChanged();
        });
      },
    });
    await watcher.start();
    const activeWatcher = watcher;
    reload = () => {
      log.info({}, 'SIGHUP: reloading the whitelist');
      activeWatcher.reload();
    };
    const stopped = new Promise<number>((resolve) => {
      requested = (why) => {
        requested = () => {}; // one stop; a second signal is the force path
        void (async () => {
          log.info({ why }, `${why}: stopping`);
          await activeWatcher.close();
          let keep = config.keepOnExit;
          let code = 0;
          try {
            await running.stop(why === END_OF_INPUT);
          } catch (error) {
            // the kernel is then the only record of the blocks decided since the store failed: it keeps them
            log.error(
              { pending: store!.pendingWrites },
              `${(error as Error).message}: they are lost with this process; the firewall objects are left in place so that the blocks hold`,
            );
            keep = true;
            code = 1;
          }
          if (lost !== null) keep = true; // nothing could remove them; the blocks hold
          // after the daemon: blocks decided while stopping are still queued for the LAPI
          await fleet?.stop();
          await metricsServer?.close();
          if (firewall && !keep) {
            await firewall.teardown().catch((error: Error) => log.error({}, `removing our firewall objects failed: ${error.message}`));
          }
          firewall?.close();
          if (lost !== null) code = 1; // also when the firewall process went away while stopping
          try {
            store!.close();
          } catch (error) {
            if (code === 0) log.error({}, `closing the store failed: ${(error as Error).message}`);
            code = 1;
          }
          removePid?.();
          log.info({ lines: running.counts.lines, blocks: running.counts.blocks, code }, 'stopped');
          await log.flush();
          control.off();
          stoppedCleanly();
          resolve(code);
        })();
      };
    });
    // standard input is the one source that ends: when it was the only input, there is nothing left to do
    const inputs = running.sources;
    if (inputs.length > 0 && inputs.every((s) => s instanceof StdinSource)) {
      void Promise.all(inputs.map((s) => (s as StdinSource).done())).then(() => control.stop(END_OF_INPUT));
    }
    log.info({ pid: process.pid, dryRun: config.dryRun }, `logwarden running${config.dryRun ? ' (dry run)' : ''}`);
    if (pending !== null) requested!(pending);
    return await stopped;
  } catch (error) {
    log.error({}, `cannot start: ${(error as Error).message}`);
    await watcher?.close();
    await metricsServer?.close();
    (firewall ?? remote)?.close();
    store?.close();
    removePid?.();
    control.off();
    stoppedCleanly();
    await log.flush();
    return 1;
  }
}

/**
 * After the store was found corrupt and moved aside, what the kernel holds is the best record of who is
 * blocked: adopt it, so the start-up sync does not lift every block.
 */
function adoptKernel(store: Store, blocks: BlockEntry[], log: DaemonLogger): void {
  const now = Date.now();
  const known = new Set(store.activeBlocks().map((b) => b.key));
  let adopted = 0;
  for (const b of blocks) {
    if (known.has(networkText(b.net))) continue;
    store.addBlock(b.net, now, b.timeout === null ? null : now + b.timeout * 1000, 'policy', { text: 'adopted from the kernel after the store was recovered' });
    adopted++;
  }
  store.flushAll();
  log.warn({ adopted }, `the store was recovered from corruption: adopted ${adopted} block(s) the kernel holds`);
}
