#!/usr/bin/env node
// Instructions executed by a whole `parse` run, counted by valgrind (cachegrind without cache simulation), for
// this tree and optionally an earlier build: a measure that the load of a shared machine does not move, for
// changes worth a few per cent that wall-clock medians here cannot separate from noise.
//
//   node benchmarks/instructions.mjs [--lines 200000] [--runs 3] [--before DIR] [--every-line] [--stage S] [--steady [--sshguard]]
//
// Node runs with --single-threaded (no concurrent compiler or GC threads), so that repeated runs of one build
// agree to about 0.5 %; the count includes start-up, compilation and garbage collection. The input is the first
// --lines lines of benchmarks/data/mixed-1m.log, written once next to it (valgrind slows node down about 15
// times). --before DIR: another built checkout (e.g. `git worktree add /tmp/base main`, `npx tsc -p .` there,
// node_modules symlinked), run alternately with this tree. Start-up alone (`parse /dev/null`) is counted for each.
// --stage split|banner|parse counts benchmarks/parse-stages.mjs instead: the pipeline stopped after that stage
// (of this tree only); the difference between two stages is what the later one costs.
// --steady: what a line costs once start-up and warm-up are over, to a few instructions: the first --lines lines
// and the first 3 × --lines lines are counted, and the difference is divided by the 2 × --lines lines between.
// --sshguard (with --steady): sshg-parser (sshguard 2.4.2, unpacked as for parse.mjs) counted the same way, for a
// ratio that the machine's load does not move (instructions, not time: the two programs need not run as many a second).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_DIR, DATA, ROOT, SSHG_PARSER, ensureComparisonTools, ensureInput, headFile, log, machineInfo, median, parseArgs } from './lib.mjs';

const USAGE = 'usage: node benchmarks/instructions.mjs [--lines N] [--runs N] [--before DIR] [--every-line] [--stage split|banner|parse] [--steady [--sshguard]]';
const opts = parseArgs(process.argv.slice(2), { lines: 200_000, runs: 3, before: '', everyLine: false, stage: '', steady: false, sshguard: false }, USAGE);

if (spawnSync('valgrind', ['--version']).status !== 0) {
  log('valgrind is not installed (apt-get install valgrind)');
  process.exit(2);
}
if (opts.stage && (opts.before || !['split', 'banner', 'parse'].includes(opts.stage))) {
  log(`--stage is split, banner or parse, without --before\n${USAGE}`);
  process.exit(2);
}
if (opts.sshguard && !opts.steady) {
  log(`--sshguard goes with --steady\n${USAGE}`);
  process.exit(2);
}
if (opts.sshguard) ensureComparisonTools({ fail2ban: false });
const corpus = ensureInput(join(DATA, 'mixed-1m.log'));
const input = await headFile(corpus, opts.lines);
const longer = opts.steady ? await headFile(corpus, 3 * opts.lines) : null;

/** Instructions of one `node --single-threaded BUILD/dist/cli/main.js parse --format sshguard ... FILE` */
function instructions(build, file) {
  const command = opts.stage
    ? [join(BENCH_DIR, 'parse-stages.mjs'), opts.stage]
    : [join(build, 'dist/cli/main.js'), 'parse', '--format', 'sshguard', ...(opts.everyLine ? ['--every-line'] : [])];
  return counted(build, ['node', '--single-threaded', ...command, file], 'ignore');
}

/** Instructions of `sshg-parser < FILE` */
function sshguardInstructions(file) {
  const stdin = openSync(file, 'r');
  try {
    return counted('sshg-parser', [SSHG_PARSER], stdin);
  } finally {
    closeSync(stdin);
  }
}

function counted(what, argv, stdin) {
  const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', ...argv];
  const r = spawnSync('valgrind', args, { encoding: 'utf8', stdio: [stdin, 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`valgrind failed for ${what}: ${r.stderr.slice(-500)}`);
  return Number(m[1].replaceAll(',', ''));
}

const builds = [ROOT, ...(opts.before ? [resolve(opts.before)] : [])];
const counts = new Map(builds.map((b) => [b, { run: [], startup: [], longer: [] }]));
for (let i = 0; i < opts.runs; i++) {
  for (const build of builds) {
    counts.get(build).run.push(instructions(build, input));
    if (longer === null) counts.get(build).startup.push(instructions(build, '/dev/null'));
    else counts.get(build).longer.push(instructions(build, longer));
  }
}

const { date, cpu, nproc, node } = machineInfo();
const what = opts.stage ? `, stage ${opts.stage} (benchmarks/parse-stages.mjs)` : opts.everyLine ? ', --every-line' : '';
console.log(`date ${date}; ${nproc} cores, ${cpu}; node ${node}; ${opts.lines} lines${what}, ${opts.runs} runs each`);
if (longer !== null) {
  const between = 2 * opts.lines;
  console.log(`| build | instructions a line, lines ${opts.lines + 1}–${3 * opts.lines} (median) | range |`);
  console.log('|---|---:|---:|');
  const steady = new Map();
  for (const [build, c] of counts) {
    const perLine = c.longer.map((n, i) => (n - c.run[i]) / between);
    steady.set(build, median(perLine));
    console.log(`| ${build} | ${Math.round(median(perLine))} | ${Math.round(Math.min(...perLine))}–${Math.round(Math.max(...perLine))} |`);
  }
  if (opts.before) console.log(`this tree / before: ${(steady.get(ROOT) / steady.get(resolve(opts.before))).toFixed(4)}`);
  if (opts.sshguard) {
    const perLine = (sshguardInstructions(longer) - sshguardInstructions(input)) / between;
    console.log(`| sshg-parser (${SSHG_PARSER.slice(ROOT.length + 1)}) | ${Math.round(perLine)} | one run |`);
    console.log(`sshg-parser / this tree, instructions a line: ${(perLine / steady.get(ROOT)).toFixed(3)}`);
  }
  process.exit(0);
}
console.log('| build | instructions, median | range | start-up (the same command on /dev/null) | per line, start-up excluded |');
console.log('|---|---:|---:|---:|---:|');
for (const [build, c] of counts) {
  const run = median(c.run);
  const startup = median(c.startup);
  const spread = `${(Math.min(...c.run) / 1e9).toFixed(3)}–${(Math.max(...c.run) / 1e9).toFixed(3)} G`;
  console.log(`| ${build} | ${(run / 1e9).toFixed(3)} G | ${spread} | ${(startup / 1e9).toFixed(3)} G | ${Math.round((run - startup) / opts.lines)} |`);
}
if (opts.before) {
  const [after, before] = builds.map((b) => median(counts.get(b).run));
  console.log(`this tree / before: ${(after / before).toFixed(4)}`);
}
