// Start-up restore of many active blocks: a store holding --blocks active blocks (80% IPv4 addresses, 20% IPv6
// /64 prefixes, 5% permanent, the rest ending within 1-24 h, each with a small reason) is built with the
// store's own API (Store.open, addBlock, flushAll, close), then `logwarden run` starts on it inside a throwaway
// network namespace. Timed from the spawn of the process: its first log line, "firewall BACKEND ready: N active
// block(s) restored", "logwarden running", and (nft) the moment `nft monitor` has reported every element in
// the kernel. Each run is done twice: cold (empty kernel: a boot) and warm (the previous daemon was SIGKILLed,
// the kernel still holds everything: a crash and restart).
// Needs root and `npx tsc -p .` first.
// Usage: node benchmarks/daemon-restore.mjs [--blocks 20000] [--backends nft,ipset,iptables] [--runs 3] [--json] [--profile DIR]
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { json, loadAverage, ms, netns, nftMonitor, scratchDir, sleep, startDaemon, summary } from './daemon-common.mjs';
import { ROOT, fmtInt, log, logwardenCommit, machineInfo, parseArgs } from './lib.mjs';

const USAGE = 'node benchmarks/daemon-restore.mjs [--blocks 20000] [--backends nft,ipset,iptables] [--runs 3] [--json] [--profile DIR (node --cpu-prof of each daemon)]';
const opts = parseArgs(process.argv.slice(2), { blocks: 20_000, backends: 'nft,ipset,iptables', runs: 3, json: false, profile: '' }, USAGE);
const { Store } = await import(join(ROOT, 'dist/store/store.js'));
const { canonicalIP } = await import(join(ROOT, 'dist/parse/address.js'));

function buildStore(path, count) {
  const store = Store.open(path);
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const net =
      i % 5 === 4
        ? { addr: canonicalIP(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::`).addr, cidr: 64, kind: 6 }
        : { addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, cidr: 32, kind: 4 };
    const expires = i % 20 === 0 ? null : now + 3_600_000 + ((i * 7919) % 82_800_000);
    store.addBlock(net, now - 60_000, expires, 'policy', { score: 30, attacks: 3, services: [100], rules: ['ssh-failed-password'], evidence: [`sshd[${i}]: Failed password for root from ${net.addr} port 22 ssh2`] });
  }
  store.flushAll();
  store.close();
}

function kernelCount(ns, backend) {
  if (backend === 'nft') {
    const out = ns.run('nft', ['list', 'table', 'inet', 'logwarden']);
    return (out.match(/(10\.\d+\.\d+\.\d+|2001:db8:[0-9a-f:]*\/64)/g) ?? []).length;
  }
  if (backend === 'ipset') {
    let n = 0;
    for (const set of ['logwarden-block4', 'logwarden-block6']) n += Number(/Number of entries: (\d+)/.exec(ns.run('ipset', ['list', '-t', set]))?.[1] ?? 0);
    return n;
  }
  let n = 0;
  for (const tool of ['iptables-save', 'ip6tables-save']) n += (ns.run(tool, []).match(/-j DROP/g) ?? []).length;
  return n;
}

const dir = scratchDir('lw-restore-');
const template = join(dir, 'template.db');
let t = ms();
buildStore(template, opts.blocks);
log(`store with ${fmtInt(opts.blocks)} active blocks built in ${(ms() - t).toFixed(0)} ms; load ${loadAverage()}`);

async function start(ns, backend, db, monitorCount) {
  const d = startDaemon({ ns, backend, db, pidFile: join(dir, `${backend}.pid`), files: [join(dir, 'auth.log')], nodeArgs: opts.profile ? ['--cpu-prof', '--cpu-prof-dir', opts.profile] : [] });
  const first = await d.out.waitFor(() => true, 60_000, 'a first log line');
  const ready = await d.out.waitFor((l) => l.includes(`"msg":"firewall ${backend} ready`), 60_000, 'firewall ready');
  const running = await d.ready();
  let kernelAt = null;
  if (monitorCount) {
    const until = ms() + 10_000;
    while (monitorCount() < opts.blocks && ms() < until) await sleep(1);
    kernelAt = monitorCount() >= opts.blocks ? monitorCount.at : null;
  }
  const r = json(ready.line);
  return {
    daemon: d,
    firstLine: first.at - d.startedAt,
    ready: ready.at - d.startedAt,
    running: running.at - d.startedAt,
    kernel: kernelAt === null ? null : kernelAt - d.startedAt,
    restored: r.restored,
  };
}

writeFileSync(join(dir, 'auth.log'), '');
const results = {};
for (const backend of opts.backends.split(',')) {
  results[backend] = { cold: [], warm: [] };
  for (let run = 0; run < opts.runs; run++) {
    const ns = netns();
    const db = join(dir, `${backend}-${run}.db`);
    copyFileSync(template, db);
    let monitor = null;
    if (backend === 'nft') {
      const seen = new Set();
      const count = () => seen.size;
      count.at = null;
      monitor = await nftMonitor(ns, (table, _set, element, at) => {
        if (table !== 'inet logwarden' || seen.has(element)) return;
        seen.add(element);
        if (seen.size === opts.blocks) count.at = at;
      });
      monitor.count = count;
    }
    for (const phase of ['cold', 'warm']) {
      if (phase === 'warm' && monitor) {
        monitor.count = null; // the kernel already holds them: nothing new to see
      }
      const r = await start(ns, backend, db, phase === 'cold' ? monitor?.count : null);
      r.inKernel = kernelCount(ns, backend);
      results[backend][phase].push(r);
      log(`${backend} ${phase} run ${run + 1}: first log line ${r.firstLine.toFixed(0)} ms, ready (${r.restored} restored) ${r.ready.toFixed(0)} ms, running ${r.running.toFixed(0)} ms${r.kernel !== null ? `, all in the kernel (nft monitor) ${r.kernel.toFixed(0)} ms` : ''}; kernel holds ${fmtInt(r.inKernel)}`);
      if (phase === 'cold') {
        // a crash: the kernel keeps its elements, the next start finds them
        r.daemon.child.kill('SIGKILL');
        await r.daemon.exited;
        await sleep(200);
      } else {
        const s = await r.daemon.stop();
        if (s.code !== 0) log(`warning: ${backend} daemon exited ${s.code}`);
      }
      delete r.daemon;
    }
    monitor?.kill('SIGTERM');
    await sleep(100);
  }
}

const fmt = (vals) => {
  const s = summary(vals);
  return `median ${s.p50.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)})`;
};
for (const [backend, r] of Object.entries(results)) {
  for (const phase of ['cold', 'warm']) {
    const rs = r[phase];
    if (rs.length === 0) continue;
    const kernel = rs.filter((x) => x.kernel !== null).map((x) => x.kernel);
    process.stdout.write(
      `${backend} ${phase} (${rs.length} runs, ${fmtInt(opts.blocks)} blocks; kernel held ${rs.map((x) => x.inKernel).join('/')}): spawn -> first log line ${fmt(rs.map((x) => x.firstLine))}; -> "ready ... restored" ${fmt(rs.map((x) => x.ready))}; -> "running" ${fmt(rs.map((x) => x.running))}${kernel.length ? `; -> all ${fmtInt(opts.blocks)} in the kernel ${fmt(kernel)}` : ''}; first line -> ready ${fmt(rs.map((x) => x.ready - x.firstLine))}\n`,
    );
  }
}
if (opts.json) process.stdout.write(`${JSON.stringify({ machine: machineInfo(), commit: logwardenCommit(), load: loadAverage(), blocks: opts.blocks, results })}\n`);
