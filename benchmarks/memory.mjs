#!/usr/bin/env node
// logwarden's memory stays bounded whatever the input size: peak RSS of `logwarden parse --format sshguard` on
// an empty input (start-up cost), the 1M-line mix and a 5M-line mix (generated when missing), read from a file
// argument and from standard input.
//
//   node benchmarks/memory.mjs [--lines 5000000] [--limit-mb 100] [--no-stdin] [--build] [--json OUT]
//
// Peak RSS comes from /usr/bin/time -f %M (else /proc/PID/status VmHWM). Exits 1 when a run reaches the limit.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  DATA, LOGWARDEN, ROOT, ensureInput, ensureLogwarden, fmtInt, fmtMB, log, logwardenCommit, machineInfo, parseArgs,
  ruleFileCount, timeCommand, waitForIdle, warmCache,
} from './lib.mjs';
import { shortCount } from './generate-log.mjs';

const USAGE = 'usage: node benchmarks/memory.mjs [--lines N] [--limit-mb 100] [--no-stdin] [--build] [--json OUT] [--wait-idle SECONDS]';
const opts = parseArgs(process.argv.slice(2), { lines: 5_000_000, limitMb: 100, stdin: true, build: false, json: '', waitIdle: 120 }, USAGE);

async function main() {
  ensureLogwarden({ build: opts.build });
  const small = ensureInput(join(DATA, 'mixed-1m.log'));
  const big = ensureInput(join(DATA, `mixed-${shortCount(opts.lines)}.log`));
  const cases = [
    { name: 'empty input (start-up)', file: '/dev/null', lines: 0, via: 'file' },
    { name: '1M lines', file: small, lines: 1_000_000, via: 'file' },
    { name: `${shortCount(opts.lines).toUpperCase()} lines`, file: big, lines: opts.lines, via: 'file' },
  ];
  if (opts.stdin) {
    cases.push({ name: '1M lines', file: small, lines: 1_000_000, via: 'stdin' });
    cases.push({ name: `${shortCount(opts.lines).toUpperCase()} lines`, file: big, lines: opts.lines, via: 'stdin' });
  }
  const results = { machine: machineInfo(), commit: logwardenCommit(), ruleFiles: ruleFileCount(), limitMB: opts.limitMb, cases: [] };
  for (const c of cases) {
    if (c.file !== '/dev/null') warmCache(c.file);
    await waitForIdle({ maxSeconds: opts.waitIdle });
    const args = c.via === 'file' ? [LOGWARDEN, 'parse', '--format', 'sshguard', c.file] : [LOGWARDEN, 'parse', '--format', 'sshguard', '-'];
    const r = await timeCommand(process.execPath, args, c.via === 'stdin' ? { stdinFile: c.file } : {});
    const command = c.via === 'file'
      ? `node ${relative(ROOT, LOGWARDEN)} parse --format sshguard ${c.file === '/dev/null' ? '/dev/null' : relative(ROOT, c.file)} > /dev/null`
      : `node ${relative(ROOT, LOGWARDEN)} parse --format sshguard - < ${relative(ROOT, c.file)} > /dev/null`;
    const row = { ...c, file: c.file === '/dev/null' ? c.file : relative(ROOT, c.file), command, seconds: +r.seconds.toFixed(3), peakRssMB: +fmtMB(r.maxRssKB) };
    results.cases.push(row);
    log(`  ${c.name} via ${c.via}: ${r.seconds.toFixed(2)} s, peak RSS ${row.peakRssMB} MB`);
  }
  const lines = [];
  const p = (s = '') => lines.push(s);
  p();
  p(`date ${results.machine.date}; logwarden ${results.commit} (${results.ruleFiles} rule files); node ${results.machine.node}`);
  p();
  p('| input | read from | wall s | lines/s | peak RSS MB |');
  p('|---|---|---:|---:|---:|');
  for (const r of results.cases) {
    p(`| ${r.name} | ${r.via === 'file' ? 'file argument' : 'standard input'} | ${r.seconds.toFixed(2)} | ${r.lines ? fmtInt(r.lines / r.seconds) : '-'} | ${r.peakRssMB.toFixed(1)} |`);
  }
  const worst = Math.max(...results.cases.map((r) => r.peakRssMB));
  const file1 = results.cases.find((r) => r.lines === 1_000_000 && r.via === 'file');
  const fileBig = results.cases.find((r) => r.lines === opts.lines && r.via === 'file');
  p();
  p(`peak RSS ${fileBig.name} vs 1M lines: ${fileBig.peakRssMB.toFixed(1)} MB vs ${file1.peakRssMB.toFixed(1)} MB (${(fileBig.peakRssMB - file1.peakRssMB >= 0 ? '+' : '')}${(fileBig.peakRssMB - file1.peakRssMB).toFixed(1)} MB for ${(opts.lines / 1e6).toFixed(0)}x the input)`);
  p(`worst peak RSS ${worst.toFixed(1)} MB: ${worst < opts.limitMb ? 'under' : 'NOT under'} the ${opts.limitMb} MB limit`);
  p();
  p('commands:');
  for (const r of results.cases) p(`  ${r.command}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const out = opts.json || join(DATA, 'results-memory.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nresults written to ${relative(ROOT, out)}`);
  if (worst >= opts.limitMb) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`memory benchmark failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
