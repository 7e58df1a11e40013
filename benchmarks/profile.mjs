#!/usr/bin/env node
// Where does logwarden's parse time go? Runs `node --cpu-prof dist/cli/main.js parse --format sshguard FILE`
// and summarises the .cpuprofile: self time per function (top N) and inclusive time of a few stages.
//
//   node benchmarks/profile.mjs [--file F] [--top 25] [--profile EXISTING.cpuprofile]
//
// The profile is kept in benchmarks/data/profiles/ (open it in Chrome DevTools → Performance, or speedscope).
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DATA, LOGWARDEN, ROOT, ensureInput, ensureLogwarden, log, parseArgs, run } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), { file: join(DATA, 'mixed-1m.log'), top: 25, profile: '', build: false },
  'usage: node benchmarks/profile.mjs [--file F] [--top N] [--profile EXISTING.cpuprofile] [--build]');

function newestProfile(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0];
}

function main() {
  let path = opts.profile;
  if (!path) {
    ensureLogwarden({ build: opts.build });
    const file = ensureInput(opts.file);
    const dir = join(DATA, 'profiles');
    mkdirSync(dir, { recursive: true });
    log(`node --cpu-prof ${relative(ROOT, LOGWARDEN)} parse --format sshguard ${relative(ROOT, file)} > /dev/null`);
    run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, LOGWARDEN, 'parse', '--format', 'sshguard', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    path = newestProfile(dir);
  }
  const prof = JSON.parse(readFileSync(path, 'utf8'));
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // sample counts weighted by time deltas
  const selfUs = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const keyOf = (n) => {
    const f = n.callFrame;
    const url = f.url ? f.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '') : '';
    return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
  };
  const self = new Map();
  for (const [id, us] of selfUs) {
    const k = keyOf(nodes.get(id));
    self.set(k, (self.get(k) ?? 0) + us);
  }
  // inclusive time per function (counted once per sample even when recursive)
  const incl = new Map();
  for (const [id, us] of selfUs) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(nodes.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
  }
  const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
  const out = [];
  out.push(`profile ${relative(ROOT, path)}: ${(total / 1e6).toFixed(3)} s sampled`);
  out.push('');
  out.push(`top ${opts.top} by self time:`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, opts.top)) out.push(`  ${ms(us)} ${pct(us)}  ${k}`);
  out.push('');
  out.push(`top ${opts.top} by inclusive time (functions of logwarden and node internals):`);
  for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).filter(([k]) => !k.startsWith('(root)')).slice(0, opts.top)) out.push(`  ${ms(us)} ${pct(us)}  ${k}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
