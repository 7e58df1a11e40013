#!/usr/bin/env node
// Does the store's file stay proportional to the active offenders, or grow with history? A long run with churn:
// --rounds rounds, each with --per-round fresh short-lived offenders (15% IPv6) that attack twice (danger 10,
// score 20: not blocked) about 5 minutes apart and are never seen again; --blocked-share of them attack a third time
// and are blocked. Between rounds, event time jumps by --days-between days, so the Engine's prune() (run every
// 10 minutes of event time) forgets the previous rounds' offenders and tells the store to delete them with their
// evidence. After each round (store flushed) it prints the offenders in memory, the rows of the offenders,
// evidence and blocks tables, and the sizes of the DB file and its -wal.
//
//   node benchmarks/store-size.mjs [--rounds 20] [--per-round 20000] [--days-between 3] [--blocked-share 0]
//                                  [--seed 1] [--keep] [--json OUT]
//
// Events are built directly (see workload.mjs), not parsed. A blocked offender is kept until its penalty level
// (1 after one block) has decayed under 0.01 (half-life 7 days: ~47 days).
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DATA, ROOT, ensureLogwarden, fmtInt, log, logwardenCommit, machineInfo, parseArgs } from './lib.mjs';
import { MB, addressOf, dbStats, engineOnStore, eventFactory, loadLogwarden, prng, tempDbPath } from './workload.mjs';

const USAGE = 'usage: node benchmarks/store-size.mjs [--rounds N] [--per-round N] [--days-between D] [--blocked-share F] [--seed S] [--build] [--keep] [--json OUT]';
const opts = parseArgs(process.argv.slice(2), {
  rounds: 20,
  perRound: 20_000,
  daysBetween: 3,
  blockedShare: 0,
  ipv6Share: 0.15,
  seed: 1,
  build: false,
  keep: false,
  json: '',
}, USAGE);

async function main() {
  ensureLogwarden({ build: opts.build });
  const lw = await loadLogwarden();
  const machine = machineInfo();
  const commit = logwardenCommit();
  const rnd = prng(opts.seed);
  const factory = eventFactory(lw);
  const tmp = tempDbPath('store-size');
  const rig = engineOnStore(lw, tmp.path);
  log(`logwarden ${commit}; store ${relative(ROOT, tmp.path)}`);
  let time = Date.UTC(2026, 0, 1);
  const rows = [];
  let events = 0;
  const t0 = performance.now();
  for (let round = 0; round < opts.rounds; round++) {
    if (round > 0) time += opts.daysBetween * 86_400_000;
    const pool = [];
    for (let i = 0; i < opts.perRound; i++) {
      const v6 = rnd() < opts.ipv6Share;
      pool.push({ addr: addressOf(round * opts.perRound + i, v6), kind: v6 ? 6 : 4, blocked: rnd() < opts.blockedShare });
    }
    // three passes over the round's addresses: 1st and 2nd attack for all, a 3rd for those meant to be blocked
    const passes = opts.blockedShare > 0 ? 3 : 2;
    const step = 300_000 / opts.perRound; // each pass takes 5 minutes of event time
    for (let pass = 0; pass < passes; pass++) {
      for (const a of pool) {
        if (pass === 2 && !a.blocked) continue;
        const [item] = factory.session(a.addr, a.kind, time, 'password', 1, rnd);
        time += step;
        item.time = Math.floor(time);
        rig.handle(item);
        if ((++events & 255) === 0) rig.tick();
      }
    }
    rig.store.flush();
    const db = dbStats(rig.store, tmp.path);
    const row = { round: round + 1, day: (time - Date.UTC(2026, 0, 1)) / 86_400_000, events, offendersInMemory: rig.state.offenders.size, blocks: rig.counters.blocks, ...db };
    rows.push(row);
    log(`  round ${row.round}: ${fmtInt(row.offendersInMemory)} offenders in memory; rows: ${fmtInt(db.offenders)} offenders, ${fmtInt(db.evidence)} evidence, ${fmtInt(db.blocks)} blocks; file ${MB(db.fileBytes)} MB (${db.freePages} free pages) + WAL ${MB(db.walBytes)} MB`);
  }
  // one more event well after the last round, so that the last round is pruned as well
  time += opts.daysBetween * 86_400_000;
  const [last] = factory.session(addressOf(opts.rounds * opts.perRound, false), 4, time, 'password', 1, rnd);
  last.time = time;
  rig.handle(last);
  rig.finish();
  const after = { round: 'after', day: (time - Date.UTC(2026, 0, 1)) / 86_400_000, events: events + 1, offendersInMemory: rig.state.offenders.size, blocks: rig.counters.blocks, ...dbStats(rig.store, tmp.path) };
  rows.push(after);
  const seconds = (performance.now() - t0) / 1000;
  rig.store.close();
  const { statSync } = await import('node:fs');
  const closedBytes = statSync(tmp.path).size;
  if (!opts.keep) tmp.cleanup();

  const out = [];
  const p = (s = '') => out.push(s);
  p();
  p(`date ${machine.date}; logwarden ${commit}; ${machine.nproc} cores, ${machine.cpu}; node ${machine.node}`);
  p(`${opts.rounds} rounds of ${fmtInt(opts.perRound)} fresh offenders (2 attacks each${opts.blockedShare > 0 ? `, ${opts.blockedShare * 100}% a 3rd and blocked` : ''}), ${opts.daysBetween} days between rounds; ${fmtInt(events)} events in ${seconds.toFixed(1)} s; Engine + Store(file)`);
  p();
  p('| after round | event day | offenders in memory | offender rows | evidence rows | block rows | DB file MB | free pages | WAL MB |');
  p('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    p(`| ${r.round} | ${r.day.toFixed(1)} | ${fmtInt(r.offendersInMemory)} | ${fmtInt(r.offenders)} | ${fmtInt(r.evidence)} | ${fmtInt(r.blocks)} | ${MB(r.fileBytes)} | ${fmtInt(r.freePages)} | ${MB(r.walBytes)} |`);
  }
  p();
  const firstFull = rows[Math.min(2, rows.length - 2)];
  const lastRound = rows[rows.length - 2];
  p(`DB file after round ${firstFull.round}: ${MB(firstFull.fileBytes)} MB; after round ${lastRound.round}: ${MB(lastRound.fileBytes)} MB (${(lastRound.fileBytes / firstFull.fileBytes).toFixed(2)}x); after close (checkpoint): ${MB(closedBytes)} MB`);
  process.stdout.write(`${out.join('\n')}\n`);
  const jsonOut = opts.json || join(DATA, `results-store-size${opts.blockedShare > 0 ? '-blocked' : ''}.json`);
  writeFileSync(jsonOut, `${JSON.stringify({ machine, commit, options: opts, seconds, rows, closedBytes }, null, 2)}\n`);
  log(`\nresults written to ${relative(ROOT, jsonOut)}`);
}

main().catch((error) => {
  process.stderr.write(`store-size benchmark failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
