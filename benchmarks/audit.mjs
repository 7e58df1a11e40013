#!/usr/bin/env node
// `logwarden audit` against `logwarden parse` on the same file: how much do attempt correlation and the policy
// add to parsing? Target: audit within 2x the wall time of parse.
//
//   node dist/cli/main.js audit FILE > /dev/null
//   node dist/cli/main.js parse --format sshguard FILE > /dev/null
//
//   node benchmarks/audit.mjs [--file F] [--runs 3] [--build] [--json OUT] [--wait-idle S] [--max-foreign CORES] [--retries N]
//
// The two are run alternately (after one untimed warm-up run each, which also captures audit's summary line), the
// median wall time of --runs runs each is reported, with peak RSS (/usr/bin/time -f %M, else VmHWM polling) and
// CPU time. A run during which other processes used more than --max-foreign cores is discarded and redone.
import { writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import {
  DATA, LOGWARDEN, ROOT, countLines, ensureInput, ensureLogwarden, fmtInt, fmtMB, log, logwardenCommit, machineInfo,
  median, parseArgs, ruleFileCount, timeCommand, timedRun, waitForIdle, warmCache,
} from './lib.mjs';

const USAGE = 'usage: node benchmarks/audit.mjs [--file F] [--runs N] [--build] [--json OUT] [--wait-idle S] [--max-foreign CORES] [--retries N]';
const opts = parseArgs(process.argv.slice(2), {
  file: join(DATA, 'mixed-1m.log'),
  runs: 3,
  build: false,
  json: '',
  waitIdle: 180,
  maxForeign: 0.15,
  retries: 3,
}, USAGE);

async function main() {
  const file = ensureInput(opts.file);
  ensureLogwarden({ build: opts.build });
  const lines = countLines(file);
  const machine = machineInfo();
  const commit = logwardenCommit();
  const rel = relative(ROOT, file);
  const cases = {
    audit: { args: [LOGWARDEN, 'audit', file], command: `node ${relative(ROOT, LOGWARDEN)} audit ${rel} > /dev/null`, runs: [] },
    parse: { args: [LOGWARDEN, 'parse', '--format', 'sshguard', file], command: `node ${relative(ROOT, LOGWARDEN)} parse --format sshguard ${rel} > /dev/null`, runs: [] },
  };
  log(`input ${rel}: ${fmtInt(lines)} lines; logwarden ${commit}, ${ruleFileCount()} rule files; ${machine.nproc} cores, node ${machine.node}`);
  warmCache(file);

  log('warm-up (untimed)...');
  const auditOut = (await timeCommand(process.execPath, cases.audit.args, { capture: true })).stdout;
  const summary = auditOut.trimEnd().split('\n').slice(-3).join('\n');
  await timeCommand(process.execPath, cases.parse.args, {});

  const idleBefore = await waitForIdle({ maxSeconds: opts.waitIdle });
  for (let i = 0; i < opts.runs; i++) {
    for (const name of i % 2 === 0 ? ['audit', 'parse'] : ['parse', 'audit']) {
      const r = await timedRun(name, process.execPath, cases[name].args, {}, opts);
      cases[name].runs.push(r);
      log(`  run ${i + 1}/${opts.runs}: ${name} ${r.seconds.toFixed(3)} s (cpu ${((r.user ?? 0) + (r.sys ?? 0)).toFixed(2)} s), ${fmtMB(r.maxRssKB)} MB RSS`);
    }
  }
  const summarize = (c) => {
    const seconds = median(c.runs.map((r) => r.seconds));
    return {
      command: c.command,
      runs: c.runs.map((r) => +r.seconds.toFixed(3)),
      medianSeconds: +seconds.toFixed(3),
      linesPerSec: Math.round(lines / seconds),
      cpuSeconds: +median(c.runs.map((r) => (r.user ?? NaN) + (r.sys ?? NaN))).toFixed(2),
      peakRssMB: +fmtMB(Math.max(...c.runs.map((r) => r.maxRssKB))),
      foreignCores: c.runs.map((r) => +(r.foreign ?? 0).toFixed(2)),
    };
  };
  const audit = summarize(cases.audit);
  const parse = summarize(cases.parse);
  const ratio = audit.medianSeconds / parse.medianSeconds;
  const results = {
    machine, commit, ruleFiles: ruleFileCount(), input: { file: rel, lines },
    busyCoresBefore: +idleBefore.toFixed(2), audit, parse, ratio: +ratio.toFixed(2), auditSummary: summary,
  };

  const out = [];
  const p = (s = '') => out.push(s);
  p();
  p(`date ${machine.date}; logwarden ${commit} (${results.ruleFiles} rule files); ${machine.nproc} cores, ${machine.cpu}; node ${machine.node}`);
  p(`input ${rel}: ${fmtInt(lines)} lines; other load before timing ${idleBefore.toFixed(2)} cores, at most ${Math.max(...audit.foreignCores, ...parse.foreignCores).toFixed(2)} during a kept run`);
  p();
  p('| command | runs | wall s (median) | lines/s | CPU s (user+sys) | peak RSS MB |');
  p('|---|---:|---:|---:|---:|---:|');
  for (const [name, r] of [['audit', audit], ['parse --format sshguard', parse]]) {
    p(`| logwarden ${name} | ${r.runs.length} | ${r.medianSeconds.toFixed(3)} | ${fmtInt(r.linesPerSec)} | ${r.cpuSeconds.toFixed(2)} | ${r.peakRssMB.toFixed(1)} |`);
  }
  p();
  p(`audit / parse (wall time): ${ratio.toFixed(2)}x  (target <= 2x: ${ratio <= 2 ? 'MET' : 'MISSED'}); by CPU time ${(audit.cpuSeconds / parse.cpuSeconds).toFixed(2)}x`);
  p(`runs (s): audit ${audit.runs.join(', ')}; parse ${parse.runs.join(', ')}`);
  p('audit summary:');
  for (const l of summary.split('\n')) p(`  ${l}`);
  p('commands:');
  p(`  ${audit.command}`);
  p(`  ${parse.command}`);
  process.stdout.write(`${out.join('\n')}\n`);
  const jsonOut = opts.json || join(DATA, `results-audit-${basename(file, '.log')}.json`);
  writeFileSync(jsonOut, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nresults written to ${relative(ROOT, jsonOut)}`);
}

main().catch((error) => {
  process.stderr.write(`audit benchmark failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
