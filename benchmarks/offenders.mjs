#!/usr/bin/env node
// Memory with many offenders: --offenders distinct addresses (default 1,000,000; 15% IPv6, each its own /64), each
// making 1 or 2 SSH attacks (danger 10: below the threshold of 30, so none is blocked), through the Engine and a
// real file-backed Store. All of it happens within --span-minutes of event time (default 25, under the 30-minute
// detection window), so no offender can be pruned: all of them are in memory at the end. Target: peak RSS < 1 GB.
//
//   node benchmarks/offenders.mjs [--offenders 1000000] [--ipv6-share 0.15] [--span-minutes 25] [--seed 1] [--keep]
//
// Events are built directly (see workload.mjs), not parsed. Each attack is one `Failed password` line on a
// connection of its own (no `Connection closed` line). RSS is sampled (process.memoryUsage().rss) every 10,000 events; the peak is also read from
// /proc/self/status (VmHWM). The generator's own memory is small (one attack at a time).
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DATA, ROOT, ensureLogwarden, fmtInt, log, logwardenCommit, machineInfo, parseArgs, selfPeakRssKB } from './lib.mjs';
import { MB, addressOf, dbStats, engineOnStore, eventFactory, loadLogwarden, prng, tempDbPath } from './workload.mjs';

const USAGE = 'usage: node benchmarks/offenders.mjs [--offenders N] [--ipv6-share F] [--span-minutes M] [--seed S] [--limit-mb 1024] [--build] [--json OUT] [--keep]';
const opts = parseArgs(process.argv.slice(2), {
  offenders: 1_000_000,
  ipv6Share: 0.15,
  spanMinutes: 25,
  seed: 1,
  limitMb: 1024,
  build: false,
  json: '',
  keep: false,
}, USAGE);

async function main() {
  ensureLogwarden({ build: opts.build });
  const lw = await loadLogwarden();
  const machine = machineInfo();
  const commit = logwardenCommit();
  const rnd = prng(opts.seed);
  const factory = eventFactory(lw);
  const tmp = tempDbPath('offenders');
  const rig = engineOnStore(lw, tmp.path);
  const start = Date.UTC(2026, 4, 1);
  const step = (opts.spanMinutes * 60_000) / (opts.offenders * 1.5);
  const rssStart = process.memoryUsage().rss;
  let peakSampled = rssStart;
  const samples = [];
  let events = 0;
  let time = start;
  log(`logwarden ${commit}; ${fmtInt(opts.offenders)} offenders over ${opts.spanMinutes} min of event time; store ${relative(ROOT, tmp.path)}`);
  const t0 = performance.now();
  for (let i = 0; i < opts.offenders; i++) {
    const v6 = rnd() < opts.ipv6Share;
    const addr = addressOf(i, v6);
    const attacks = rnd() < 0.5 ? 1 : 2;
    for (let k = 0; k < attacks; k++) {
      // the second attack of an address comes later, on a new connection (items are fed in time order)
      const [item] = factory.session(addr, v6 ? 6 : 4, time, 'password', 1, rnd);
      time += step;
      item.time = Math.floor(time);
      rig.handle(item);
      events++;
      if ((events & 255) === 0) rig.tick();
      if (events % 10_000 === 0) {
        const rss = process.memoryUsage().rss;
        if (rss > peakSampled) peakSampled = rss;
        if (events % 200_000 === 0) {
          samples.push({ events, offenders: rig.state.offenders.size, rssMB: rss / 1e6 });
          log(`  ${fmtInt(events)} events, ${fmtInt(rig.state.offenders.size)} offenders in memory, RSS ${(rss / 1e6).toFixed(0)} MB`);
        }
      }
    }
  }
  rig.finish();
  const seconds = (performance.now() - t0) / 1000;
  const rssEnd = process.memoryUsage().rss;
  if (rssEnd > peakSampled) peakSampled = rssEnd;
  const hwmKB = selfPeakRssKB();
  const mem = process.memoryUsage();
  const db = dbStats(rig.store, tmp.path);
  const result = {
    machine, commit, options: opts,
    events, seconds, eventsPerSec: events / seconds,
    offendersInMemory: rig.state.offenders.size,
    blocks: rig.counters.blocks,
    flushes: rig.counters.flushes,
    rssStartMB: rssStart / 1e6,
    peakRssSampledMB: peakSampled / 1e6,
    peakRssHwmMB: hwmKB === null ? null : (hwmKB * 1024) / 1e6,
    atEnd: { rssMB: mem.rss / 1e6, heapUsedMB: mem.heapUsed / 1e6, heapTotalMB: mem.heapTotal / 1e6, externalMB: mem.external / 1e6 },
    samples,
    db,
  };
  global.gc?.();
  rig.store.close();
  if (!opts.keep) tmp.cleanup();

  const peak = result.peakRssHwmMB ?? result.peakRssSampledMB;
  const out = [];
  const p = (s = '') => out.push(s);
  p();
  p(`date ${machine.date}; logwarden ${commit}; ${machine.nproc} cores, ${machine.cpu}; node ${machine.node}`);
  p(`${fmtInt(opts.offenders)} distinct addresses (${opts.ipv6Share * 100}% IPv6), 1-2 attacks each (danger 10), ${opts.spanMinutes} min of event time; Engine + Store(file); events built directly (not parsed)`);
  p();
  p('| attack events | wall s | events/s | offenders in memory | blocks | peak RSS MB (VmHWM) | peak RSS MB (sampled) | heap used MB at end | evidence rows | offender rows | DB file MB (+ WAL) |');
  p('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  p(`| ${fmtInt(events)} | ${seconds.toFixed(2)} | ${fmtInt(result.eventsPerSec)} | ${fmtInt(result.offendersInMemory)} | ${result.blocks} | ${result.peakRssHwmMB?.toFixed(0) ?? '-'} | ${result.peakRssSampledMB.toFixed(0)} | ${result.atEnd.heapUsedMB.toFixed(0)} | ${fmtInt(db.evidence)} | ${fmtInt(db.offenders)} | ${MB(db.fileBytes)} (+ ${MB(db.walBytes)}) |`);
  p();
  p(`peak RSS ${peak.toFixed(0)} MB (target < ${opts.limitMb} MB: ${peak < opts.limitMb ? 'MET' : 'MISSED'}); RSS at start ${result.rssStartMB.toFixed(0)} MB; ~${(((peak - result.rssStartMB) * 1e6) / result.offendersInMemory).toFixed(0)} bytes per offender`);
  p(`RSS while feeding: ${samples.map((s) => `${fmtInt(s.offenders)} offenders → ${s.rssMB.toFixed(0)} MB`).join('; ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
  const jsonOut = opts.json || join(DATA, 'results-offenders.json');
  writeFileSync(jsonOut, `${JSON.stringify(result, null, 2)}\n`);
  log(`\nresults written to ${relative(ROOT, jsonOut)}`);
  if (peak >= opts.limitMb) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`offenders benchmark failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
