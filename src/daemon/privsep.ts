/**
 * Privilege separation (`run --user USER`, sshguard's SSHGUARD_USER). The process started as root stays root
 * and becomes the firewall process: it checks the firewall, reads the protected addresses (whitelist, owner),
 * writes the PID file, starts the daemon process (the same command line, marked by LOGWARDEN_PRIVSEP) and then
 * only serves firewall operations on the channel to it (privileged.ts). The daemon process reads its
 * configuration as root, drops to USER (its groups, no capabilities left, checked in /proc) before it opens the
 * store or any log, and uses the firewall through RemoteFirewall. Either one going away makes the other exit 1.
 */
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { Socket } from 'node:net';
import type { RunConfig } from '../config/run.js';
import { backendNamed } from '../firewall/backends.js';
import { Firewall } from '../firewall/firewall.js';
import { FirewallServer } from '../firewall/privileged.js';
import { RemoteFirewall } from '../firewall/remote.js';
import type { Logger } from '../log/logger.js';
import { daemonLogger } from '../log/pino.js';
import { Whitelist } from '../policy/whitelist.js';
import { WhitelistWatcher } from '../policy/whitelist-watch.js';
import { ownerAddresses } from './owner.js';
import { writePidFile } from './pidfile.js';
import type { RunUser } from './user.js';

/** Set in the daemon process's environment: the file descriptor of its channel to the firewall process */
export const PRIVSEP_ENV = 'LOGWARDEN_PRIVSEP';
const CHANNEL_FD = 3;
/** After the channel ended, the daemon process exits at once; longer is a hang, and the firewall process goes */
const EXIT_AFTER_CHANNEL_MS = 5000;

/** The channel's descriptor when this process is the daemon process of a --user pair (and forgets the mark). */
export function privsepChannelFd(): number | null {
  const value = process.env[PRIVSEP_ENV];
  delete process.env[PRIVSEP_ENV]; // not for PARSER, hooks or journalctl
  return value === String(CHANNEL_FD) ? CHANNEL_FD : null;
}

/** In the daemon process: the firewall it uses, on the inherited channel. */
export function remoteFirewall(fd: number, config: RunConfig): (log: Logger) => RemoteFirewall {
  const { backend, ...options } = config.firewall;
  const channel = new Socket({ fd, readable: true, writable: true });
  return (log) => new RemoteFirewall(channel, backendNamed(backend), options, log);
}

/** The firewall process: runs until the daemon process says goodbye or goes away; resolves with the exit code. */
export async function runFirewallProcess(config: RunConfig, user: RunUser): Promise<number> {
  // the daemon process writes to the same stdout
  const log = daemonLogger(config.logLevel, { sharedStdout: true }).child({ process: 'firewall' });
  const { backend, ...options } = config.firewall;
  let firewall: Firewall | null = null;
  let removePid: (() => void) | null = null;
  let watcher: WhitelistWatcher | null = null;
  let server: FirewallServer | null = null;
  // Signals are handled from the first moment. The daemon process may get the same signal (systemd signals the
  // whole unit): it counts the message and the signal as one request. One that comes before it runs waits for it.
  let early: string | null = null;
  const signals: Partial<Record<NodeJS.Signals, () => void>> = {
    SIGTERM: () => (server ? server.tell('stop', 'SIGTERM') : (early = 'SIGTERM')),
    SIGINT: () => (server ? server.tell('stop', 'SIGINT') : (early = 'SIGINT')),
    SIGHUP: () => {
      watcher?.reload();
      server?.tell('reload', 'SIGHUP'); // systemctl reload signals the main process
    },
  };
  for (const [signal, handler] of Object.entries(signals)) process.on(signal, handler);
  const finish = async (code: number) => {
    for (const [signal, handler] of Object.entries(signals)) process.off(signal, handler);
    await watcher?.close();
    firewall?.close();
    removePid?.();
    log.info({ code }, `firewall process stopped (exit ${code})`);
    await log.flush();
    return code;
  };
  try {
    firewall = new Firewall(backendNamed(backend), options, log.child({ module: 'firewall' }));
    // the firewall answers before anything is created: a backend that cannot work leaves no file behind
    await firewall.state();
    const resolve = async (name: string) => (await lookup(name, { all: true })).map((a) => a.address);
    const whitelist = new Whitelist(config.whitelist.entries, resolve);
    await whitelist.refresh(); // names that do not resolve are reported by the daemon process
    const owner = (await ownerAddresses()).map((o) => o.net);
    // its own copy of the whitelist, from the same files: a block of an entry just removed is refused until it
    // sees the change too
    watcher = new WhitelistWatcher(config.whitelist, {
      log: log.child({ module: 'whitelist' }),
      onChange: (change) => {
        whitelist.replace(change.entries);
        void whitelist.refresh().then(() => server?.protectOnly([...whitelist.list(), ...owner]));
      },
    });
    await watcher.start();
    removePid = writePidFile(config.pidFile);
    firewall.keepSessionOpen();
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, [PRIVSEP_ENV]: String(CHANNEL_FD) },
    });
    // the firewall process never signals it: it has no CAP_KILL (the unit's bounding set), and needs none
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
      child.on('exit', (code, signal) => done({ code, signal }));
      child.on('error', (error) => {
        log.error({}, `cannot start the daemon process: ${error.message}`);
        done({ code: null, signal: null });
      });
    });
    const exitedWithin = (ms: number) => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([exited, new Promise<null>((done) => (timer = setTimeout(() => done(null), ms)))]).finally(() => clearTimeout(timer));
    };
    const channel = child.stdio[CHANNEL_FD] as Socket;
    const protect = [...whitelist.list(), ...owner];
    server = new FirewallServer(channel, channel, { firewall, protect, log });
    if (early !== null) server.tell('stop', early);
    log.info({ pid: process.pid, daemon: child.pid, user: user.name, protected: protect.length }, `firewall process running (${backend}); the daemon process ${child.pid} runs as ${user.name}`);

    const how = await Promise.race([server.done, exited.then(() => 'lost' as const)]);
    const end = await exitedWithin(EXIT_AFTER_CHANNEL_MS);
    if (how === 'closed' && end !== null) return await finish(end.code ?? 1);
    const ended = end === null ? `its channel ended, and it still runs ${EXIT_AFTER_CHANNEL_MS / 1000} s later` : (end.signal ?? `exit ${end.code}`);
    log.error(
      { daemon: child.pid, code: end?.code, signal: end?.signal },
      `the daemon process ${child.pid} (${user.name}) went away without stopping (${ended}): nothing reads the logs any more, so the firewall process exits too; the blocks in the kernel stay`,
    );
    return await finish(1);
  } catch (error) {
    log.error({}, `cannot start: ${(error as Error).message}`);
    return await finish(1);
  }
}
