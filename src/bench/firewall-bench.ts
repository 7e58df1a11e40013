/**
 * The firewall's speed, per installed backend, inside a private network namespace created for the run and
 * removed after it (never the host's ruleset): blocks per second when many go in one batch, and the latency
 * of one block at a time as the daemon applies them (p50, p99).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { backendNamed } from '../firewall/backends.js';
import { Firewall } from '../firewall/firewall.js';
import type { Logger } from '../log/logger.js';

/** Programs each backend runs */
const NEEDS: Record<string, string[]> = { nft: ['nft'], iptables: ['iptables', 'ip6tables'], ipset: ['ipset', 'iptables'] };

export interface BackendBench {
  backend: string;
  skipped: string | null;
  batch: { blocks: number; ms: number; perSecond: number } | null;
  single: { blocks: number; p50Ms: number; p99Ms: number } | null;
}

export interface FirewallBench {
  /** Why the firewall part did not run, when it did not */
  skipped: string | null;
  namespace: string | null;
  /** What `ip netns exec NS true` costs alone: every command pays it here, a daemon on the host does not */
  execOverheadMs: number | null;
  backends: BackendBench[];
}

function installed(program: string): boolean {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(folder, program), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const ms = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;

/** Addresses of 198.18.0.0/15, the range set aside for benchmarks (RFC 2544) */
const benchAddress = (i: number) => `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`;

async function benchBackend(name: string, prefix: string[], batchSize: number, singles: number, log: Logger): Promise<BackendBench> {
  const firewall = new Firewall(backendNamed(name), { name: 'lwbench', hooks: ['input'], priority: -10 }, log, { prefix });
  try {
    await firewall.setup([]);
    const batch = Array.from({ length: batchSize }, (_, i) => ({ op: 'block' as const, entry: { net: { addr: benchAddress(i), cidr: 32, kind: 4 as const }, timeout: 600 } }));
    const started = process.hrtime.bigint();
    await firewall.apply(batch);
    const batchMs = ms(started);
    firewall.keepSessionOpen(); // as the daemon does: nft keeps one `nft -i` open
    const times: number[] = [];
    for (let i = 0; i < singles; i++) {
      const at = process.hrtime.bigint();
      await firewall.apply([{ op: 'block', entry: { net: { addr: benchAddress(batchSize + i), cidr: 32, kind: 4 }, timeout: 600 } }]);
      times.push(ms(at));
    }
    times.sort((a, b) => a - b);
    return {
      backend: name,
      skipped: null,
      batch: { blocks: batchSize, ms: batchMs, perSecond: Math.round((batchSize * 1000) / batchMs) },
      single: { blocks: singles, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) },
    };
  } catch (error) {
    return { backend: name, skipped: `failed: ${(error as Error).message.trim().split('\n')[0]}`, batch: null, single: null };
  } finally {
    firewall.close();
  }
}

export async function benchFirewall(log: Logger, batchSize = 1000, singles = 100): Promise<FirewallBench> {
  if (process.getuid?.() !== 0) return { skipped: 'needs root (it creates a network namespace)', namespace: null, execOverheadMs: null, backends: [] };
  if (!installed('ip')) return { skipped: 'ip (iproute2) is not installed', namespace: null, execOverheadMs: null, backends: [] };
  const namespace = `lwbench${randomBytes(3).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', namespace], { encoding: 'utf8' });
  if (add.status !== 0) return { skipped: `cannot create a network namespace: ${add.stderr.trim()}`, namespace: null, execOverheadMs: null, backends: [] };
  const prefix = ['ip', 'netns', 'exec', namespace];
  try {
    const overhead: number[] = [];
    for (let i = 0; i < 10; i++) {
      const at = process.hrtime.bigint();
      spawnSync(prefix[0], [...prefix.slice(1), 'true']);
      overhead.push(ms(at));
    }
    overhead.sort((a, b) => a - b);
    const backends: BackendBench[] = [];
    for (const name of Object.keys(NEEDS)) {
      const missing = NEEDS[name].filter((p) => !installed(p));
      if (missing.length > 0) backends.push({ backend: name, skipped: `${missing.join(', ')} not installed`, batch: null, single: null });
      else backends.push(await benchBackend(name, prefix, batchSize, singles, log));
    }
    return { skipped: null, namespace, execOverheadMs: percentile(overhead, 50), backends };
  } finally {
    spawnSync('ip', ['netns', 'del', namespace]);
  }
}
