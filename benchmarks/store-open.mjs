#!/usr/bin/env node
// What a one-shot command (`logwarden block`) pays to use a big store: a store file with --rows evidence rows
// (and --offenders offenders, --blocks active blocks) is built once, then each of --runs fresh child processes
// times open → addBlock → flushAll → close and reports its time and its RSS. Target: under 100 ms with 1M rows.
//
//   node benchmarks/store-open.mjs [--rows 1000000] [--offenders 20000] [--blocks 1000] [--runs 5] [--build] [--keep]
//
// The file is built fast: Store.open for the schema, then plain multi-row INSERTs in one transaction.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ROOT, ensureLogwarden, fmtInt, log, logwardenCommit, machineInfo, median, parseArgs } from './lib.mjs';
import { MB, tempDbPath } from './workload.mjs';

const USAGE = 'usage: node benchmarks/store-open.mjs [--rows N] [--offenders N] [--blocks N] [--runs N] [--build] [--keep] [--child DB]';
const opts = parseArgs(process.argv.slice(2), { rows: 1_000_000, offenders: 20_000, blocks: 1000, runs: 5, build: false, keep: false, child: '' }, USAGE);

const addr = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** One measured use, in a fresh process (so that RSS is the command's own): prints a JSON line. */
async function child(path) {
  const t0 = performance.now();
  const { Store } = await import(new URL('../dist/store/store.js', import.meta.url));
  const tImport = performance.now();
  const store = Store.open(path);
  const tOpen = performance.now();
  const now = Date.now();
  store.addBlock({ addr: '198.51.100.7', cidr: 32, kind: 4 }, now, now + 3600_000, 'manual', { text: 'store-open benchmark' });
  store.flushAll();
  const tBlock = performance.now();
  store.close();
  const tClose = performance.now();
  const rss = process.resourceUsage().maxRSS; // KB
  process.stdout.write(`${JSON.stringify({ importMs: tImport - t0, openMs: tOpen - tImport, blockMs: tBlock - tOpen, closeMs: tClose - tBlock, totalMs: tClose - tImport, rssKB: rss })}\n`);
}

async function build(path) {
  const { Store } = await import(new URL('../dist/store/store.js', import.meta.url));
  Store.open(path).close(); // schema, at the current version
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const t0 = performance.now();
  const perInsert = 100;
  db.transaction(() => {
    const evidence = db.prepare(
      `INSERT INTO evidence (id, offender, time, source, line_no, event, rule, service, danger, addr, outcome, line) VALUES ${new Array(perInsert).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    );
    const base = Date.UTC(2026, 4, 1);
    for (let id = 1; id <= opts.rows; id += perInsert) {
      const values = [];
      for (let k = id; k < id + perInsert; k++) {
        const a = addr(k % opts.offenders);
        values.push(k, a, base + k * 10, '/var/log/auth.log', k, 'attack', 'ssh-failed-password', 100, 10, a, 'scored',
          `May  1 00:00:00 web1 sshd[${1000 + (k % 50000)}]: Failed password for root from ${a} port ${20000 + (k % 40000)} ssh2`);
      }
      evidence.run(values);
    }
    const offender = db.prepare(
      `INSERT INTO offenders (key, addr, cidr, kind, window_start, score, window_attacks, level, level_at, blocked_danger,
         blocked_until, blocks, attacks, first_seen, last_seen) VALUES (?, ?, 32, 4, ?, 30, 3, 1, ?, 30, ?, 1, 50, ?, ?)`,
    );
    for (let i = 0; i < opts.offenders; i++) offender.run(addr(i), addr(i), base, base, base + 86400_000, base, base);
    const block = db.prepare(
      `INSERT INTO blocks (key, addr, cidr, kind, start, expires, origin, reason, state) VALUES (?, ?, 32, 4, ?, ?, 'policy', '{}', 'active')`,
    );
    for (let i = 0; i < opts.blocks; i++) block.run(addr(i), addr(i), base, base + 86400_000 * 365);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return (performance.now() - t0) / 1000;
}

async function main() {
  if (opts.child) return child(opts.child);
  ensureLogwarden({ build: opts.build });
  const tmp = tempDbPath('store-open');
  log(`building a store with ${fmtInt(opts.rows)} evidence rows, ${fmtInt(opts.offenders)} offenders, ${fmtInt(opts.blocks)} active blocks ...`);
  const seconds = await build(tmp.path);
  log(`  built in ${seconds.toFixed(1)} s: ${MB(statSync(tmp.path).size)} MB`);
  const runs = [];
  for (let i = 0; i < opts.runs; i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', tmp.path], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
    runs.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  const machine = machineInfo();
  const m = (key) => median(runs.map((r) => r[key]));
  const out = [];
  out.push(`date ${machine.date}; logwarden ${logwardenCommit()}; ${machine.nproc} cores, ${machine.cpu}; node ${machine.node}`);
  out.push(`store: ${fmtInt(opts.rows)} evidence rows, ${fmtInt(opts.offenders)} offenders, ${fmtInt(opts.blocks)} active blocks; file ${MB(statSync(tmp.path).size)} MB`);
  out.push(`open → addBlock → flushAll → close, median of ${runs.length} fresh processes (module import not included: ${m('importMs').toFixed(1)} ms):`);
  out.push(`  open ${m('openMs').toFixed(1)} ms, addBlock+flushAll ${m('blockMs').toFixed(1)} ms, close ${m('closeMs').toFixed(1)} ms; total ${m('totalMs').toFixed(1)} ms (target < 100 ms: ${m('totalMs') < 100 ? 'MET' : 'MISSED'})`);
  out.push(`  peak RSS of the process ${(m('rssKB') / 1024).toFixed(0)} MB`);
  out.push(`  each run (total ms): ${runs.map((r) => r.totalMs.toFixed(1)).join(', ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (!opts.keep) tmp.cleanup();
  else log(`kept ${tmp.path}`);
}

main().catch((error) => {
  process.stderr.write(`store-open benchmark failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
