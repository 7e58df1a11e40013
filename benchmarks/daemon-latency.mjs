// Latency of the daemon, from a log line appended to the file until the kernel set holds the address.
// In a throwaway network namespace: `logwarden run --backend nft` tails a log file; for each of N fresh
// addresses the benchmark appends three `Failed password` lines (threshold 30, 10 each), the third one timed,
// and `nft monitor new elements` (inside the namespace) reports the element being added; its output line is
// timestamped here. With --sshguard (default on), Debian's sshguard 2.4 (benchmarks/data/pkgs, unpacked, not
// installed) runs beside it on the same file, as its wrapper script runs it: tail -F | sshg-parser |
// sshg-blocker | sshg-fw-nft-sets, the backend inside the namespace; both are timed from the same write.
// Needs root and `npx tsc -p .` first.
// Usage: node benchmarks/daemon-latency.mjs [--blocks 200] [--no-sshguard] [--gap-ms 40] [--json]
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, json, killAtExit, loadAverage, ms, netns, nftMonitor, scratchDir, sleep, startDaemon, summary } from './daemon-common.mjs';
import { PKGS, log, logwardenCommit, machineInfo, parseArgs } from './lib.mjs';

const USAGE = 'node benchmarks/daemon-latency.mjs [--blocks 200] [--no-sshguard] [--gap-ms 40] [--json]';
const opts = parseArgs(process.argv.slice(2), { blocks: 200, sshguard: true, gapMs: 40, timeoutMs: 3000, json: false }, USAGE);

const SSHG = join(PKGS, 'usr/libexec/sshguard');
const LOGWARDEN_TABLE = 'inet logwarden';
const SSHGUARD_TABLE = 'ip sshguard';

// documentation addresses only (192.0.2.250 is the monitor's probe)
const ADDRESSES = [
  ...Array.from({ length: 254 }, (_, i) => `198.51.100.${i + 1}`),
  ...Array.from({ length: 254 }, (_, i) => `203.0.113.${i + 1}`),
  ...Array.from({ length: 240 }, (_, i) => `192.0.2.${i + 1}`),
];
const WARMUP = 3;
if (opts.blocks + WARMUP > ADDRESSES.length) throw new Error(`at most ${ADDRESSES.length - WARMUP} blocks`);

const ns = netns();
const dir = scratchDir('lw-latency-');
const logFile = join(dir, 'auth.log');
writeFileSync(logFile, '');

// kernel additions seen by the monitor: `${table}|${addr}` -> time
const added = new Map();
const waiting = new Map();
await nftMonitor(ns, (table, _set, element, at) => {
  const addr = element.replace(/\/32$/, '');
  const key = `${table}|${addr}`;
  if (added.has(key)) return;
  added.set(key, at);
  waiting.get(key)?.(at);
});
const kernelHas = (table, addr) =>
  new Promise((resolve) => {
    const key = `${table}|${addr}`;
    if (added.has(key)) return resolve(added.get(key));
    const timer = setTimeout(() => {
      waiting.delete(key);
      resolve(null);
    }, opts.timeoutMs);
    waiting.set(key, (at) => {
      clearTimeout(timer);
      waiting.delete(key);
      resolve(at);
    });
  });

const daemon = startDaemon({ ns, backend: 'nft', db: join(dir, 'state.db'), pidFile: join(dir, 'lw.pid'), files: [logFile] });
await daemon.ready();
// daemon-side time of each block decision (pino's `time`, wall clock ms)
const decidedAt = new Map();
daemon.out.onLine((line) => {
  if (!line.includes('"msg":"blocked ')) return;
  const j = json(line);
  if (j) decidedAt.set(j.addr, Date.parse(j.time));
});

let sshguard = null;
if (opts.sshguard) {
  if (!existsSync(join(SSHG, 'sshg-blocker'))) throw new Error(`sshguard is not unpacked in ${SSHG}: see benchmarks/lib.mjs ensureComparisonTools, or run with --no-sshguard`);
  // the pipeline of /usr/sbin/sshguard (which insists on /etc/sshguard/sshguard.conf), with sshguard's defaults
  const tail = spawn('tail', ['-F', '-n', '0', logFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const parser = spawn(join(SSHG, 'sshg-parser'), [], { stdio: [tail.stdout, 'pipe', 'inherit'] });
  const blocker = spawn(join(SSHG, 'sshg-blocker'), ['-a', '30', '-p', '120', '-s', '1800'], { stdio: [parser.stdout, 'pipe', 'inherit'] });
  const fw = spawn('ip', ['netns', 'exec', ns.name, 'sh', join(SSHG, 'sshg-fw-nft-sets')], { stdio: [blocker.stdout, 'ignore', 'inherit'] });
  for (const c of [fw, blocker, parser, tail]) killAtExit(c, 'SIGTERM');
  sshguard = { tail, parser, blocker, fw };
  // its backend has created the table once this lists
  for (let i = 0; ; i++) {
    if (spawnSync('ip', ['netns', 'exec', ns.name, 'nft', 'list', 'table', 'ip', 'sshguard']).status === 0) break;
    if (i > 100) throw new Error('sshguard backend did not set up its table');
    await sleep(50);
  }
  await sleep(300); // tail -F has opened the file
}

const fd = openSync(logFile, 'a');
let pid = 20000;
const banner = () => {
  const d = new Date();
  const mon = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const hms = d.toISOString().slice(11, 19);
  return `${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${hms} bench`;
};
const failLine = (addr) => `${banner()} sshd[${pid++}]: Failed password for root from ${addr} port ${40000 + (pid % 20000)} ssh2\n`;

const tables = [LOGWARDEN_TABLE, ...(sshguard ? [SSHGUARD_TABLE] : [])];
const written = [];
const results = { logwarden: [], sshguard: [], detect: [], missed: { logwarden: 0, sshguard: 0 } };
log(`latency: ${opts.blocks} blocks (+${WARMUP} warm-up), ${tables.length === 2 ? 'logwarden and sshguard side by side' : 'logwarden only'}; load ${loadAverage()}`);
for (let i = 0; i < WARMUP + opts.blocks; i++) {
  const addr = ADDRESSES[i];
  writeSync(fd, failLine(addr));
  writeSync(fd, failLine(addr));
  await sleep(opts.gapMs); // both have scored the first two by now
  const wall = Date.now();
  const t0 = ms();
  writeSync(fd, failLine(addr));
  const seen = await Promise.all(tables.map((t) => kernelHas(t, addr)));
  if (i < WARMUP) continue;
  const [lw, sg] = seen;
  if (lw === null) results.missed.logwarden++;
  else results.logwarden.push(lw - t0);
  if (sshguard) {
    if (sg === null) results.missed.sshguard++;
    else results.sshguard.push(sg - t0);
  }
  written.push({ addr, wall });
  await sleep(10);
}
closeSync(fd);

const stopped = await daemon.stop();
cleanup();
// pino writes asynchronously: the decision lines are read once the daemon has exited
for (const { addr, wall } of written) {
  const decided = decidedAt.get(addr);
  if (decided !== undefined) results.detect.push(decided - wall);
}

const fmt = (s) => `p50 ${s.p50.toFixed(2)} ms, p90 ${s.p90.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(2)} ms (min ${s.min.toFixed(2)}, n ${s.n})`;
const out = {
  machine: machineInfo(),
  commit: logwardenCommit(),
  load: loadAverage(),
  blocks: opts.blocks,
  logwarden: summary(results.logwarden),
  sshguard: sshguard ? summary(results.sshguard) : null,
  decision: summary(results.detect),
  missed: results.missed,
  daemonExit: stopped.code,
};
if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
else {
  process.stdout.write(`logwarden (line appended -> element in the kernel set): ${fmt(out.logwarden)}; missed ${results.missed.logwarden}\n`);
  process.stdout.write(`  of which line appended -> block decided (pino time, 1 ms resolution): ${fmt(out.decision)}\n`);
  if (sshguard) process.stdout.write(`sshguard 2.4.2 (same write, sshg-fw-nft-sets): ${fmt(out.sshguard)}; missed ${results.missed.sshguard}\n`);
  process.stdout.write(`load average after: ${out.load}; daemon exit ${stopped.code}\n`);
}
