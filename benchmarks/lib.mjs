// Helpers shared by the benchmark scripts: paths, obtaining the comparison tools, timing a child process
// with its peak RSS, and describing the machine. Plain Node, no dependencies.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, '..');
export const DATA = join(BENCH_DIR, 'data');
export const DEBS = join(DATA, 'debs');
export const PKGS = join(DATA, 'pkgs');
export const SSHG_PARSER = join(PKGS, 'usr/libexec/sshguard/sshg-parser');
export const F2B_REGEX = join(PKGS, 'usr/bin/fail2ban-regex');
export const F2B_SSHD_FILTER = join(PKGS, 'etc/fail2ban/filter.d/sshd.conf');
export const LOGWARDEN = join(ROOT, 'dist/cli/main.js');
export const TIME_BIN = '/usr/bin/time';

export const log = (msg) => process.stderr.write(`${msg}\n`);

/** Minimal `--name value` / `--flag` parser. spec: { name: default } (boolean defaults make flags). */
export function parseArgs(argv, spec, usage) {
  const opts = { ...spec };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${usage}`);
    let name = a.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const key = name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (name.startsWith('no-') && typeof spec[name.slice(3).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] === 'boolean') {
      opts[name.slice(3).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = false;
      continue;
    }
    if (!(key in spec)) throw new Error(`unknown option ${a}\n${usage}`);
    if (typeof spec[key] === 'boolean') {
      opts[key] = value === undefined ? true : value !== 'false';
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      value = argv[++i];
    }
    opts[key] = typeof spec[key] === 'number' ? Number(value.replaceAll('_', '')) : value;
  }
  return opts;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs a command, throws with its stderr on failure; returns stdout. */
export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || '').slice(-2000)}`);
  return r.stdout;
}

// ------------------------------------------------------------------ input files

/** Makes sure the input exists: a benchmarks/data/mixed-<N>.log file is generated on demand. */
export function ensureInput(file, { defaultLines = 1_000_000 } = {}) {
  file = resolve(file);
  if (existsSync(file)) return file;
  const m = /^mixed-(\d+)([km]?)\.log$/.exec(file.split('/').pop());
  let lines = defaultLines;
  if (m) lines = Number(m[1]) * (m[2] === 'm' ? 1_000_000 : m[2] === 'k' ? 1000 : 1);
  else if (resolve(dirname(file)) !== resolve(DATA)) throw new Error(`input ${file} does not exist`);
  log(`generating ${file} (${lines} lines)...`);
  run(process.execPath, [join(BENCH_DIR, 'generate-log.mjs'), '--lines', String(lines), '--out', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  return file;
}

/** The first N lines of a file, written once next to it (FILE.headN.log). */
export async function headFile(file, lines) {
  const out = file.replace(/\.log$/, '') + `.head${lines}.log`;
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(file).mtimeMs) return out;
  const tmp = `${out}.tmp`;
  const ws = createWriteStream(tmp);
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    if (!ws.write(`${line}\n`)) await new Promise((r) => ws.once('drain', r));
    if (++n >= lines) break;
  }
  rl.close();
  await new Promise((r) => ws.end(r));
  renameSync(tmp, out);
  return out;
}

export function countLines(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let n = 0;
  try {
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      let i = -1;
      while ((i = buf.indexOf(10, i + 1)) >= 0 && i < got) n++;
    }
  } finally {
    closeSync(fd);
  }
  return n;
}

/** Reads the file once so that every timed run starts with it in the page cache. */
export function warmCache(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  while (readSync(fd, buf, 0, buf.length, null) > 0);
  closeSync(fd);
}

// ------------------------------------------------------------------ comparison tools

function hasBin(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

/**
 * sshguard's parser and fail2ban, unpacked from Debian's packages into benchmarks/data/pkgs
 * (`apt-get download` + `dpkg -x`: nothing is installed, no service is started).
 */
export function ensureComparisonTools({ sshguard = true, fail2ban = true } = {}) {
  const want = [];
  if (sshguard && !existsSync(SSHG_PARSER)) want.push('sshguard');
  if (fail2ban && (!existsSync(F2B_REGEX) || !existsSync(F2B_SSHD_FILTER))) want.push('fail2ban');
  if (want.length === 0) return;
  if (!hasBin('apt-get') || !hasBin('dpkg')) throw new Error('apt-get and dpkg are needed to fetch sshguard/fail2ban');
  mkdirSync(DEBS, { recursive: true });
  mkdirSync(PKGS, { recursive: true });
  for (const name of want) {
    const have = readdirSync(DEBS).filter((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
    if (have.length === 0) {
      log(`apt-get download ${name} (into ${DEBS})...`);
      let r = spawnSync('apt-get', ['download', name], { cwd: DEBS, encoding: 'utf8' });
      if (r.status !== 0) {
        log('apt-get download failed; running apt-get update once and retrying...');
        spawnSync('apt-get', ['update'], { stdio: 'ignore' });
        r = spawnSync('apt-get', ['download', name], { cwd: DEBS, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`apt-get download ${name} failed: ${r.stderr}`);
      }
    }
    for (const deb of readdirSync(DEBS).filter((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'))) {
      log(`dpkg -x ${deb} ${PKGS}`);
      run('dpkg', ['-x', join(DEBS, deb), PKGS]);
    }
  }
}

export function sshguardVersion() {
  const deb = existsSync(DEBS) ? readdirSync(DEBS).find((f) => f.startsWith('sshguard_')) : undefined;
  return deb ? deb.replace(/^sshguard_/, '').replace(/_.*$/, '') : 'unknown';
}

export function fail2banVersion() {
  const deb = existsSync(DEBS) ? readdirSync(DEBS).find((f) => f.startsWith('fail2ban_')) : undefined;
  return deb ? deb.replace(/^fail2ban_/, '').replace(/_.*$/, '') : 'unknown';
}

/** The unpacked fail2ban's dist-packages directory (found in the tree, not assumed). */
export function fail2banPythonPath() {
  const found = [];
  const walk = (dir, depth) => {
    if (depth > 6 || !existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name === 'fail2ban' && existsSync(join(p, '__init__.py'))) found.push(dir);
      else walk(p, depth + 1);
    }
  };
  walk(join(PKGS, 'usr/lib'), 0);
  if (found.length === 0) throw new Error(`no fail2ban python package under ${PKGS}/usr/lib`);
  return found[0];
}

/**
 * A python3 that can import the unpacked fail2ban. Tries /usr/bin/python3 first (Debian's package is built for
 * it), then whatever python3 is on PATH (e.g. pyenv's). Returns { python, version, pythonPath }.
 */
export function findFail2banPython() {
  const pythonPath = fail2banPythonPath();
  const candidates = ['/usr/bin/python3'];
  const onPath = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
  if (onPath && !candidates.includes(onPath)) candidates.push(onPath);
  const tried = [];
  for (const python of candidates) {
    if (!existsSync(python)) continue;
    const r = spawnSync(python, ['-c', 'import sys, fail2ban, fail2ban.client.fail2banregex; print(sys.version.split()[0], sys.executable)'], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: pythonPath },
    });
    if (r.status === 0) {
      const [version, executable] = r.stdout.trim().split(' ');
      return { python, executable, version, pythonPath };
    }
    tried.push(`${python}: ${(r.stderr || '').trim().split('\n').pop()}`);
  }
  throw new Error(`no python3 can import fail2ban from ${pythonPath}:\n  ${tried.join('\n  ')}`);
}

// ------------------------------------------------------------------ logwarden build

/** Builds dist/ when it is missing (or when asked); warns when src/ is newer than the build. */
export function ensureLogwarden({ build = false } = {}) {
  if (build || !existsSync(LOGWARDEN)) {
    log('building logwarden (npx tsc -p .)...');
    run('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const built = statSync(LOGWARDEN).mtimeMs;
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(ROOT, 'src'));
  if (newest > built) log('warning: src/ is newer than dist/: pass --build (or run npx tsc -p .) to measure the current code');
}

export function logwardenCommit() {
  try {
    const sha = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'rules'], { encoding: 'utf8' }).trim();
    return dirty ? `${sha} (+ uncommitted changes in src/ or rules/)` : sha;
  } catch {
    return 'unknown';
  }
}

export function ruleFileCount() {
  const dir = join(ROOT, 'rules');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).length : 0;
}

// ------------------------------------------------------------------ timing

/**
 * Runs cmd once with stdout to /dev/null (or to a pipe when `capture`), stdin from `stdinFile` or /dev/null.
 * Returns { seconds (wall, measured here), maxRssKB, user, sys, stdout?, stderr }.
 * Peak RSS comes from /usr/bin/time -f %M when present, else from polling /proc/PID/status (VmHWM).
 */
export function timeCommand(cmd, args, { stdinFile = null, env = process.env, cwd = ROOT, capture = false } = {}) {
  return new Promise((resolvePromise, reject) => {
    const useTime = existsSync(TIME_BIN);
    const timeOut = join(tmpdir(), `lw-bench-time-${process.pid}-${Date.now()}.txt`);
    const argv = useTime ? ['-f', '%M %U %S', '-o', timeOut, cmd, ...args] : args;
    const stdinFd = openSync(stdinFile ?? '/dev/null', 'r');
    const devNull = capture ? null : openSync('/dev/null', 'w');
    const started = process.hrtime.bigint();
    const child = spawn(useTime ? TIME_BIN : cmd, argv, {
      cwd,
      env,
      stdio: [stdinFd, capture ? 'pipe' : devNull, 'pipe'],
    });
    let stderr = '';
    const chunks = [];
    child.stderr.on('data', (d) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    if (capture) child.stdout.on('data', (d) => chunks.push(d));
    let hwm = 0;
    let poll = null;
    if (!useTime) {
      poll = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwm = Math.max(hwm, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 10);
    }
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (poll) clearInterval(poll);
      closeSync(stdinFd);
      if (devNull !== null) closeSync(devNull);
      let maxRssKB = hwm, user = null, sys = null;
      if (useTime && existsSync(timeOut)) {
        const text = readFileSync(timeOut, 'utf8').trim().split('\n').pop();
        rmSync(timeOut, { force: true });
        const [m, u, s] = text.split(' ').map(Number);
        maxRssKB = m;
        user = u;
        sys = s;
      }
      if (code !== 0) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
        return;
      }
      resolvePromise({ seconds, maxRssKB, user, sys, stderr, stdout: capture ? Buffer.concat(chunks).toString('utf8') : undefined });
    });
  });
}

/** `SERVICE ADDR KIND DANGER` lines → { total, byService: {svc: n}, ipv6 } */
export function countSshguardOutput(text) {
  const byService = {};
  let total = 0, ipv6 = 0;
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    if (nl > start) {
      const line = text.slice(start, nl);
      const sp = line.indexOf(' ');
      const svc = line.slice(0, sp);
      byService[svc] = (byService[svc] ?? 0) + 1;
      total++;
      if (line.charCodeAt(line.lastIndexOf(' ') - 1) === 54 /* '6' */) ipv6++;
    }
    start = nl + 1;
  }
  return { total, byService, ipv6 };
}

// ------------------------------------------------------------------ machine

export function machineInfo() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    /* not Linux */
  }
  const nproc = spawnSync('nproc', [], { encoding: 'utf8' }).stdout.trim() || String(cpus().length);
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    /* ignore */
  }
  let memGiB = '';
  try {
    const m = /MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) memGiB = (Number(m[1]) / 1024 / 1024).toFixed(1);
  } catch {
    /* ignore */
  }
  return { nproc, cpu, node: process.version, kernel, memGiB, date: new Date().toISOString() };
}

export const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
export const fmtMB = (kb) => (kb / 1024).toFixed(1);

// ------------------------------------------------------------------ other load on the machine

/** Cumulative CPU jiffies from /proc/stat: { busy, total } (null where /proc is missing). */
export function cpuTimes() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

const CLK_TCK = 100;

/** Busy cores (0..nproc) over `ms`. */
export async function busyCores(ms = 1000) {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  if (!a || !b) return 0;
  return (b.busy - a.busy) / CLK_TCK / (ms / 1000);
}

/**
 * Waits (up to maxSeconds) until the machine is nearly idle (< maxBusy cores busy over a second), so that a timing
 * run is not shared with someone's compile or test suite. Returns the last busy value measured.
 */
export async function waitForIdle({ maxSeconds = 180, maxBusy = 0.25 } = {}) {
  const until = Date.now() + maxSeconds * 1000;
  let busy = await busyCores();
  let warned = false;
  while (busy > maxBusy && Date.now() < until) {
    if (!warned) {
      log(`machine busy (${busy.toFixed(2)} cores in use by other processes); waiting up to ${maxSeconds} s for it to calm down...`);
      warned = true;
    }
    busy = await busyCores(2000);
  }
  if (busy > maxBusy) log(`warning: still ${busy.toFixed(2)} cores busy; timing anyway (numbers will be noisy)`);
  return busy;
}

/**
 * Measures CPU used by processes other than the timed children during a section:
 * call start(), then stop(childCpuSeconds, wallSeconds) → average foreign busy cores.
 */
export function foreignLoadMeter() {
  let a = null;
  return {
    start() {
      a = cpuTimes();
    },
    stop(childCpuSeconds, wallSeconds) {
      const b = cpuTimes();
      if (!a || !b || wallSeconds <= 0) return null;
      const busy = (b.busy - a.busy) / CLK_TCK;
      return Math.max(0, (busy - childCpuSeconds) / wallSeconds);
    },
  };
}

/**
 * One timed run of a command (timeCommand), redone (up to `retries` times, after waiting for the machine to be
 * idle) when other processes used more than `maxForeign` cores meanwhile. The result gets `foreign` (cores).
 */
export async function timedRun(label, cmd, args, options = {}, { maxForeign = 0.15, retries = 3, waitIdle = 180 } = {}) {
  for (let attempt = 0; ; attempt++) {
    const m = foreignLoadMeter();
    m.start();
    const r = await timeCommand(cmd, args, options);
    r.foreign = m.stop((r.user ?? 0) + (r.sys ?? 0), r.seconds) ?? 0;
    if (r.foreign <= maxForeign || attempt >= retries) {
      if (r.foreign > maxForeign) log(`  warning: ${label} run kept although other processes used ${r.foreign.toFixed(2)} cores`);
      return r;
    }
    log(`  ${label}: ${r.seconds.toFixed(3)} s discarded (other processes used ${r.foreign.toFixed(2)} cores); waiting and retrying`);
    await waitForIdle({ maxSeconds: waitIdle });
  }
}

/** Peak RSS of this process so far, in kB (VmHWM from /proc/self/status; null where /proc is missing). */
export function selfPeakRssKB() {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** This process's I/O counters from /proc/self/io (write_bytes: bytes sent to the storage layer), or null. */
export function selfIo() {
  try {
    const o = {};
    for (const l of readFileSync('/proc/self/io', 'utf8').trim().split('\n')) {
      const [k, v] = l.split(':');
      o[k.trim()] = Number(v);
    }
    return o;
  } catch {
    return null;
  }
}
