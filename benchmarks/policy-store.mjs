#!/usr/bin/env node
// Policy + store throughput, end to end: attack events through the Engine (attempt correlation → policy → store)
// with a real file-backed Store (better-sqlite3, WAL), flushed the way the daemon does it (the store flushes itself
// every batchSize queued writes, a 100 ms wall-clock timer flushes the rest, and a final flush at the end, all
// inside the timed section). Target: at least 200,000 attack events/s.
//
//   node benchmarks/policy-store.mjs [--events 1000000] [--attackers 3000] [--ipv6-share 0.15] [--gap-ms 50]
//                                    [--seed 1] [--modes generate,none,file] [--build] [--json OUT] [--keep] [--breakdown]
//
// Events are built directly as ParsedEvent/Item objects (see workload.mjs), not parsed from text: parsing is
// measured by parse.mjs. A pool of --attackers addresses (IPv4 and, --ipv6-share of them, IPv6, each its own /64),
// picked with a skew (a few attack a lot), runs SSH sessions: 1-3 `Failed password` (danger 10) then
// `Connection closed ... [preauth]` (danger 2), or `Invalid user` + `Failed password for invalid user` (joined to
// the first by the correlator) + `Connection closed`. Simulated time increases by --gap-ms on average per event.
// Modes, each a separate measurement on the same events: `generate` (building the events only, the cost
// included in the others), `none` (engine with no store: correlation + policy only), `memory` (store ':memory:'),
// `file` (the real thing). --breakdown times each store statement, addBlock and the flushes (slightly slower).
import { statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DATA, ROOT, ensureLogwarden, fmtInt, log, logwardenCommit, machineInfo, parseArgs, selfIo, selfPeakRssKB, waitForIdle } from './lib.mjs';
import { MB, addressOf, dbStats, engineOnStore, eventFactory, loadLogwarden, prng, tempDbPath } from './workload.mjs';

const USAGE = 'usage: node benchmarks/policy-store.mjs [--events N] [--attackers N] [--ipv6-share F] [--gap-ms MS] [--seed S] [--modes generate,none,memory,file] [--build] [--json OUT] [--keep] [--breakdown] [--wait-idle S]';
const opts = parseArgs(process.argv.slice(2), {
  events: 1_000_000,
  attackers: 3000,
  ipv6Share: 0.15,
  gapMs: 50,
  seed: 1,
  modes: 'generate,none,file',
  build: false,
  json: '',
  keep: false,
  breakdown: false,
  waitIdle: 120,
}, USAGE);

/** Feeds opts.events attack events (whole sessions, so a few more) to `sink(item)`; returns how many. */
function feed(lw, sink, tick) {
  const rnd = prng(opts.seed);
  const factory = eventFactory(lw);
  const pool = [];
  for (let i = 0; i < opts.attackers; i++) {
    const v6 = rnd() < opts.ipv6Share;
    const addr = addressOf(i, v6);
    const ip = lw.canonicalIP(addr);
    if (!ip || ip.addr !== addr) throw new Error(`address ${addr} is not canonical (${ip?.addr})`);
    pool.push({ addr, kind: ip.kind });
  }
  let time = Date.UTC(2026, 4, 1);
  let n = 0;
  while (n < opts.events) {
    const a = pool[Math.floor(opts.attackers * rnd() * rnd())]; // skewed: low indexes attack more
    const type = rnd() < 0.5 ? 'invalid' : 'password';
    const items = factory.session(a.addr, a.kind, time, type, 1 + Math.floor(rnd() * 3), rnd);
    for (const item of items) {
      time += Math.floor(rnd() * 2 * opts.gapMs);
      item.time = time; // consecutive events of a session, time increasing through the whole feed
      sink(item);
    }
    n += items.length;
    if ((n & 255) < items.length) tick();
  }
  return n;
}

async function measure(lw, mode) {
  global.gc?.();
  const base = selfPeakRssKB();
  if (mode === 'generate') {
    let bytes = 0;
    const t0 = performance.now();
    const n = feed(lw, (item) => {
      bytes += item.line.length + 1;
    }, () => {});
    const seconds = (performance.now() - t0) / 1000;
    return { mode, events: n, seconds, eventsPerSec: n / seconds, avgLineBytes: bytes / n };
  }
  const tmp = mode === 'file' ? tempDbPath('policy-store') : null;
  const path = tmp ? tmp.path : ':memory:';
  const rig = mode === 'none' ? null : engineOnStore(lw, path, { breakdown: opts.breakdown });
  let engine, counters = { flushes: 0, timerFlushes: 0, blocks: 0, flushMs: 0 };
  if (rig === null) {
    const state = lw.newPolicyState(new lw.Whitelist(lw.emptyEntries()));
    let now = 0;
    engine = new lw.Engine({ policy: lw.DEFAULT_POLICY, state, store: null, now: () => now, onBlock: () => counters.blocks++ });
    engine.handleAt = (item) => {
      now = item.time;
      engine.handle(item);
    };
  }
  const io0 = selfIo();
  const t0 = performance.now();
  const n = rig ? feed(lw, (item) => rig.handle(item), () => rig.tick()) : feed(lw, (item) => engine.handleAt(item), () => {});
  if (rig) rig.finish();
  else engine.finish();
  const seconds = (performance.now() - t0) / 1000;
  const io1 = selfIo();
  const stats = rig ? rig.engine.stats : engine.stats;
  if (rig) counters = rig.counters;
  const state = rig ? rig.state : null;
  const result = {
    mode,
    events: n,
    seconds,
    eventsPerSec: n / seconds,
    blocks: counters.blocks,
    engine: { ...stats },
    flushes: counters.flushes,
    timerFlushes: counters.timerFlushes,
    flushSeconds: counters.flushMs / 1000,
    peakRssMB: selfPeakRssKB() / 1024,
    peakRssBeforeMB: base / 1024,
    io: io0 && io1 ? { writeBytes: io1.write_bytes - io0.write_bytes, writeCalls: io1.syscw - io0.syscw, wchar: io1.wchar - io0.wchar } : null,
  };
  if (rig?.timings) result.timings = rig.timings;
  if (rig) {
    result.offendersInMemory = state.offenders.size;
    result.db = dbStats(rig.store, path);
    if (mode === 'file') {
      rig.store.close();
      result.db.fileBytesAfterClose = statSync(path).size;
      result.dbPath = relative(ROOT, path);
      if (!opts.keep) tmp.cleanup();
    } else {
      rig.store.close();
    }
  }
  return result;
}

async function main() {
  ensureLogwarden({ build: opts.build });
  const lw = await loadLogwarden();
  const machine = machineInfo();
  const commit = logwardenCommit();
  log(`logwarden ${commit}; ${machine.nproc} cores, node ${machine.node}; ${fmtInt(opts.events)} events, ${fmtInt(opts.attackers)} attackers`);
  const results = { machine, commit, options: opts, modes: [] };
  for (const mode of opts.modes.split(',')) {
    await waitForIdle({ maxSeconds: opts.waitIdle });
    const r = await measure(lw, mode);
    results.modes.push(r);
    log(`  ${mode}: ${fmtInt(r.events)} events in ${r.seconds.toFixed(3)} s = ${fmtInt(r.eventsPerSec)} events/s${r.blocks !== undefined ? `, ${fmtInt(r.blocks)} blocks` : ''}`);
  }

  const out = [];
  const p = (s = '') => out.push(s);
  p();
  p(`date ${machine.date}; logwarden ${commit}; ${machine.nproc} cores, ${machine.cpu}; node ${machine.node}`);
  p(`workload: ${fmtInt(opts.events)}+ SSH attack events (danger 10 and 2), ${fmtInt(opts.attackers)} attackers (${opts.ipv6Share * 100}% IPv6), seed ${opts.seed}, ~${opts.gapMs} ms of event time between events; events built directly (not parsed)`);
  p();
  p('| mode | attack events | wall s | events/s | blocks | flushes (timer) | flush s | offenders in memory | evidence rows | DB file MB (+ WAL) | peak RSS MB |');
  p('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const names = { generate: 'building the events only', none: 'Engine, no store', memory: "Engine + Store(':memory:')", file: 'Engine + Store(file)' };
  for (const r of results.modes) {
    const db = r.db;
    p(`| ${names[r.mode]} | ${fmtInt(r.events)} | ${r.seconds.toFixed(3)} | ${fmtInt(r.eventsPerSec)} | ${r.blocks ?? '-'} | ${r.flushes !== undefined ? `${r.flushes} (${r.timerFlushes})` : '-'} | ${r.flushSeconds !== undefined ? r.flushSeconds.toFixed(3) : '-'} | ${r.offendersInMemory ?? '-'} | ${db ? fmtInt(db.evidence) : '-'} | ${db && r.mode === 'file' ? `${MB(db.fileBytes)} (+ ${MB(db.walBytes)})` : '-'} | ${r.peakRssMB ? r.peakRssMB.toFixed(0) : '-'} |`);
  }
  const file = results.modes.find((r) => r.mode === 'file');
  const gen = results.modes.find((r) => r.mode === 'generate');
  p();
  if (file) {
    p(`end to end with the file store: ${fmtInt(file.eventsPerSec)} attack events/s (target >= 200,000: ${file.eventsPerSec >= 200_000 ? 'MET' : 'MISSED'})`);
    if (gen) p(`  without the cost of building the events (${gen.seconds.toFixed(3)} s): ${fmtInt(file.events / (file.seconds - gen.seconds))} events/s`);
    const e = file.engine;
    p(`  engine: ${fmtInt(e.events)} events, ${fmtInt(e.scored)} scored, ${fmtInt(e.joined)} joined, ${fmtInt(e.alreadyBlocked)} while already blocked, ${fmtInt(e.blocks)} blocks`);
    p(`  DB: ${fmtInt(file.db.offenders)} offenders, ${fmtInt(file.db.evidence)} evidence rows, ${fmtInt(file.db.blocks)} blocks; ${file.db.pages} pages of ${file.db.pageSize} B (${file.db.freePages} free); file ${MB(file.db.fileBytes)} MB + WAL ${MB(file.db.walBytes)} MB before close, ${MB(file.db.fileBytesAfterClose)} MB after close (checkpoint)`);
    if (file.io) p(`  I/O during the timed run: ${MB(file.io.wchar)} MB written by write() calls (${fmtInt(file.io.writeCalls)} calls), ${MB(file.io.writeBytes)} MB sent to the disk`);
  }
  for (const r of results.modes.filter((m) => m.timings)) {
    p();
    p(`breakdown (${names[r.mode]}): flush ${r.flushSeconds.toFixed(3)} s in ${r.flushes} flushes; by statement/method (addBlock is its own transaction):`);
    for (const [name, t] of Object.entries(r.timings).filter(([, t]) => t.calls > 0).sort((a, b) => b[1].ms - a[1].ms)) {
      p(`  ${name.padEnd(26)} ${fmtInt(t.calls).padStart(10)} calls ${(t.ms / 1000).toFixed(3).padStart(8)} s ${((t.ms * 1000) / t.calls).toFixed(2).padStart(7)} µs/call`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  const jsonOut = opts.json || join(DATA, 'results-policy-store.json');
  writeFileSync(jsonOut, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nresults written to ${relative(ROOT, jsonOut)}`);
}

main().catch((error) => {
  process.stderr.write(`policy-store benchmark failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
