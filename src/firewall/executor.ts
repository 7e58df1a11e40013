/**
 * Runs what backends render: argument arrays with optional stdin, one process each, never a shell.
 * A failing command is an error that carries the command and its stderr: a firewall must not fail silently.
 */
import { spawn } from 'node:child_process';
import type { Invocation } from './backend.js';

export class FirewallError extends Error {
  constructor(
    readonly invocation: Invocation,
    readonly code: number | null,
    readonly stderr: string,
    /** The command is not installed: nothing ran at all */
    readonly missing = false,
  ) {
    super(missing ? stderr : `${describe(invocation)} failed${code === null ? '' : ` (exit ${code})`}: ${stderr.trim() || 'no error message'}`);
  }
}

/** The command as a human would type it, for messages and dry runs (quoted, never executed). */
export function describe(inv: Invocation): string {
  const words = inv.argv.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`));
  const stdin = inv.stdin === undefined ? '' : ` <<< ${inv.stdin.split('\n').length} line(s)`;
  return `${words.join(' ')}${stdin}`;
}

/** The Debian package of each command logwarden runs */
const PACKAGES: Record<string, string> = {
  nft: 'nftables',
  iptables: 'iptables',
  ip6tables: 'iptables',
  'iptables-restore': 'iptables',
  'ip6tables-restore': 'iptables',
  'iptables-save': 'iptables',
  'ip6tables-save': 'iptables',
  ipset: 'ipset',
  ip: 'iproute2',
  journalctl: 'systemd',
};

function notInstalled(command: string): string {
  const name = command.split('/').pop()!;
  const pkg = PACKAGES[name];
  return `${name} is not installed (not found in PATH)${pkg ? `: install the ${pkg} package (apt-get install ${pkg})` : ''}`;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecuteOptions {
  env?: NodeJS.ProcessEnv;
  /** Words put before every command, e.g. ['ip', 'netns', 'exec', NS] to act inside a network namespace */
  prefix?: string[];
}

export function runOne(inv: Invocation, options: ExecuteOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = [...(options.prefix ?? []), ...inv.argv];
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new FirewallError(inv, null, notInstalled(command), true) : new FirewallError(inv, null, error.message)),
    );
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {}); // a command that exits without reading: its exit code tells
    child.stdin.end(inv.stdin ?? '');
  });
}

/** Runs invocations in order; returns their stdouts. Throws FirewallError on the first failure. */
export async function execute(invocations: Invocation[], options: ExecuteOptions = {}): Promise<string[]> {
  const outputs: string[] = [];
  for (const inv of invocations) {
    if (inv.unless) {
      const check = await runOne(inv.unless, options);
      if (check.code === 0) {
        outputs.push('');
        continue;
      }
    }
    const result = await runOne(inv, options);
    if (result.code !== 0 && !(inv.okCodes ?? []).includes(result.code ?? -1)) {
      throw new FirewallError(inv, result.code, result.stderr);
    }
    outputs.push(result.stdout);
  }
  return outputs;
}
