// Shared by the daemon benchmarks (daemon-*.mjs): a throwaway network namespace, `logwarden run` started as a
// child with its JSON log lines timestamped as they arrive, `nft monitor` inside the namespace, and reading a
// process's CPU time and memory from /proc. Plain Node, no dependencies.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { LOGWARDEN, log } from './lib.mjs';

export const ms = () => performance.now();

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function summary(values) {
  return {
    n: values.length,
    min: Math.min(...values),
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: Math.max(...values),
  };
}

export const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** A scratch folder removed at exit. */
export function scratchDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const cleanups = [];
let cleaned = false;
export function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const f of cleanups.reverse()) {
    try {
      f();
    } catch (error) {
      log(`cleanup: ${error.message}`);
    }
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

/** A network namespace of our own (loopback up), deleted at exit: the host's firewall is never touched. */
export function netns() {
  if (process.getuid?.() !== 0) throw new Error('root is needed for a network namespace');
  const name = `lwd${randomBytes(3).toString('hex')}`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
  cleanups.push(() => spawnSync('ip', ['netns', 'del', name]));
  spawnSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return {
    name,
    prefix: ['ip', 'netns', 'exec', name],
    run(cmd, args) {
      const res = spawnSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
      if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${name}: ${res.stderr}`);
      return res.stdout;
    },
  };
}

/** Kills a child we started (by its pid) at exit if it is still running. */
export function killAtExit(child, signal = 'SIGKILL') {
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

/**
 * Follows a child's output line by line, timestamping each line when it arrives here. `waitFor(test)` resolves
 * with the first line (past or future) for which test(line) is true: { line, at }.
 */
export function lineFollower(stream, { keep = true } = {}) {
  const seen = [];
  const waiters = [];
  const rl = createInterface({ input: stream });
  const listeners = [];
  rl.on('line', (line) => {
    const at = ms();
    if (keep) seen.push({ line, at });
    for (const f of listeners) f(line, at);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].test(line)) {
        waiters[i].resolve({ line, at });
        waiters.splice(i, 1);
      }
    }
  });
  return {
    seen,
    onLine(f) {
      listeners.push(f);
    },
    waitFor(test, timeoutMs = 30_000, what = String(test)) {
      const past = seen.find((s) => test(s.line));
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const w = { test, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
          }
        }, timeoutMs).unref();
      });
    },
  };
}

/**
 * Starts `logwarden run` (inside `ns` when given). Returns { child, out (lineFollower of stdout), startedAt, stop() }.
 * stop() sends SIGTERM and resolves with the parsed "stopped" line once it exits.
 */
export function startDaemon({ ns = null, backend, db, pidFile, files, args = [], env = process.env, nodeArgs = [], keep = true }) {
  const argv = [...nodeArgs, LOGWARDEN, 'run', '--backend', backend, '--db', db, '--pid-file', pidFile, ...args, ...files];
  const [cmd, ...rest] = ns ? [...ns.prefix, process.execPath, ...argv] : [process.execPath, ...argv];
  const startedAt = ms();
  const startedWall = Date.now();
  const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], env });
  killAtExit(child);
  const out = lineFollower(child.stdout, { keep });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    out,
    startedAt,
    startedWall,
    exited,
    get stderr() {
      return stderr;
    },
    /** The daemon's own pid (ip netns exec execs node, so it is the child's pid). */
    get pid() {
      return child.pid;
    },
    async ready(timeoutMs = 60_000) {
      const failed = exited.then(({ code, signal }) => {
        throw new Error(`logwarden run exited (${code ?? signal}) before it was running: ${stderr}${out.seen.map((s) => s.line).join('\n').slice(-3000)}`);
      });
      return Promise.race([out.waitFor((l) => l.includes('"logwarden running'), timeoutMs, 'logwarden running'), failed]);
    },
    async stop(timeoutMs = 20_000) {
      child.kill('SIGTERM');
      const stopped = out.waitFor((l) => l.includes('"msg":"stopped"'), timeoutMs, 'the stopped line').catch(() => null);
      const { code, signal } = await exited;
      const line = await Promise.race([stopped, sleep(200).then(() => null)]);
      return { code, signal, stopped: line ? JSON.parse(line.line) : null };
    },
  };
}

/** Parses one JSON log line of the daemon, or null. */
export function json(line) {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/**
 * `nft monitor new elements` inside the namespace: calls onAdd(table, set, element, at) for every element added,
 * `at` being when the line arrived here. Resolves once the monitor is listening.
 */
export async function nftMonitor(ns, onAdd) {
  const child = spawn('ip', ['netns', 'exec', ns.name, 'nft', 'monitor', 'new', 'elements'], { stdio: ['ignore', 'pipe', 'pipe'] });
  killAtExit(child, 'SIGTERM');
  const f = lineFollower(child.stdout, { keep: false });
  // e.g. "add element inet logwarden blocked4 { 192.0.2.7 timeout 2m expires 2m }" or "add element ip sshguard attackers { 192.0.2.7 }"
  f.onLine((line, at) => {
    const m = /^add element (\S+) (\S+) (\S+) \{ (.*) \}$/.exec(line);
    if (!m) return;
    const [, family, table, set, body] = m;
    for (const part of body.split(', ')) onAdd(`${family} ${table}`, set, part.split(' ')[0], at);
  });
  // the monitor has no "listening" message: give it a moment, then prove it sees a change
  await sleep(150);
  let seenProbe = false;
  const probe = new Promise((resolve) => {
    f.onLine((line) => {
      if (!seenProbe && line.includes('lwprobe')) {
        seenProbe = true;
        resolve();
      }
    });
  });
  ns.run('nft', ['add table inet lwprobe; add set inet lwprobe s { type ipv4_addr; }; add element inet lwprobe s { 192.0.2.250 }']);
  await Promise.race([probe, sleep(3000).then(() => { throw new Error('nft monitor saw nothing'); })]);
  ns.run('nft', ['delete', 'table', 'inet', 'lwprobe']);
  return child;
}

/** utime + stime (seconds) and RSS of a process from /proc. */
export function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = 100; // CLK_TCK on Linux
  const utime = Number(fields[11]) / ticks;
  const stime = Number(fields[12]) / ticks;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { cpu: utime + stime, utime, stime, rssKB: kb('VmRSS'), hwmKB: kb('VmHWM') };
}

/** The pids of a process's children (for nft -i under the daemon). */
export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
