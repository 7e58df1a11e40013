// ipset and iptables backend timings in a throwaway network namespace (nothing of the host's firewall or sets is
// touched: ipset sets, like iptables rules, belong to a network namespace). The script creates the namespace,
// runs itself inside it (`ip netns exec NS node ... --inner`, so each command is spawned as logwarden would spawn
// it, without an `ip netns exec` per command), and deletes the namespace at the end, whatever happens.
// Measures: one `ipset restore -exist` batch of 10,000 blocks; single-block latency (one `ipset restore` process
// per block, as apply renders it, and one plain `ipset add` process per block); setup + sync of 50,000 active
// blocks and the restart case (everything already there); the same 10,000 blocks through iptables-restore, and
// the per-rule cost of the iptables backend when it does not know the kernel's state.
// Documentation addresses only (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
// Needs root and `npx tsc -p .` first.
// Usage: node benchmarks/firewall-ipset.mjs [--batch 10000] [--singles 200] [--sync 50000] [--runs 3] [--per-rule 100]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ROOT, logwardenCommit, machineInfo, median, parseArgs } from './lib.mjs';

const USAGE = 'node benchmarks/firewall-ipset.mjs [--batch 10000] [--singles 200] [--sync 50000] [--runs 3] [--per-rule 100]';
const argv = process.argv.slice(2);
const inner = argv.includes('--inner');
const opts = parseArgs(
  argv.filter((a) => a !== '--inner'),
  { batch: 10000, singles: 200, sync: 50000, runs: 3, perRule: 100 },
  USAGE,
);

if (!inner) {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  const NS = `lwbench${randomBytes(3).toString('hex')}`;
  if (spawnSync('ip', ['netns', 'add', NS]).status !== 0) throw new Error('cannot create a network namespace');
  let status = 1;
  try {
    const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, ...process.argv.slice(1), '--inner'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 26 });
    status = r.status ?? 1;
    if (status === 0) {
      const results = JSON.parse(r.stdout);
      const m = machineInfo();
      process.stdout.write(report(results, m));
    }
  } finally {
    spawnSync('ip', ['netns', 'del', NS]); // takes the namespace's sets, chains and rules with it
  }
  process.exit(status);
}

// ------------------------------------------------------------------ inside the namespace
const { ipsetBackend } = await import(join(ROOT, 'dist/firewall/ipset.js'));
const { iptablesBackend } = await import(join(ROOT, 'dist/firewall/iptables.js'));
const { execute, runOne } = await import(join(ROOT, 'dist/firewall/executor.js'));
const { syncOperations } = await import(join(ROOT, 'dist/firewall/backend.js'));
const { canonicalIP } = await import(join(ROOT, 'dist/parse/address.js'));

// a fresh namespace has only `lo`: refuse to run anywhere else
const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.trim().split('\n');
if (links.length !== 1 || !/^\d+: lo:/.test(links[0])) throw new Error('not in a fresh network namespace: refusing to touch this firewall');

const log = (msg) => process.stderr.write(`${msg}\n`);
const o = { name: 'logwarden', hooks: ['input'], priority: -10 };
const now = () => process.hrtime.bigint();
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const pct = (values, p) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const V4 = ['192.0.2', '198.51.100', '203.0.113'].flatMap((p) => Array.from({ length: 256 }, (_, i) => `${p}.${i}`));
/** The i-th test network: the 768 IPv4 documentation addresses first, then 2001:db8::/32 addresses. */
function net(i) {
  if (i < V4.length) return { addr: V4[i], cidr: 32, kind: 4 };
  const j = i - V4.length;
  return { addr: canonicalIP(`2001:db8:${(j >> 16).toString(16)}::${(j & 0xffff).toString(16)}`).addr, cidr: 128, kind: 6 };
}
const entries = (count, offset = 0) => Array.from({ length: count }, (_, i) => ({ net: net(i + offset), timeout: i % 10 === 0 ? null : 3600 + i }));
const blocks = (list) => list.map((entry) => ({ op: 'block', entry }));
const ipsetCount = () => ['logwarden-block4', 'logwarden-block6'].reduce((sum, set) => sum + (spawnSync('ipset', ['list', set, '-output', 'save'], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout.match(/^add /gm) ?? []).length, 0);
const xtCount = () => ['iptables', 'ip6tables'].reduce((sum, cmd) => sum + (spawnSync(cmd, ['-w', '-S', 'logwarden-blk'], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout.match(/ -j DROP$/gm) ?? []).length, 0);
const versions = {
  ipset: spawnSync('ipset', ['--version'], { encoding: 'utf8' }).stdout.trim(),
  iptables: spawnSync('iptables', ['--version'], { encoding: 'utf8' }).stdout.trim(),
  kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
};
const R = { opts, versions };
const allow = [net(10), net(V4.length + 10)];

// 1. one ipset restore batch of N blocks, on empty sets, `runs` times
log(`ipset: ${opts.batch} blocks in one batch...`);
const batchEntries = entries(opts.batch);
const batchTimes = [];
for (let r = 0; r < opts.runs; r++) {
  await execute(ipsetBackend.teardown(o));
  await execute(ipsetBackend.setup(o, allow));
  const inv = ipsetBackend.apply(o, blocks(batchEntries));
  if (inv.length !== 1) throw new Error('expected one invocation');
  const t0 = now();
  await execute(inv);
  batchTimes.push(ms(t0));
  if (ipsetCount() !== opts.batch) throw new Error(`expected ${opts.batch} elements, found ${ipsetCount()}`);
}
const t0re = now();
await execute(ipsetBackend.apply(o, blocks(batchEntries))); // the same batch again: every element refreshed
R.ipsetBatch = { runs: batchTimes, median: median(batchTimes), reAdd: ms(t0re) };

// 2. single-block latency with the 10,000 blocks in place: one process per block
log(`ipset: ${opts.singles} single blocks...`);
const viaRestore = [];
const viaAdd = [];
const viaTrue = []; // the floor: spawning a process that does nothing
for (let i = 0; i < opts.singles; i++) {
  const e = { net: net(opts.batch + i), timeout: 600 };
  const t0 = now();
  await execute(ipsetBackend.apply(o, [{ op: 'block', entry: e }]));
  viaRestore.push(ms(t0));
  const f = net(opts.batch + opts.singles + i);
  const t1 = now();
  const r = await runOne({ argv: ['ipset', 'add', `logwarden-block${f.kind}`, f.addr, 'timeout', '600', '-exist'] });
  viaAdd.push(ms(t1));
  if (r.code !== 0) throw new Error(r.stderr);
  const t2 = now();
  await runOne({ argv: ['true'] });
  viaTrue.push(ms(t2));
}
R.singles = {
  restore: { p50: pct(viaRestore, 50), p99: pct(viaRestore, 99), max: Math.max(...viaRestore) },
  add: { p50: pct(viaAdd, 50), p99: pct(viaAdd, 99), max: Math.max(...viaAdd) },
  true: { p50: pct(viaTrue, 50), p99: pct(viaTrue, 99), max: Math.max(...viaTrue) },
};

// 3. setup + sync of N active blocks from nothing, then the restart case (all present)
log(`ipset: setup + sync of ${opts.sync} blocks...`);
await execute(ipsetBackend.teardown(o));
const desired = entries(opts.sync);
const sync = async () => {
  const t = { t0: now() };
  await execute(ipsetBackend.setup(o, allow));
  t.setup = ms(t.t0);
  const outputs = await execute(ipsetBackend.list(o));
  t.list = ms(t.t0) - t.setup;
  const state = ipsetBackend.parseList(o, outputs);
  const ops = syncOperations(desired, state);
  t.parse = ms(t.t0) - t.setup - t.list;
  await execute(ipsetBackend.apply(o, ops));
  t.total = ms(t.t0);
  t.apply = t.total - t.setup - t.list - t.parse;
  t.ops = ops.length;
  delete t.t0;
  return t;
};
R.sync = await sync();
if (ipsetCount() !== opts.sync) throw new Error(`expected ${opts.sync} elements, found ${ipsetCount()}`);
R.resync = await sync();
await execute(ipsetBackend.teardown(o));

// 4. iptables: the same N blocks in one iptables-restore (+ ip6tables-restore) batch; then the per-rule path
log(`iptables: ${opts.batch} blocks in one batch per family...`);
const xtTimes = [];
const empty = { present: true, blocks: [], allow: [] };
for (let r = 0; r < opts.runs; r++) {
  await execute(iptablesBackend.teardown(o));
  await execute(iptablesBackend.setup(o, allow));
  const inv = iptablesBackend.apply(o, blocks(batchEntries), empty); // state known: one restore per family
  const t0 = now();
  await execute(inv);
  xtTimes.push(ms(t0));
  if (xtCount() !== opts.batch) throw new Error(`expected ${opts.batch} rules, found ${xtCount()}`);
}
R.xtBatch = { runs: xtTimes, median: median(xtTimes), invocations: iptablesBackend.apply(o, blocks(batchEntries), empty).length };
// without the state: one tolerant `-D` process per source, with the 10,000 rules in place
const extra = entries(opts.perRule, opts.batch);
const inv = iptablesBackend.apply(o, blocks(extra));
const t0x = now();
await execute(inv);
R.xtPerRule = { blocks: opts.perRule, invocations: inv.length, ms: ms(t0x), perBlock: ms(t0x) / opts.perRule };
const state = iptablesBackend.parseList(o, await execute(iptablesBackend.list(o)));
const t0s = now();
await execute(iptablesBackend.apply(o, blocks(extra), state)); // the same blocks, state known: nothing to do
R.xtKnown = { ms: ms(t0s), invocations: iptablesBackend.apply(o, blocks(extra), state).length };
await execute(iptablesBackend.teardown(o));
process.stdout.write(JSON.stringify(R));

// ------------------------------------------------------------------ report (outer process)
function report(r, machine) {
  const f = (x) => (x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));
  const n = (x) => x.toLocaleString('en-US');
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  return `## Firewall: ipset and iptables

Measured ${date} UTC, logwarden commit **${logwardenCommit()}**, built with \`npx tsc -p .\`; ${r.versions.ipset},
${r.versions.iptables}, Linux ${r.versions.kernel}; ${machine.nproc} cores (${machine.cpu}), Node ${machine.node}.

Command: \`node benchmarks/firewall-ipset.mjs\` (defaults: --batch ${r.opts.batch} --singles ${r.opts.singles} --sync ${r.opts.sync}
--runs ${r.opts.runs} --per-rule ${r.opts.perRule}). Runs in a network namespace it creates and deletes; the commands are spawned
inside it directly (as logwarden spawns them, no \`ip netns exec\` per command). Test networks: the 768 IPv4 documentation
addresses, then addresses in 2001:db8::/32 (so a batch of 10,000 is 768 IPv4 + 9,232 IPv6); every tenth block permanent.

| operation | result | target |
|---|---:|---|
| ${n(r.opts.batch)} blocks, one \`ipset restore -exist\` (empty sets; median of ${r.opts.runs}: ${r.ipsetBatch.runs.map(f).join(', ')} ms) | **${f(r.ipsetBatch.median)} ms** | < 1 s |
| the same ${n(r.opts.batch)} again (every element present: timeouts refreshed) | ${f(r.ipsetBatch.reAdd)} ms | |
| single block, one \`ipset restore -exist\` process (as apply renders it), ${r.opts.singles} blocks, ${n(r.opts.batch)} in the set | p50 **${f(r.singles.restore.p50)} ms**, p99 **${f(r.singles.restore.p99)} ms** (max ${f(r.singles.restore.max)}) | p99 < 20 ms |
| single block, one plain \`ipset add -exist\` process | p50 ${f(r.singles.add.p50)} ms, p99 ${f(r.singles.add.p99)} ms (max ${f(r.singles.add.max)}) | |
| for scale: spawning \`true\` the same way | p50 ${f(r.singles.true.p50)} ms, p99 ${f(r.singles.true.p99)} ms (max ${f(r.singles.true.max)}) | |
| setup + sync of ${n(r.opts.sync)} active blocks from nothing (${n(r.sync.ops)} ops) | **${f(r.sync.total)} ms** (setup ${f(r.sync.setup)}, list ${f(r.sync.list)}, parse + diff ${f(r.sync.parse)}, apply ${f(r.sync.apply)}) | |
| setup + sync again, all ${n(r.opts.sync)} present (a restart) | ${f(r.resync.total)} ms (list ${f(r.resync.list)}, parse + diff ${f(r.resync.parse)}, ${r.resync.ops} ops) | |
| iptables: the same ${n(r.opts.batch)} blocks, one iptables-restore + one ip6tables-restore (state known; median of ${r.opts.runs}: ${r.xtBatch.runs.map(f).join(', ')} ms) | ${f(r.xtBatch.median)} ms | |
| iptables: ${r.xtPerRule.blocks} more blocks without the kernel state (one tolerant \`-D\` process per block + one restore per family; ${n(r.opts.batch)} rules in place) | ${f(r.xtPerRule.ms)} ms = **${f(r.xtPerRule.perBlock)} ms per block** | |
| iptables: the same ${r.xtPerRule.blocks} blocks with the state known (already there: ${r.xtKnown.invocations} invocations) | ${f(r.xtKnown.ms)} ms | |

`;
}
