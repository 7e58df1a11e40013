/**
 * A throwaway network lab for real-kernel firewall tests: a server namespace and a client namespace joined
 * by a veth pair, documentation addresses only, a TCP listener in the server. Nothing touches the host's
 * own firewall and no packet leaves the namespaces.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const SERVER4 = '192.0.2.1';
export const SERVER6 = '2001:db8::1';
export const CLIENTS4 = ['192.0.2.10', '192.0.2.66', '192.0.2.67'];
export const CLIENTS6 = ['2001:db8::66', '2001:db8::10'];
export const PORT = 8022;

/** Why the lab cannot run here, or null when it can. */
export function labUnavailable(commands: string[] = []): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces); CI runs as root';
  for (const command of ['ip', ...commands]) {
    if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) return `${command} is not installed`;
  }
  const probe = `lwprobe${randomBytes(3).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A traditional syslog line (local time, as rsyslog writes auth.log), stamped now unless `time` is given. */
export function syslogLine(message: string, { tag = 'sshd', pid = 4242, time = Date.now() }: { tag?: string; pid?: number; time?: number } = {}): string {
  const d = new Date(time);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${month} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} server ${tag}[${pid}]: ${message}\n`;
}

/** `n` sshd password failures from `addr`, as syslog lines */
export function failures(addr: string, n: number, user = 'root'): string {
  let text = '';
  for (let i = 0; i < n; i++) text += syslogLine(`Failed password for ${user} from ${addr} port ${40000 + i} ssh2`, { pid: 5000 + i });
  return text;
}

/** The daemon's message for a block of `addr` (dry run: "would block") */
export function blockedMessage(addr: string, dryRun = false): RegExp {
  return new RegExp(`^${dryRun ? 'would block' : 'blocked'} ${addr.replace(/[.]/g, '\\.')} `);
}

/** One JSON line the daemon logged (pino) */
export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A running `logwarden run`: its log records as they come, its exit, and a way to stop it. */
export class DaemonProcess {
  readonly records: LogRecord[] = [];
  /** Everything it wrote that is not a JSON log line, and its stderr */
  other = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private exitedYet = false;
  private waiters = new Set<() => void>();

  constructor(argv: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          this.records.push(JSON.parse(line) as LogRecord);
        } catch {
          this.other += `${line}\n`;
        }
      }
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.other += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitedYet = true;
        this.wake();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return !this.exitedYet;
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /** The number of records so far, to wait for what comes after */
  mark(): number {
    return this.records.length;
  }

  /** The first record from index `from` on whose message matches; rejects after `timeoutMs` or when it exits. */
  waitFor(message: RegExp, timeoutMs = 10_000, from = 0): Promise<LogRecord> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.records.slice(from).find((r) => message.test(r.msg));
        if (found) return done(() => resolve(found));
        if (this.exitedYet) return done(() => reject(new Error(`daemon exited before logging ${message}:\n${this.transcript()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no log line ${message} within ${timeoutMs} ms:\n${this.transcript()}`))), timeoutMs);
      const done = (then: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        then();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The messages logged, and other output: for failure messages */
  transcript(): string {
    return [...this.records.map((r) => `[${r.level}] ${r.msg}`), this.other].join('\n');
  }

  /** Sends `signal` and waits for the exit; resolves with the exit and the ms it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const t0 = Date.now();
    if (this.exitedYet) return { ...(await this.exited), ms: 0 };
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`daemon did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs);
    });
    try {
      return { ...(await Promise.race([this.exited, timeout])), ms: Date.now() - t0 };
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (!this.exitedYet) this.child.kill('SIGKILL');
  }
}

function sh(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class Lab {
  readonly server: string;
  readonly client: string;
  private listener: ChildProcess | null = null;
  private readonly daemons: DaemonProcess[] = [];

  constructor() {
    const id = randomBytes(3).toString('hex');
    this.server = `lw${id}s`;
    this.client = `lw${id}c`;
  }

  /** Words that run a command inside the server namespace (for the executor's prefix) */
  get inServer(): string[] {
    return ['ip', 'netns', 'exec', this.server];
  }

  async start(): Promise<void> {
    const { server, client } = this;
    sh(['ip', 'netns', 'add', server]);
    sh(['ip', 'netns', 'add', client]);
    sh(['ip', 'link', 'add', 'veth-s', 'netns', server, 'type', 'veth', 'peer', 'name', 'veth-c', 'netns', client]);
    for (const [ns, dev] of [[server, 'veth-s'], [client, 'veth-c']]) {
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    sh(['ip', '-n', server, 'addr', 'add', `${SERVER4}/24`, 'dev', 'veth-s']);
    sh(['ip', '-n', server, 'addr', 'add', `${SERVER6}/64`, 'dev', 'veth-s', 'nodad']);
    for (const a of CLIENTS4) sh(['ip', '-n', client, 'addr', 'add', `${a}/24`, 'dev', 'veth-c']);
    for (const a of CLIENTS6) sh(['ip', '-n', client, 'addr', 'add', `${a}/64`, 'dev', 'veth-c', 'nodad']);
    const script = `require('net').createServer((s) => s.end('ok\\n')).listen(${PORT}, '::', () => console.log('listening'))`;
    this.listener = spawn('ip', ['netns', 'exec', server, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      this.listener!.stdout!.once('data', () => resolve());
      this.listener!.once('exit', (code) => reject(new Error(`listener exited (${code})`)));
    });
  }

  /** Tries a TCP connection from `from` (a client address) to the server; true when it got an answer. */
  connects(from: string, timeoutMs = 800): boolean {
    const to = from.includes(':') ? SERVER6 : SERVER4;
    const script = `
      const s = require('net').connect({ host: ${JSON.stringify(to)}, port: ${PORT}, localAddress: ${JSON.stringify(from)}, timeout: ${timeoutMs} });
      s.on('data', () => { console.log('ok'); process.exit(0); });
      s.on('timeout', () => process.exit(3));
      s.on('error', () => process.exit(4));`;
    const r = spawnSync('ip', ['netns', 'exec', this.client, process.execPath, '-e', script], { encoding: 'utf8', timeout: timeoutMs + 5000 });
    return r.status === 0;
  }

  /** Runs a command in the server namespace and returns its stdout. */
  inServerRun(argv: string[]): string {
    return sh([...this.inServer, ...argv]);
  }

  /** Like connects, without blocking the test's event loop (daemon output keeps arriving meanwhile). */
  reaches(from: string, timeoutMs = 800): Promise<boolean> {
    const to = from.includes(':') ? SERVER6 : SERVER4;
    const script = `
      const s = require('net').connect({ host: ${JSON.stringify(to)}, port: ${PORT}, localAddress: ${JSON.stringify(from)}, timeout: ${timeoutMs} });
      s.on('data', () => process.exit(0));
      s.on('timeout', () => process.exit(3));
      s.on('error', () => process.exit(4));`;
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', this.client, process.execPath, '-e', script], { stdio: 'ignore' });
      const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 5000);
      child.once('exit', (code) => {
        clearTimeout(guard);
        resolve(code === 0);
      });
    });
  }

  /**
   * Polls `from` until its connections are dropped (wanted = false) or answered again (wanted = true); resolves
   * with the ms from the call to the start of the first attempt that showed it, rejects after `withinMs`.
   */
  async until(from: string, wanted: boolean, withinMs: number, attemptMs = 500): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const started = Date.now() - t0;
      if ((await this.reaches(from, attemptMs)) === wanted) return started;
      if (Date.now() - t0 > withinMs) throw new Error(`${from} still ${wanted ? 'dropped' : 'answered'} after ${withinMs} ms`);
      await sleep(50);
    }
  }

  /** Adds a client address (for a flow that needs a fresh one) */
  addClient(addr: string): void {
    sh(['ip', '-n', this.client, 'addr', 'add', `${addr}/${addr.includes(':') ? 64 : 24}`, 'dev', 'veth-c', ...(addr.includes(':') ? ['nodad'] : [])]);
  }

  /** `nft list tables` in the server namespace, one table a line */
  nftTables(): string[] {
    return this.inServerRun(['nft', 'list', 'tables']).split('\n').filter((l) => l !== '');
  }

  /** Starts `logwarden run ARGS` (built, dist/) in the server namespace; stopped with the lab at the latest. */
  startDaemon(args: string[], env: NodeJS.ProcessEnv = process.env): DaemonProcess {
    const daemon = new DaemonProcess([...this.inServer, process.execPath, CLI, 'run', ...args], env);
    this.daemons.push(daemon);
    return daemon;
  }

  /** A daemon started another way (startDaemonUnder), stopped with the lab at the latest */
  adopt(daemon: DaemonProcess): void {
    this.daemons.push(daemon);
  }

  stop(): void {
    for (const d of this.daemons) d.kill();
    this.listener?.kill('SIGKILL');
    for (const ns of [this.server, this.client]) spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** Starts `logwarden run ARGS` (built, dist/) in the test's own namespaces, for backends that touch no firewall (null). */
export function startLogwarden(args: string[], env: NodeJS.ProcessEnv = process.env): DaemonProcess {
  return new DaemonProcess([process.execPath, CLI, 'run', ...args], env);
}

/** Rows of a query on a store, opened read-only for it (the daemon may be writing it meanwhile). */
export async function queryStore<T>(db: string, sql: string): Promise<T[]> {
  const { default: Database } = await import('better-sqlite3');
  const store = new Database(db, { readonly: true });
  try {
    return store.prepare(sql).all() as T[];
  } finally {
    store.close();
  }
}

/** Runs `argv` to its end without blocking the event loop (daemon output keeps arriving); resolves with its stdout. */
export function run(argv: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The Prometheus text a daemon of `lab` serves at `address` (host:port, inside the server namespace). */
export async function scrapeMetrics(lab: Lab, address: string): Promise<string> {
  const script = `fetch('http://${address}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(e.message); process.exit(1); })`;
  const r = await run([...lab.inServer, process.execPath, '-e', script]);
  if (r.code !== 0) throw new Error(`scraping http://${address}/metrics failed: ${r.stderr}`);
  return r.stdout;
}

/** The value of an unlabelled sample in Prometheus text (NaN when absent). */
export function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

/**
 * A container behind the lab's server: a third namespace on its own subnet, routed by the server (forward hook),
 * with a TCP listener, like a container runtime's published port. Stopped by its own stop().
 */
export class Container {
  static readonly ADDR = '198.51.100.2';
  readonly ns: string;
  private listener: ChildProcess | null = null;

  constructor(private readonly lab: Lab) {
    this.ns = `${lab.server}k`;
  }

  async start(): Promise<void> {
    const { ns } = this;
    const { server, client } = this.lab;
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'link', 'add', 'veth-k', 'netns', server, 'type', 'veth', 'peer', 'name', 'veth-ck', 'netns', ns]);
    sh(['ip', '-n', server, 'addr', 'add', '198.51.100.1/24', 'dev', 'veth-k']);
    sh(['ip', '-n', server, 'link', 'set', 'veth-k', 'up']);
    sh(['ip', '-n', ns, 'addr', 'add', `${Container.ADDR}/24`, 'dev', 'veth-ck']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'veth-ck', 'up']);
    sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', '198.51.100.1']);
    sh(['ip', '-n', client, 'route', 'add', '198.51.100.0/24', 'via', SERVER4]);
    sh(['ip', 'netns', 'exec', server, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const script = `require('net').createServer((s) => s.end('ok\\n')).listen(${PORT}, '0.0.0.0', () => console.log('listening'))`;
    this.listener = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      this.listener!.stdout!.once('data', () => resolve());
      this.listener!.once('exit', (code) => reject(new Error(`container listener exited (${code})`)));
    });
  }

  /** Whether `from` (a client IPv4 address) gets an answer from the container, forwarded by the server. */
  async reaches(from: string, timeoutMs = 800): Promise<boolean> {
    const script = `
      const s = require('net').connect({ host: ${JSON.stringify(Container.ADDR)}, port: ${PORT}, localAddress: ${JSON.stringify(from)}, timeout: ${timeoutMs} });
      s.on('data', () => process.exit(0));
      s.on('timeout', () => process.exit(3));
      s.on('error', () => process.exit(4));`;
    return (await run(['ip', 'netns', 'exec', this.lab.client, process.execPath, '-e', script], timeoutMs + 5000)).code === 0;
  }

  stop(): void {
    this.listener?.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', this.ns]);
  }
}

/** Starts `logwarden run ARGS` like lab.startDaemon, its whole command line run by `wrapper` (e.g. unshare ... sh -c '... exec "$@"' sh). */
export function startDaemonUnder(lab: Lab, wrapper: string[], args: string[], env: NodeJS.ProcessEnv = process.env): DaemonProcess {
  const daemon = new DaemonProcess([...wrapper, ...lab.inServer, process.execPath, CLI, 'run', ...args], env);
  lab.adopt(daemon);
  return daemon;
}

/** Starts `logwarden run ARGS` in the server namespace through `wrapper` run inside it (e.g. setpriv ... to drop root). */
export function startDaemonInside(lab: Lab, wrapper: string[], args: string[], env: NodeJS.ProcessEnv = process.env): DaemonProcess {
  const daemon = new DaemonProcess([...lab.inServer, ...wrapper, process.execPath, CLI, 'run', ...args], env);
  lab.adopt(daemon);
  return daemon;
}
