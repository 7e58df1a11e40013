/**
 * kill -9 of `logwarden run --backend nft` (in a Lab's network namespace) at random moments of a stream of
 * attacks, `iterations` times, some during its start-up. The stream mixes one-line attackers (one evidence row
 * each, never blocked), three-line attackers (blocked) and whitelisted attackers (an address and a /16).
 * After each restart: the store passes integrity_check, and every block it held is back in the kernel. At the
 * end: every line is one evidence row, every attacker one block, the kernel holds exactly the store's blocks,
 * and no whitelisted address was ever blocked.
 */
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DaemonProcess, type Lab, queryStore, syslogLine } from '../e2e/lab.js';
import { pause, seeded } from './torture.js';

export const WHITELISTED = ['192.0.2.10', '10.200.0.0/16'];

export interface CrashTortureOptions {
  iterations: number;
  /** The longest stream before a kill (ms) */
  maxStreamMs: number;
  /** Every this many iterations, the kill comes during start-up (before it says it runs) */
  startupKillEvery: number;
  seed: number;
}

export interface CrashTortureResult {
  iterations: number;
  killsDuringStartup: number;
  lines: number;
  /** line → evidence rows */
  rowsPerLine: Map<string, number>;
  written: string[];
  attackers: string[];
  /** Active blocks in the store, and the kernel's elements, after the last sync */
  storeBlocks: string[];
  kernelBlocks: string[];
  /** Block rows per attacker address (any state) */
  blockRows: Map<string, number>;
  /** Whitelisted addresses seen blocked in the store or the kernel, at any check */
  whitelistedBlocked: string[];
  integrity: string[];
  /** Blocks the store held before a restart that were not in the kernel once it said it was ready */
  notRestored: string[];
}

const isWhitelisted = (addr: string) => addr === '192.0.2.10' || addr.startsWith('10.200.');

/** The IPv4 and IPv6 elements of logwarden's block sets in the kernel (none when the table is not there) */
export function kernelBlocks(lab: Lab): string[] {
  if (!lab.nftTables().includes('table inet logwarden')) return [];
  const out: string[] = [];
  for (const set of ['blocked4', 'blocked6', 'blockednet4', 'blockednet6']) {
    const text = lab.inServerRun(['nft', 'list', 'set', 'inet', 'logwarden', set]);
    const elements = /elements = \{([^}]*)\}/.exec(text)?.[1] ?? '';
    for (const part of elements.split(',')) {
      const addr = part.trim().split(/\s+/)[0];
      if (addr) out.push(addr);
    }
  }
  return out.sort();
}

const bare = (key: string) => key.replace(/\/(32|128)$/, '');

export async function crashTorture(lab: Lab, o: CrashTortureOptions): Promise<CrashTortureResult> {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-crash-'));
  const log = join(dir, 'auth.log');
  const db = join(dir, 'state.db');
  writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
  const random = seeded(o.seed);
  const written: string[] = [];
  const attackers: string[] = [];
  let n = 0;
  let attacker = 0;
  let friend = 0;
  const line = (addr: string) => {
    const text = syslogLine(`Failed password for root from ${addr} port ${1024 + (n % 60000)} ssh2`, { pid: 10000 + (n % 50000) });
    n++;
    written.push(text.trimEnd());
    return text;
  };
  /** One append: one-line attackers, sometimes a three-line attacker or a whitelisted one */
  const batch = () => {
    let text = '';
    for (let i = 0; i < 20; i++) text += line(`10.${(n >> 16) & 127}.${(n >> 8) & 255}.${n & 255}`);
    const r = random();
    if (r < 0.3) {
      const addr = `172.16.${(attacker >> 8) & 255}.${attacker & 255}`;
      attacker++;
      attackers.push(addr);
      for (let i = 0; i < 3; i++) text += line(addr);
    } else if (r < 0.5) {
      // the store keeps 50 evidence rows per offender: 192.0.2.10 gets fewer, so that every row can be checked
      const addr = friend % 2 === 0 && friend < 30 ? '192.0.2.10' : `10.200.${(friend >> 8) & 255}.${friend & 255}`;
      friend++;
      for (let i = 0; i < 3; i++) text += line(addr);
    }
    appendFileSync(log, text);
  };
  const whitelistedBlocked = new Set<string>();
  const storeActive = async () =>
    existsSync(db) ? (await queryStore<{ key: string }>(db, "SELECT key FROM blocks WHERE state = 'active' AND simulated = 0")).map((r) => bare(r.key)).sort() : [];
  const checkWhitelist = async () => {
    const everBlocked = existsSync(db) ? (await queryStore<{ addr: string }>(db, 'SELECT addr FROM blocks')).map((r) => r.addr) : [];
    for (const addr of [...everBlocked, ...kernelBlocks(lab)]) if (isWhitelisted(addr)) whitelistedBlocked.add(addr);
  };
  const args = ['--backend', 'nft', '--db', db, '--pid-file', join(dir, 'run.pid'), '--sync-interval', '1', '--block-time', '600'];
  for (const w of WHITELISTED) args.push('--whitelist', w);
  args.push(log);
  const integrity: string[] = [];
  const notRestored: string[] = [];
  let killsDuringStartup = 0;
  let d: DaemonProcess | null = null;
  const start = () => lab.startDaemon(args);
  try {
    for (let i = 0; i < o.iterations; i++) {
      const before = await storeActive();
      d = start();
      const duringStartup = o.startupKillEvery > 0 && i % o.startupKillEvery === o.startupKillEvery - 1;
      if (duringStartup) {
        // somewhere in opening the store, restoring the blocks, starting the sources
        const killAt = Date.now() + Math.floor(random() * 400);
        while (Date.now() < killAt && d.running) {
          batch();
          await pause(5);
        }
        if (!d.running) throw new Error(`the daemon exited by itself:\n${d.transcript()}`);
        const ran = d.records.some((r) => /^logwarden running/.test(r.msg));
        d.kill();
        await d.exited;
        if (!ran) killsDuringStartup++;
        continue;
      }
      await d.waitFor(/^firewall nft ready/, 20_000);
      const kernel = new Set(kernelBlocks(lab));
      for (const b of before) if (!kernel.has(b)) notRestored.push(b);
      await d.waitFor(/^logwarden running/, 20_000);
      integrity.push(...(await queryStore<{ integrity_check: string }>(db, 'PRAGMA integrity_check')).map((r) => r.integrity_check));
      await checkWhitelist();
      const killAt = Date.now() + Math.floor(random() * o.maxStreamMs);
      while (Date.now() < killAt) {
        batch();
        await pause(5 + Math.floor(random() * 10));
      }
      d.kill();
      await d.exited;
      await checkWhitelist();
    }
    // the last start: it reads what is left, and its periodic sync makes the kernel the store's
    const before = await storeActive();
    d = start();
    await d.waitFor(/^firewall nft ready/, 20_000);
    const kernel = new Set(kernelBlocks(lab));
    for (const b of before) if (!kernel.has(b)) notRestored.push(b);
    await d.waitFor(/^logwarden running/, 20_000);
    const total = written.length;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [{ c }] = await queryStore<{ c: number }>(db, "SELECT count(*) AS c FROM evidence WHERE line LIKE '%Failed password for root from %'");
      if (c >= total) break;
      if (Date.now() > deadline) throw new Error(`only ${c} of ${total} lines in the store:\n${d.transcript()}`);
      await pause(50);
    }
    // after a sync or two (1 s apart), the kernel holds the store's blocks
    let storeBlocks: string[] = [];
    let kernelNow: string[] = [];
    const synced = Date.now() + 5_000;
    do {
      await pause(200);
      storeBlocks = await storeActive();
      kernelNow = kernelBlocks(lab);
    } while (JSON.stringify(storeBlocks) !== JSON.stringify(kernelNow) && Date.now() < synced);
    await checkWhitelist();
    const { code } = await d.stop('SIGTERM');
    if (code !== 0) throw new Error(`the daemon exited ${code} on SIGTERM:\n${d.transcript()}`);
    integrity.push(...(await queryStore<{ integrity_check: string }>(db, 'PRAGMA integrity_check')).map((r) => r.integrity_check));
    const rowsPerLine = new Map<string, number>();
    for (const r of await queryStore<{ line: string; c: number }>(db, "SELECT line, count(*) AS c FROM evidence WHERE line LIKE '%Failed password for root from %' GROUP BY line")) {
      rowsPerLine.set(r.line, r.c);
    }
    const blockRows = new Map<string, number>();
    for (const r of await queryStore<{ addr: string; c: number }>(db, 'SELECT addr, count(*) AS c FROM blocks GROUP BY addr')) blockRows.set(r.addr, r.c);
    return {
      iterations: o.iterations,
      killsDuringStartup,
      lines: total,
      rowsPerLine,
      written,
      attackers,
      storeBlocks,
      kernelBlocks: kernelNow,
      blockRows,
      whitelistedBlocked: [...whitelistedBlocked],
      integrity,
      notRestored,
    };
  } finally {
    d?.kill();
    if (lab.nftTables().includes('table inet logwarden')) lab.inServerRun(['nft', 'delete', 'table', 'inet', 'logwarden']);
    rmSync(dir, { recursive: true, force: true });
  }
}
