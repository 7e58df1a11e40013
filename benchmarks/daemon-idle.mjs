// An idle daemon: CPU seconds it uses over --seconds (from /proc/PID/stat, utime + stime, the daemon and its nft
// child) and its memory (VmRSS, VmHWM), once it has settled (--settle seconds after "logwarden running").
// Cases: `null` (null backend, empty store, one quiet log file) and `nft` (nft backend in a throwaway network
// namespace, --blocks active blocks restored from the store at start, same quiet log file).
// Needs root for the nft case and `npx tsc -p .` first.
// Usage: node benchmarks/daemon-idle.mjs [--cases null,nft] [--seconds 30] [--settle 5] [--blocks 20000] [--json]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childPids, loadAverage, netns, procStats, scratchDir, sleep, startDaemon } from './daemon-common.mjs';
import { ROOT, fmtInt, log, logwardenCommit, machineInfo, parseArgs } from './lib.mjs';

const USAGE = 'node benchmarks/daemon-idle.mjs [--cases null,nft] [--seconds 30] [--settle 5] [--blocks 20000] [--json]';
const opts = parseArgs(process.argv.slice(2), { cases: 'null,nft', seconds: 30, settle: 5, blocks: 20_000, json: false }, USAGE);
const { Store } = await import(join(ROOT, 'dist/store/store.js'));

function buildStore(path, count) {
  const store = Store.open(path);
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const net = { addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, cidr: 32, kind: 4 };
    store.addBlock(net, now - 60_000, now + 3_600_000 + ((i * 7919) % 82_800_000), 'policy', { score: 30, attacks: 3, rules: ['ssh-failed-password'] });
  }
  store.flushAll();
  store.close();
}

/** CPU seconds of a process and its children now (the nft -i session is a child). */
function cpuOf(pid) {
  let cpu = procStats(pid).cpu;
  for (const c of childPids(pid)) {
    try {
      cpu += procStats(c).cpu;
    } catch {
      /* gone */
    }
  }
  return cpu;
}

const results = [];
for (const name of opts.cases.split(',')) {
  const dir = scratchDir(`lw-idle-${name}-`);
  const logFile = join(dir, 'auth.log');
  writeFileSync(logFile, 'Dec  1 00:00:00 host sshd[1]: Server listening on 0.0.0.0 port 22.\n');
  const db = join(dir, 'state.db');
  let ns = null;
  if (name === 'nft') {
    ns = netns();
    buildStore(db, opts.blocks);
  } else if (name !== 'null') throw new Error(`unknown case ${name}`);
  const daemon = startDaemon({ ns, backend: name, db, pidFile: join(dir, 'lw.pid'), files: [logFile] });
  await daemon.ready();
  await sleep(opts.settle * 1000);
  const before = cpuOf(daemon.pid);
  const t0 = Date.now();
  const rss = [];
  while (Date.now() - t0 < opts.seconds * 1000) {
    await sleep(1000);
    rss.push(procStats(daemon.pid).rssKB / 1024);
  }
  const cpu = cpuOf(daemon.pid) - before;
  const seconds = (Date.now() - t0) / 1000;
  const s = procStats(daemon.pid);
  const children = childPids(daemon.pid).map((c) => {
    try {
      return procStats(c).rssKB;
    } catch {
      return 0;
    }
  });
  const stopped = await daemon.stop();
  const r = {
    case: name,
    blocks: name === 'nft' ? opts.blocks : 0,
    seconds,
    cpuSeconds: cpu,
    cpuShare: cpu / seconds,
    rssMB: s.rssKB / 1024,
    rssFirstMB: rss[0],
    minRssMB: Math.min(...rss),
    maxRssMB: Math.max(...rss),
    hwmMB: s.hwmKB / 1024,
    childRssMB: children.reduce((a, b) => a + b, 0) / 1024,
    exit: stopped.code,
  };
  results.push(r);
  process.stdout.write(
    `${name}${r.blocks ? ` (${fmtInt(r.blocks)} blocks restored)` : ''}: ${r.cpuSeconds.toFixed(2)} CPU s over ${r.seconds.toFixed(0)} s idle (${(100 * r.cpuShare).toFixed(2)}% of a core); RSS at the end ${r.rssMB.toFixed(1)} MB (sampled each second: first ${r.rssFirstMB.toFixed(1)}, min ${r.minRssMB.toFixed(1)}, max ${r.maxRssMB.toFixed(1)}; peak since start VmHWM ${r.hwmMB.toFixed(1)})${r.childRssMB ? `; nft -i child RSS ${r.childRssMB.toFixed(1)} MB` : ''}; load ${loadAverage()}\n`,
  );
}
if (opts.json) process.stdout.write(`${JSON.stringify({ machine: machineInfo(), commit: logwardenCommit(), results })}\n`);
log('done');
