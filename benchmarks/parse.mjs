#!/usr/bin/env node
// Parser throughput, side by side in one run:
//   logwarden parse --format sshguard FILE > /dev/null
//   sshg-parser < FILE > /dev/null                (sshguard 2.4.2, Debian package, unpacked — not installed)
//   fail2ban-regex FILE filter.d/sshd.conf          (fail2ban's own sshd filter, from the same unpacked package)
//
//   node benchmarks/parse.mjs [--file F] [--runs 3] [--fail2ban-lines 200000] [--no-fail2ban] [--no-sshguard]
//                             [--build] [--json OUT]
//
// logwarden and sshg-parser are run alternately (after one untimed counting run each, which also warms up), and
// the median wall time of --runs runs each is reported. fail2ban-regex is slow: it runs once, by default on the
// first 200,000 lines (--fail2ban-lines 0 = the whole file). Peak RSS comes from /usr/bin/time -f %M.
// The input is generated (benchmarks/generate-log.mjs) when missing; the comparison tools are fetched with
// `apt-get download` + `dpkg -x` into benchmarks/data/ when missing.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import {
  DATA, F2B_REGEX, F2B_SSHD_FILTER, LOGWARDEN, ROOT, SSHG_PARSER, countLines, countSshguardOutput, ensureComparisonTools,
  ensureInput, ensureLogwarden, fail2banVersion, foreignLoadMeter, waitForIdle, findFail2banPython, fmtInt, fmtMB, headFile, log, logwardenCommit,
  machineInfo, median, parseArgs, ruleFileCount, sshguardVersion, timeCommand, warmCache,
} from './lib.mjs';

const USAGE = `usage: node benchmarks/parse.mjs [--file F] [--runs N] [--fail2ban-lines N|0] [--no-fail2ban] [--no-sshguard] [--build] [--json OUT] [--wait-idle SECONDS] [--max-foreign CORES] [--retries N] [--every-line]`;

const opts = parseArgs(process.argv.slice(2), {
  file: join(DATA, 'mixed-1m.log'),
  runs: 3,
  fail2banLines: 200_000,
  fail2ban: true,
  sshguard: true,
  build: false,
  json: '',
  waitIdle: 180,
  maxForeign: 0.15,
  retries: 3,
  // sshg-parser prints every matching line; logwarden by default prints each attempt once (correlation)
  everyLine: false,
}, USAGE);

function fileInfo(file) {
  const bytes = statSync(file).size;
  let lines = null, meta = null;
  if (existsSync(`${file}.meta.json`)) {
    meta = JSON.parse(readFileSync(`${file}.meta.json`, 'utf8'));
    if (meta.bytes === bytes) lines = meta.lines;
    else meta = null;
  }
  if (lines === null) lines = countLines(file);
  return { file, bytes, lines, meta };
}

const rate = (info, seconds) => ({ linesPerSec: info.lines / seconds, mbPerSec: info.bytes / 1e6 / seconds });

function byServiceText(byService) {
  return Object.entries(byService).sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}:${n}`).join(' ');
}

async function main() {
  const file = ensureInput(opts.file);
  ensureLogwarden({ build: opts.build });
  ensureComparisonTools({ sshguard: opts.sshguard, fail2ban: opts.fail2ban });
  const info = fileInfo(file);
  const machine = machineInfo();
  const commit = logwardenCommit();
  const mode = opts.everyLine ? ['--every-line'] : [];
  const lwArgs = [LOGWARDEN, 'parse', '--format', 'sshguard', ...mode, file];
  const lwCmd = `node ${relative(ROOT, LOGWARDEN)} parse --format sshguard ${[...mode, relative(ROOT, file)].join(' ')}`;
  log(`input: ${relative(ROOT, file)}: ${fmtInt(info.lines)} lines, ${(info.bytes / 1e6).toFixed(1)} MB`);
  log(`machine: ${machine.nproc} cores, ${machine.cpu}, node ${machine.node}; logwarden ${commit}, ${ruleFileCount()} rule files`);

  warmCache(file);
  const results = { machine, commit, ruleFiles: ruleFileCount(), input: { file: relative(ROOT, file), lines: info.lines, bytes: info.bytes }, tools: {} };

  // -------- untimed counting runs (also the warm-up)
  log('counting attacks (untimed)...');
  const lwCount = countSshguardOutput((await timeCommand(process.execPath, lwArgs, { capture: true })).stdout);
  let sgCount = null;
  if (opts.sshguard) sgCount = countSshguardOutput((await timeCommand(SSHG_PARSER, [], { stdinFile: file, capture: true })).stdout);

  // -------- timed runs, alternating
  const idleBefore = await waitForIdle({ maxSeconds: opts.waitIdle });
  const meter = foreignLoadMeter();
  const timedStart = process.hrtime.bigint();
  meter.start();
  const lwRuns = [], sgRuns = [];
  // one timed run; redone (up to --retries times) when other processes used more than --max-foreign cores meanwhile
  const timed = async (label, cmd, args, options) => {
    for (let attempt = 0; ; attempt++) {
      const m = foreignLoadMeter();
      m.start();
      const r = await timeCommand(cmd, args, options);
      r.foreign = m.stop((r.user ?? 0) + (r.sys ?? 0), r.seconds) ?? 0;
      if (r.foreign <= opts.maxForeign || attempt >= opts.retries) {
        if (r.foreign > opts.maxForeign) log(`  warning: ${label} run kept although other processes used ${r.foreign.toFixed(2)} cores`);
        return r;
      }
      log(`  ${label}: ${r.seconds.toFixed(3)} s discarded (other processes used ${r.foreign.toFixed(2)} cores); waiting and retrying`);
      await waitForIdle({ maxSeconds: opts.waitIdle });
    }
  };
  for (let i = 0; i < opts.runs; i++) {
    const lw = await timed('logwarden', process.execPath, lwArgs, {});
    lwRuns.push(lw);
    log(`  run ${i + 1}/${opts.runs}: logwarden ${lw.seconds.toFixed(3)} s (cpu ${(lw.user + lw.sys).toFixed(2)} s), ${fmtMB(lw.maxRssKB)} MB RSS`);
    if (opts.sshguard) {
      const sg = await timed('sshg-parser', SSHG_PARSER, [], { stdinFile: file });
      sgRuns.push(sg);
      log(`  run ${i + 1}/${opts.runs}: sshg-parser ${sg.seconds.toFixed(3)} s (cpu ${(sg.user + sg.sys).toFixed(2)} s), ${fmtMB(sg.maxRssKB)} MB RSS`);
    }
  }
  void meter;
  void timedStart;
  // the worst foreign load among the kept runs (disturbed runs were redone)
  const foreign = Math.max(0, ...[...lwRuns, ...sgRuns].map((r) => r.foreign ?? 0));
  results.load = { busyCoresBefore: +idleBefore.toFixed(2), foreignBusyCoresDuringTiming: +foreign.toFixed(2) };
  const summarize = (runs) => {
    const seconds = median(runs.map((r) => r.seconds));
    return {
      runs: runs.map((r) => +r.seconds.toFixed(3)),
      medianSeconds: +seconds.toFixed(3),
      ...rate(info, seconds),
      peakRssMB: +fmtMB(Math.max(...runs.map((r) => r.maxRssKB))),
      bestSeconds: +Math.min(...runs.map((r) => r.seconds)).toFixed(3),
      userSeconds: +median(runs.map((r) => r.user ?? NaN)).toFixed(2),
      sysSeconds: +median(runs.map((r) => r.sys ?? NaN)).toFixed(2),
      cpuSeconds: +median(runs.map((r) => (r.user ?? NaN) + (r.sys ?? NaN))).toFixed(2),
      foreignCores: runs.map((r) => +(r.foreign ?? 0).toFixed(2)),
    };
  };
  results.tools.logwarden = { command: `${lwCmd} > /dev/null`, lines: info.lines, ...summarize(lwRuns), attacks: lwCount };
  if (opts.sshguard) {
    results.tools.sshgParser = {
      version: sshguardVersion(),
      command: `${relative(ROOT, SSHG_PARSER)} < ${relative(ROOT, file)} > /dev/null`,
      lines: info.lines,
      ...summarize(sgRuns),
      attacks: sgCount,
    };
  }

  // -------- fail2ban-regex, once, on a prefix of the file
  if (opts.fail2ban) {
    const py = findFail2banPython();
    const subset = opts.fail2banLines > 0 && opts.fail2banLines < info.lines ? await headFile(file, opts.fail2banLines) : file;
    const subInfo = subset === file ? info : fileInfo(subset);
    log(`fail2ban-regex on ${relative(ROOT, subset)} (${fmtInt(subInfo.lines)} lines) with ${py.executable} (Python ${py.version})...`);
    warmCache(subset);
    await waitForIdle({ maxSeconds: opts.waitIdle });
    const env = { ...process.env, PYTHONPATH: py.pythonPath };
    const f2bArgs = [F2B_REGEX, subset, F2B_SSHD_FILTER];
    const f2bMeter = foreignLoadMeter();
    f2bMeter.start();
    const r = await timeCommand(py.python, f2bArgs, { env, capture: true });
    const f2bForeign = f2bMeter.stop((r.user ?? 0) + (r.sys ?? 0), r.seconds);
    if (results.load) results.load.foreignBusyCoresDuringFail2ban = f2bForeign === null ? null : +f2bForeign.toFixed(2);
    const m = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(r.stdout);
    const processed = /\[processed in ([\d.]+) sec\]/.exec(r.stdout);
    log(`  fail2ban-regex ${r.seconds.toFixed(3)} s, ${fmtMB(r.maxRssKB)} MB RSS`);
    // the same prefix through the other two, untimed, for the SSH attack counts
    const lwSub = subset === file ? lwCount : countSshguardOutput((await timeCommand(process.execPath, [LOGWARDEN, 'parse', '--format', 'sshguard', ...mode, subset], { capture: true })).stdout);
    const sgSub = !opts.sshguard ? null : subset === file ? sgCount : countSshguardOutput((await timeCommand(SSHG_PARSER, [], { stdinFile: subset, capture: true })).stdout);
    results.tools.fail2ban = {
      version: fail2banVersion(),
      python: `${py.executable} ${py.version}`,
      command: `PYTHONPATH=${relative(ROOT, py.pythonPath)} ${py.python} ${relative(ROOT, F2B_REGEX)} ${relative(ROOT, subset)} ${relative(ROOT, F2B_SSHD_FILTER)}`,
      input: relative(ROOT, subset),
      lines: subInfo.lines,
      runs: [+r.seconds.toFixed(3)],
      medianSeconds: +r.seconds.toFixed(3),
      ...rate(subInfo, r.seconds),
      processedSeconds: processed ? Number(processed[1]) : null,
      cpuSeconds: r.user !== null ? +(r.user + r.sys).toFixed(2) : NaN,
      peakRssMB: +fmtMB(r.maxRssKB),
      counts: m ? { lines: +m[1], ignored: +m[2], matched: +m[3], missed: +m[4] } : null,
      sameSubset: {
        logwardenSsh: lwSub.byService['100'] ?? 0,
        logwardenAll: lwSub.total,
        sshgParserSsh: sgSub ? sgSub.byService['100'] ?? 0 : null,
        sshgParserAll: sgSub ? sgSub.total : null,
      },
    };
  }

  report(results, info);
  const out = opts.json || join(DATA, `results-parse-${basename(file, '.log')}.json`);
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nresults written to ${relative(ROOT, out)}`);
}

function report(results, info) {
  const t = results.tools;
  const lines = [];
  const p = (s = '') => lines.push(s);
  p();
  p(`date ${results.machine.date}; logwarden ${results.commit} (${results.ruleFiles} rule files); ${results.machine.nproc} cores, ${results.machine.cpu}; node ${results.machine.node}`);
  if (results.load) p(`other load: ${results.load.busyCoresBefore} cores busy before timing, ${results.load.foreignBusyCoresDuringTiming} cores at most used by other processes during a kept timed run${results.load.foreignBusyCoresDuringFail2ban !== undefined ? `, ${results.load.foreignBusyCoresDuringFail2ban} during fail2ban-regex` : ''} (of ${results.machine.nproc})`);
  p(`input ${results.input.file}: ${fmtInt(info.lines)} lines, ${(info.bytes / 1e6).toFixed(1)} MB, ${(info.bytes / info.lines).toFixed(0)} B/line`);
  p();
  p('| tool | input lines | runs | wall s (median) | lines/s | MB/s | CPU s (user+sys) | peak RSS MB |');
  p('|---|---:|---:|---:|---:|---:|---:|---:|');
  const row = (name, r) =>
    p(`| ${name} | ${fmtInt(r.lines)} | ${r.runs.length} | ${r.medianSeconds.toFixed(3)} | ${fmtInt(r.linesPerSec)} | ${r.mbPerSec.toFixed(1)} | ${Number.isFinite(r.cpuSeconds) ? r.cpuSeconds.toFixed(2) : '-'} | ${r.peakRssMB.toFixed(1)} |`);
  row('logwarden parse --format sshguard', t.logwarden);
  if (t.sshgParser) row(`sshg-parser ${t.sshgParser.version}`, t.sshgParser);
  if (t.fail2ban) row(`fail2ban-regex ${t.fail2ban.version}, sshd filter${t.fail2ban.lines < info.lines ? ` (first ${fmtInt(t.fail2ban.lines)} lines)` : ''}`, t.fail2ban);
  p();
  if (t.sshgParser) {
    const ratio = t.logwarden.linesPerSec / t.sshgParser.linesPerSec;
    results.ratioVsSshgParser = +ratio.toFixed(2);
    p(`logwarden / sshg-parser (lines/s): ${ratio.toFixed(2)}x  (target >= 2x: ${ratio >= 2 ? 'MET' : 'MISSED'}); by CPU time: ${(t.sshgParser.cpuSeconds / t.logwarden.cpuSeconds).toFixed(2)}x; best run vs best run: ${(t.sshgParser.bestSeconds / t.logwarden.bestSeconds).toFixed(2)}x`);
  }
  if (t.fail2ban) {
    const ratio = t.logwarden.linesPerSec / t.fail2ban.linesPerSec;
    results.ratioVsFail2ban = +ratio.toFixed(1);
    p(`logwarden / fail2ban-regex (lines/s): ${ratio.toFixed(1)}x`);
  }
  p(`logwarden peak RSS ${t.logwarden.peakRssMB.toFixed(1)} MB (target < 100 MB: ${t.logwarden.peakRssMB < 100 ? 'MET' : 'MISSED'})`);
  p(`runs (s): logwarden ${t.logwarden.runs.join(', ')}${t.sshgParser ? `; sshg-parser ${t.sshgParser.runs.join(', ')}` : ''}`);
  p();
  p('attack lines printed (SERVICE ADDR KIND DANGER), whole input:');
  if (info.meta) p(`  generator's labels: ${fmtInt(info.meta.attackLines)} attack lines (${(info.meta.ipv6ShareOfAttacks * 100).toFixed(1)}% IPv6)`);
  p(`  logwarden:   ${fmtInt(t.logwarden.attacks.total)} (IPv6 ${fmtInt(t.logwarden.attacks.ipv6)}); by service ${byServiceText(t.logwarden.attacks.byService)}`);
  if (t.sshgParser) {
    p(`  sshg-parser: ${fmtInt(t.sshgParser.attacks.total)} (IPv6 ${fmtInt(t.sshgParser.attacks.ipv6)}); by service ${byServiceText(t.sshgParser.attacks.byService)}`);
    p(`  logwarden/sshg-parser attack count: ${(t.logwarden.attacks.total / t.sshgParser.attacks.total).toFixed(3)}`);
  }
  if (t.fail2ban?.counts) {
    const c = t.fail2ban.counts, s = t.fail2ban.sameSubset;
    p(`on ${t.fail2ban.input} (SSH only, service 100):`);
    p(`  fail2ban-regex: ${fmtInt(c.matched)} matched, ${fmtInt(c.ignored)} ignored (F-NOFAIL helpers such as Accepted/Received disconnect), ${fmtInt(c.missed)} missed`);
    p(`  logwarden: ${fmtInt(s.logwardenSsh)} SSH attacks${s.sshgParserSsh !== null ? `; sshg-parser: ${fmtInt(s.sshgParserSsh)}` : ''}`);
    p(`  fail2ban ran with ${t.fail2ban.python}; its own timer said ${t.fail2ban.processedSeconds} s (the wall time above includes Python start-up)`);
  }
  p();
  p('commands:');
  p(`  ${t.logwarden.command}`);
  if (t.sshgParser) p(`  ${t.sshgParser.command}`);
  if (t.fail2ban) p(`  ${t.fail2ban.command}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`parse benchmark failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
