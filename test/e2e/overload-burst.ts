/**
 * An overload burst against the real daemon: `logwarden run --backend nft` in a network namespace of its own,
 * tailing a log that gets `linesPerSecond` lines a second of sshd password failures from many distinct documentation
 * addresses (IPv4 from 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; IPv6 each in its own /64 of 2001:db8::/32),
 * some of them whitelisted. Measures what the daemon keeps up with, its memory, the blocks and the firewall's
 * batches; used by the short e2e test and the long stress test.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DaemonProcess, sleep, syslogLine } from './lab.js';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface BurstOptions {
  /** Distinct attacking addresses: each writes 2 password failures (a score of 20, under the threshold of 30) */
  addresses: number;
  /** The first `blocked` of them write a third one, and are blocked (unless whitelisted) */
  blocked: number;
  linesPerSecond: number;
  /** How long to wait for the daemon to read everything, after the burst */
  drainMs: number;
  /** run's --ipv6-subnet (default 64: each attacker's /64 is blocked, in nft's interval set) */
  ipv6Subnet?: number;
  /** How long to wait, after the lines were read, for the kernel to hold every block */
  kernelMs?: number;
}

export interface BurstResult {
  written: number;
  writeSeconds: number;
  /** Lines the daemon read, and when it had read them all (s from the first write) */
  read: number;
  caughtUpSeconds: number | null;
  blocks: number;
  expectedBlocks: number;
  kernelElements: number;
  /** When the kernel held every block (s from the first write), or null */
  kernelSeconds: number | null;
  whitelistedBlocked: string[];
  batches: number;
  operations: number;
  rssPeakMB: number;
  rssStartMB: number;
  maxLagBytes: number;
  warnings: string[];
  metrics: string;
  /** Samples every 0.5 s: [s since the first write, lines read, blocks, batches, operations, lag bytes] */
  timeline: number[][];
}

/** The i-th attacking address: a quarter IPv4 (the three documentation /24s), the rest IPv6 in distinct /64s. */
export function attacker(i: number): string {
  if (i % 4 === 0 && i / 4 < 3 * 254) {
    const n = i / 4;
    return `${['192.0.2', '198.51.100', '203.0.113'][n % 3]}.${1 + Math.floor(n / 3)}`;
  }
  return `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::${(i % 250) + 1}`;
}

/** Whitelisted: 192.0.2.0/28 (addresses .1-.15) and 2001:db8:0:100::/56 (i from 256 to 511, the IPv6 ones) */
export const WHITELIST = ['192.0.2.0/28', '2001:db8:0:100::/56'];
export function whitelisted(addr: string): boolean {
  const m = /^192\.0\.2\.(\d+)$/.exec(addr);
  if (m) return Number(m[1]) < 16;
  return /^2001:db8:0:1[0-9a-f]{2}::/.test(addr);
}

function rssMB(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return kb / 1024;
  } catch {
    return 0;
  }
}

interface Published {
  counts: { lines: number; blocks: number };
  firewall: { health: { batches: number; operations: number } } | null;
  sources: { lagBytes: number | null }[];
}

/** The blocked addresses and networks in our nft table, as `ADDR` or `ADDR/LEN`. */
function nftBlocked(inNs: string[]): Set<string> {
  const r = spawnSync(inNs[0], [...inNs.slice(1), 'nft', '-j', 'list', 'table', 'inet', 'logwarden'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const found = new Set<string>();
  if (r.status !== 0) return found;
  for (const item of (JSON.parse(r.stdout) as { nftables: { set?: { name: string; elem?: unknown[] } }[] }).nftables) {
    for (const e of item.set?.name.startsWith('blocked') ? (item.set.elem ?? []) : []) {
      const val = (e as { elem?: { val: unknown } }).elem?.val ?? e;
      const prefix = (val as { prefix?: { addr: string; len: number } }).prefix;
      found.add(prefix ? `${prefix.addr}/${prefix.len}` : String(val));
    }
  }
  return found;
}

export async function overloadBurst(o: BurstOptions): Promise<BurstResult> {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-overload-'));
  const ns = `lwov${randomBytes(3).toString('hex')}`;
  const inNs = ['ip', 'netns', 'exec', ns];
  const sh = (argv: string[]) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (sh(['ip', 'netns', 'add', ns]).status !== 0) throw new Error(`cannot create namespace ${ns}`);
  sh([...inNs, 'ip', 'link', 'set', 'lo', 'up']);
  const log = join(dir, 'auth.log');
  writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
  const db = join(dir, 'state.db');
  const args = ['run', '--backend', 'nft', '--db', db, '--pid-file', join(dir, 'run.pid'), '--metrics', '127.0.0.1:9150'];
  for (const w of WHITELIST) args.push('-w', w);
  if (o.ipv6Subnet !== undefined) args.push('--ipv6-subnet', String(o.ipv6Subnet));
  const kernelElements = () => nftBlocked(inNs);
  const daemon = new DaemonProcess([...inNs, process.execPath, CLI, ...args, log], process.env);
  try {
    await daemon.waitFor(/^logwarden running/, 30_000);
    const rssStartMB = rssMB(daemon.pid);
    let rssPeakMB = rssStartMB;
    let maxLagBytes = 0;
    const store = new Database(db, { readonly: true, fileMustExist: true });
    const published = (): Published | null => {
      const row = store.prepare('SELECT state FROM daemon_status').pluck().get() as string | undefined;
      return row === undefined ? null : (JSON.parse(row) as Published);
    };
    const timeline: number[][] = [];
    let t0 = Date.now();
    let samples = 0;
    const sampler = setInterval(() => {
      rssPeakMB = Math.max(rssPeakMB, rssMB(daemon.pid));
      const p = published();
      maxLagBytes = Math.max(maxLagBytes, p?.sources[0]?.lagBytes ?? 0);
      if (p && samples++ % 5 === 0) {
        const h = p.firewall?.health;
        timeline.push([(Date.now() - t0) / 1000, p.counts.lines, p.counts.blocks, h?.batches ?? 0, h?.operations ?? 0, p.sources[0]?.lagBytes ?? 0]);
      }
    }, 100);
    // The lines, in the order an attack comes: each address's failures spread over the burst
    const lines: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < (round < 2 ? o.addresses : o.blocked); i++) {
        lines.push(syslogLine(`Failed password for root from ${attacker(i)} port ${40000 + round} ssh2`, { pid: 5000 + (i % 30000) }));
      }
    }
    const linesBefore = published()?.counts.lines ?? 0;
    t0 = Date.now();
    const slice = Math.ceil(o.linesPerSecond / 20);
    for (let at = 0; at < lines.length; at += slice) {
      appendFileSync(log, lines.slice(at, at + slice).join(''));
      const due = t0 + ((at + slice) / o.linesPerSecond) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
    }
    const writeSeconds = (Date.now() - t0) / 1000;
    // Caught up: every line read (the status row is written every 2 s)
    let caughtUpSeconds: number | null = null;
    let state = published();
    while (Date.now() - t0 < writeSeconds * 1000 + o.drainMs) {
      state = published();
      if (state && state.counts.lines - linesBefore >= lines.length) {
        caughtUpSeconds = (Date.now() - t0) / 1000;
        break;
      }
      await sleep(200);
    }
    const expected = new Set<string>();
    for (let i = 0; i < o.blocked; i++) if (!whitelisted(attacker(i))) expected.add(attacker(i));
    // the blocks reach the kernel in batches: wait until it holds them all (or the time is over)
    let kernel = kernelElements();
    let kernelSeconds: number | null = null;
    while (Date.now() - t0 < writeSeconds * 1000 + o.drainMs + (o.kernelMs ?? 5000)) {
      kernel = kernelElements();
      if (kernel.size >= expected.size) {
        kernelSeconds = (Date.now() - t0) / 1000;
        break;
      }
      await sleep(500);
    }
    await sleep(2100); // the next status row
    clearInterval(sampler);
    state = published();
    const metrics = sh([...inNs, process.execPath, '-e', "fetch('http://127.0.0.1:9150/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"]).stdout;
    // an attacker's IPv6 /64 is what is blocked, unless the prefix is 128
    const keyOf = (addr: string) => (addr.includes(':') && o.ipv6Subnet !== 128 ? `${addr.split(':').slice(0, 4).join(':')}::/64` : addr);
    const whitelistedBlocked: string[] = [];
    for (let i = 0; i < o.blocked; i++) {
      const a = attacker(i);
      if (whitelisted(a) && kernel.has(keyOf(a))) whitelistedBlocked.push(a);
    }
    store.close();
    return {
      written: lines.length,
      writeSeconds,
      read: (state?.counts.lines ?? 0) - linesBefore,
      caughtUpSeconds,
      blocks: state?.counts.blocks ?? 0,
      expectedBlocks: expected.size,
      kernelElements: kernel.size,
      kernelSeconds,
      whitelistedBlocked,
      batches: state?.firewall?.health.batches ?? 0,
      operations: state?.firewall?.health.operations ?? 0,
      rssPeakMB,
      rssStartMB,
      maxLagBytes,
      warnings: daemon.records.filter((r) => r.level >= 40 && !/^blocked /.test(r.msg)).map((r) => r.msg),
      metrics,
      timeline,
    };
  } finally {
    await daemon.stop('SIGTERM', 20_000).catch(() => daemon.kill());
    sh(['ip', 'netns', 'del', ns]);
  }
}
