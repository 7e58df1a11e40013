#!/usr/bin/env node
// Start-up time of the CLI: each case is a fresh `node dist/cli/main.js ...` process, timed from spawn to exit.
//   logwarden rules list            (loads the rules, prints them)
//   logwarden parse EMPTY-FILE      (the parse pipeline on nothing)
//   logwarden --help                (the list of commands)
//   logwarden run --help            (one command's options)
//
//   node benchmarks/startup.mjs [--runs 21] [--before DIR] [--wait-idle 60]
//
// --before DIR: another built checkout (e.g. a `git archive` of an earlier commit, built with tsc, node_modules
// symlinked) whose dist/cli/main.js is run alternately with this tree's, so that both see the same machine load.
// Besides wall time (median of --runs), it counts the JavaScript files each case loads (a module hook given with
// --import, in a separate untimed run): a number that load on the machine does not change.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT, log, machineInfo, median, parseArgs, waitForIdle } from './lib.mjs';

const USAGE = 'usage: node benchmarks/startup.mjs [--runs N] [--before DIR] [--wait-idle SECONDS]';
const opts = parseArgs(process.argv.slice(2), { runs: 21, before: '', waitIdle: 60 }, USAGE);

const work = mkdtempSync(join(tmpdir(), 'logwarden-startup-'));
const empty = join(work, 'empty.log');
writeFileSync(empty, '');
// Records every file: URL loaded, into the file named by LOGWARDEN_BENCH_LOADED
const hooks = join(work, 'hooks.mjs');
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.LOGWARDEN_BENCH_LOADED, url + '\\n');
  return next(url, context);
}
`,
);
const register = join(work, 'register.mjs');
writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`);

const CASES = [
  ['rules list', ['rules', 'list']],
  ['parse (empty file)', ['parse', empty]],
  ['--help', ['--help']],
  ['run --help', ['run', '--help']],
];

const trees = [...(opts.before ? [['before', resolve(opts.before)]] : []), ['this tree', ROOT]];

function once(tree, args, extra = [], env = process.env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...extra, join(tree, 'dist/cli/main.js'), ...args], { cwd: work, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${tree}: logwarden ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
  return ms;
}

function loadedFiles(tree, args) {
  const list = join(work, 'loaded.txt');
  rmSync(list, { force: true });
  once(tree, args, ['--import', register], { ...process.env, LOGWARDEN_BENCH_LOADED: list });
  const urls = readFileSync(list, 'utf8').trim().split('\n');
  return { total: urls.length, deps: urls.filter((u) => u.includes('/node_modules/')).length };
}

const busy = await waitForIdle({ maxSeconds: opts.waitIdle });
const times = new Map();
for (const [, tree] of trees) for (const [label, args] of CASES) once(tree, args); // warm the page cache
for (let i = 0; i < opts.runs; i++) {
  for (const [label, args] of CASES) {
    for (const [name, tree] of trees) {
      const key = `${name}\t${label}`;
      if (!times.has(key)) times.set(key, []);
      times.get(key).push(once(tree, args));
    }
  }
}
const baseline = [];
for (let i = 0; i < opts.runs; i++) {
  const start = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0']);
  baseline.push(Number(process.hrtime.bigint() - start) / 1e6);
}

const m = machineInfo();
log(`machine: ${m.cpu ?? ''} ${m.nproc ?? ''} cores; other load before timing: ${busy.toFixed(2)} cores; ${opts.runs} runs per case`);
const header = ['case', ...trees.map(([name]) => `${name}: median ms (min–max)`), ...trees.map(([name]) => `${name}: files loaded (of them node_modules)`)];
const rows = CASES.map(([label, args]) => {
  const cells = [label];
  for (const [name] of trees) {
    const t = times.get(`${name}\t${label}`);
    cells.push(`${median(t).toFixed(0)} (${Math.min(...t).toFixed(0)}–${Math.max(...t).toFixed(0)})`);
  }
  for (const [, tree] of trees) {
    const f = loadedFiles(tree, args);
    cells.push(`${f.total} (${f.deps})`);
  }
  return cells;
});
rows.push([`for scale: node -e 0`, ...trees.map(() => `${median(baseline).toFixed(0)}`), ...trees.map(() => '')]);
process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => ' --- ').join('|')}|\n`);
for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
rmSync(work, { recursive: true, force: true });
