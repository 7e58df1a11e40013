// nftables backend timings in a throwaway network namespace (nothing of the host's ruleset is touched):
// one batch of 10,000 blocks, single-block latency through `nft -f -` per block and through a long-lived
// `nft -i`, and setup + sync of 50,000 active blocks. Needs root and `npx tsc -p .` first.
// Usage: node benchmarks/firewall-nft.mjs [--batch 10000] [--singles 200] [--sync 50000] [--append-docs]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, parseArgs } from './lib.mjs';

const USAGE = 'node benchmarks/firewall-nft.mjs [--batch 10000] [--singles 200] [--sync 50000] [--append-docs]';
const opts = parseArgs(process.argv.slice(2), { batch: 10000, singles: 200, sync: 50000, appendDocs: false }, USAGE);
const { nftBackend, nftInteractiveLines } = await import(join(ROOT, 'dist/firewall/nft.js'));
const { execute, runOne } = await import(join(ROOT, 'dist/firewall/executor.js'));
const { syncOperations } = await import(join(ROOT, 'dist/firewall/backend.js'));

const NS = `lwbench${randomBytes(3).toString('hex')}`;
const prefix = ['ip', 'netns', 'exec', NS];
const o = { name: 'logwarden', hooks: ['input'], priority: -10 };
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();
const pct = (values, p) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
// documentation addresses only: 198.18.0.0/15 is not one, so count inside 192.0.2/24, 198.51.100/24, 203.0.113/24 and 2001:db8::/32
const v6 = (i) => `2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`.replace(/::0:/, '::');
const net6 = (i) => ({ addr: canon(v6(i)), cidr: 128, kind: 6 });
const { canonicalIP } = await import(join(ROOT, 'dist/parse/address.js'));
const canon = (a) => canonicalIP(a).addr;

function nft(args) {
  const r = spawnSync('ip', ['netns', 'exec', NS, 'nft', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}
const count = () => (nft(['list', 'table', 'inet', 'logwarden']).match(/2001:db8::/g) ?? []).length;

if (spawnSync('ip', ['netns', 'add', NS]).status !== 0) throw new Error('cannot create a network namespace (root needed)');
const results = {};
try {
  const version = nft(['--version']).trim();
  results.version = version;
  // 1. one batch
  await execute(nftBackend.setup(o, []), { prefix });
  const batch = Array.from({ length: opts.batch }, (_, i) => ({ op: 'block', entry: { net: net6(i + 1), timeout: 3600 } }));
  let t0 = now();
  await execute(nftBackend.apply(o, batch), { prefix });
  results.batchMs = ms(t0);
  if (count() < opts.batch) throw new Error('batch not in the kernel');
  t0 = now();
  await execute(nftBackend.apply(o, batch), { prefix }); // every element present: the re-block path
  results.reblockMs = ms(t0);
  await execute(nftBackend.teardown(o), { prefix });
  await execute(nftBackend.setup(o, []), { prefix });

  // 2a. one `nft -f -` process per block (the call returns once nft has the kernel's ack)
  const perCall = [];
  for (let i = 0; i < opts.singles; i++) {
    const [inv] = nftBackend.apply(o, [{ op: 'block', entry: { net: net6(100000 + i), timeout: 600 } }]);
    t0 = now();
    const r = await runOne(inv, { prefix });
    perCall.push(ms(t0));
    if (r.code !== 0) throw new Error(r.stderr);
  }
  results.perCall = { p50: pct(perCall, 50), p99: pct(perCall, 99), max: Math.max(...perCall) };

  // 2b. a long-lived `nft -i`: each operation is one line (one transaction); a `list set` after it echoes on
  // stdout once nft has processed the line, i.e. once the block is in the kernel
  const child = spawn('ip', ['netns', 'exec', NS, 'nft', '-i'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let pending = null;
  let buffer = '';
  child.stdout.on('data', (d) => {
    buffer += d;
    while (pending && buffer.includes('set allow6 {')) {
      const end = buffer.indexOf('}\n}', buffer.indexOf('set allow6 {'));
      if (end < 0) break;
      buffer = buffer.slice(end + 3);
      const p = pending;
      pending = null;
      p();
    }
  });
  const interactive = [];
  const marker = 'list set inet logwarden allow6\n';
  for (let i = 0; i < opts.singles + 20; i++) {
    const [line] = nftInteractiveLines(o, [{ op: 'block', entry: { net: net6(200000 + i), timeout: 600 } }]);
    const done = new Promise((resolve) => (pending = resolve));
    t0 = now();
    child.stdin.write(`${line}\n${marker}`);
    await done;
    if (i >= 20) interactive.push(ms(t0)); // the first lines warm nft's cache up
  }
  // the marker alone, to see what the list costs
  const markerOnly = [];
  for (let i = 0; i < 50; i++) {
    const done = new Promise((resolve) => (pending = resolve));
    t0 = now();
    child.stdin.write(marker);
    await done;
    markerOnly.push(ms(t0));
  }
  child.stdin.end();
  await new Promise((r) => child.on('close', r));
  if (stderr) throw new Error(`nft -i: ${stderr}`);
  const inKernel = nft(['list', 'set', 'inet', 'logwarden', 'blocked6']).match(/2001:db8::3:/g)?.length ?? 0;
  if (inKernel < opts.singles) throw new Error(`nft -i: only ${inKernel} blocks in the kernel`);
  results.interactive = { p50: pct(interactive, 50), p99: pct(interactive, 99), max: Math.max(...interactive), markerP50: pct(markerOnly, 50) };

  // 3. setup + sync of N active blocks after a flushed ruleset, then the same with everything in place
  nft(['flush', 'ruleset']);
  const desired = Array.from({ length: opts.sync }, (_, i) => ({ net: net6(i + 1), timeout: i % 10 === 0 ? null : 3600 + i }));
  const sync = async () => {
    const t = { start: now() };
    await execute(nftBackend.setup(o, [{ addr: '192.0.2.10', cidr: 32, kind: 4 }]), { prefix });
    t.setup = ms(t.start);
    let s = now();
    const outputs = await execute(nftBackend.list(o), { prefix });
    t.list = ms(s);
    s = now();
    const ops = syncOperations(desired, nftBackend.parseList(o, outputs));
    t.plan = ms(s);
    s = now();
    await execute(nftBackend.apply(o, ops), { prefix });
    t.apply = ms(s);
    t.total = ms(t.start);
    t.ops = ops.length;
    delete t.start;
    return t;
  };
  results.syncEmpty = await sync();
  results.syncFull = await sync();
  if (count() < opts.sync) throw new Error('sync incomplete');
} finally {
  spawnSync('ip', ['netns', 'del', NS]);
}

const f = (x) => x.toFixed(1);
const commit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
const table = [
  '| measurement | result |',
  '|---|---:|',
  `| ${opts.batch.toLocaleString('en')} blocks in one \`nft -f -\` (new elements) | ${f(results.batchMs)} ms |`,
  `| the same ${opts.batch.toLocaleString('en')} again (all present: re-block path) | ${f(results.reblockMs)} ms |`,
  `| single block, one \`nft -f -\` process each, ${opts.singles} blocks: p50 / p99 / max | ${f(results.perCall.p50)} / ${f(results.perCall.p99)} / ${f(results.perCall.max)} ms |`,
  `| single block, one line to a long-lived \`nft -i\`, ${opts.singles} blocks: p50 / p99 / max | ${f(results.interactive.p50)} / ${f(results.interactive.p99)} / ${f(results.interactive.max)} ms |`,
  `| (the \`list set\` marker used to see the line done, alone: p50) | ${f(results.interactive.markerP50)} ms |`,
  `| setup + sync of ${opts.sync.toLocaleString('en')} blocks after \`nft flush ruleset\` (setup / list / plan / apply) | ${f(results.syncEmpty.total)} ms (${f(results.syncEmpty.setup)} / ${f(results.syncEmpty.list)} / ${f(results.syncEmpty.plan)} / ${f(results.syncEmpty.apply)}), ${results.syncEmpty.ops} ops |`,
  `| setup + sync of the same ${opts.sync.toLocaleString('en')} with all in place (setup / list / plan / apply) | ${f(results.syncFull.total)} ms (${f(results.syncFull.setup)} / ${f(results.syncFull.list)} / ${f(results.syncFull.plan)} / ${f(results.syncFull.apply)}), ${results.syncFull.ops} ops |`,
].join('\n');
process.stdout.write(`${results.version}, Linux ${kernel}, commit ${commit}\n${table}\n`);
if (opts.appendDocs) {
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  appendFileSync(
    join(ROOT, 'docs/benchmarks.md'),
    `\n## Firewall: nft\n\nMeasured ${date} UTC, logwarden commit **${commit}** plus the uncommitted work in the tree (src/firewall/nft.ts),\n` +
      `${results.version}, Linux ${kernel}, in a throwaway network namespace (IPv6 documentation addresses, 2001:db8::/32).\n\n` +
      `Command: \`npx tsc -p . && node benchmarks/firewall-nft.mjs --append-docs\` (as root).\n\n${table}\n\n` +
      '- Targets: a batch of 10,000 under 1 s; single-block p99 under 20 ms (per-process `nft -f -` pays the spawn of\n' +
      '  `ip netns exec nft`, which the long-lived `nft -i` avoids).\n' +
      '- `nft -i` latency is measured from writing the line to reading the answer of a `list set` written after it (nft -i\n' +
      '  handles lines one by one, so the block is in the kernel by then); the marker alone costs the figure shown.\n' +
      '- Every block is add + delete + re-add in one transaction (so a re-block sets exactly the new timeout and an\n' +
      '  unblock of a missing element is not an error).\n',
  );
}
