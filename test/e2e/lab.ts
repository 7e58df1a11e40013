/**
 * A throwaway network lab for real-kernel firewall tests: a server namespace and a client namespace joined
 * by a veth pair, documentation addresses only, a TCP listener in the server. Nothing touches the host's
 * own firewall and no packet leaves the namespaces.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

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

function sh(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class Lab {
  readonly server: string;
  readonly client: string;
  private listener: ChildProcess | null = null;

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

  stop(): void {
    this.listener?.kill('SIGKILL');
    for (const ns of [this.server, this.client]) spawnSync('ip', ['netns', 'del', ns]);
  }
}
