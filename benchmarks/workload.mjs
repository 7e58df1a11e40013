// Shared by the engine/store benchmarks (policy-store.mjs, offenders.mjs, store-size.mjs): synthetic SSH attack
// events built directly as the parser would return them (no parsing: parsing is measured by parse.mjs), an
// Engine wired to a real file-backed Store the way the daemon wires it, and statistics of the database file.
//
// Events are ParsedEvent objects ({ event, service, rule, danger, addr, kind, user, count, banner }) with the
// banner of a realistic sshd line from parseBanner() (one banner per connection: same host and tag, the
// connection's pid), wrapped in the Item the engine takes (as src/audit/replay.ts builds it), with the full
// log line text (~100 bytes) that the store keeps as evidence.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DATA, LOGWARDEN, ensureLogwarden } from './lib.mjs';

export async function loadLogwarden() {
  if (!existsSync(LOGWARDEN)) ensureLogwarden({ build: true });
  const dist = new URL('../dist/', import.meta.url);
  const [engine, store, policy, whitelist, banner, address] = await Promise.all([
    import(new URL('engine/engine.js', dist)),
    import(new URL('store/store.js', dist)),
    import(new URL('policy/policy.js', dist)),
    import(new URL('policy/whitelist.js', dist)),
    import(new URL('parse/banner.js', dist)),
    import(new URL('parse/address.js', dist)),
  ]);
  return { ...engine, ...store, ...policy, ...whitelist, ...banner, ...address };
}

/** sfc32, seeded: the same seed gives the same workload. */
export function prng(seed = 1) {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/**
 * The n-th address of a deterministic, collision-free sequence (canonical text): IPv6 when `v6`, each in its
 * own /64 (so each is its own offender with the default IPV6_SUBNET 64), else IPv4 outside the reserved blocks.
 */
export function addressOf(n, v6) {
  if (v6) {
    // 2001:db8:XXXX:YYYY::Z, groups without leading zeros and never 0 (so the text is already canonical)
    const x = 1 + (n % 0xfffe), y = 1 + (Math.floor(n / 0xfffe) % 0xfffe);
    return `2001:db8:${x.toString(16)}:${y.toString(16)}::${(1 + (n % 0xfff)).toString(16)}`;
  }
  // spread over 11.0.0.0 .. 126.255.255.255 (a bijection for n < 1.9e9: 7919 is prime to the range's size)
  const v = 0x0b000000 + ((n * 7919) % (0x7f000000 - 0x0b000000));
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const USERS = ['root', 'admin', 'test', 'ubuntu', 'oracle', 'postgres', 'user', 'git', 'pi', 'guest', 'ftpuser', 'deploy'];

/**
 * Builds Items for the engine. `session(addr, kind, time, kindOfSession)` returns the events of one SSH connection
 * (1-3 `Failed password` then `Connection closed [preauth]`, or `Invalid user` + `Failed password for invalid
 * user` + `Connection closed [preauth]`), all on one pid, a second or two apart.
 */
export function eventFactory(lw, { host = 'web1', source = '/var/log/auth.log' } = {}) {
  const template = lw.parseBanner('May  1 10:00:03 web1 sshd[903]: Failed password for root from 203.0.113.8 port 51001 ssh2');
  if (template.tag !== 'sshd' || template.pid !== '903') throw new Error(`unexpected banner ${JSON.stringify(template)}`);
  let pid = 1000;
  let lineNo = 0;
  let stampSecond = -1, stamp = '';
  const stampOf = (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== stampSecond) {
      stampSecond = s;
      const d = new Date(s * 1000);
      const day = String(d.getUTCDate()).padStart(2, ' ');
      const hh = String(d.getUTCHours()).padStart(2, '0'), mm = String(d.getUTCMinutes()).padStart(2, '0'), ss = String(d.getUTCSeconds()).padStart(2, '0');
      stamp = `${MONTHS[d.getUTCMonth()]} ${day} ${hh}:${mm}:${ss}`;
    }
    return stamp;
  };
  const item = (banner, rule, danger, addr, kind, user, time, msg) => {
    const line = `${stampOf(time)} ${host} sshd[${banner.pid}]: ${msg}`;
    // one banner object per connection (the engine reads only host, tag and pid from it)
    const parsed = { event: 'attack', service: 100, rule, danger, addr, kind, user, count: 1, banner };
    return {
      parsed,
      event: 'attack',
      rule,
      time,
      connection: `${banner.host ?? ''}|${banner.tag}|${banner.pid}`, // = connectionOf(parsed)
      source,
      lineNo: ++lineNo,
      line,
    };
  };
  /** One connection's events; `failures` 1..3 password failures (type 'password') or an invalid user (type 'invalid'). */
  const session = (addr, kind, time, type, failures, rnd) => {
    const banner = { ...template, host, pid: String(pid++) };
    if (pid > 4_000_000) pid = 1000;
    const port = 1024 + Math.floor(rnd() * 64000);
    const user = USERS[Math.floor(rnd() * USERS.length)];
    const out = [];
    let t = time;
    if (type === 'invalid') {
      out.push(item(banner, 'ssh-invalid-user', 10, addr, kind, user, t, `Invalid user ${user} from ${addr} port ${port}`));
      t += 1000 + Math.floor(rnd() * 1000);
      out.push(item(banner, 'ssh-failed-password', 10, addr, kind, user, t, `Failed password for invalid user ${user} from ${addr} port ${port} ssh2`));
    } else {
      for (let i = 0; i < failures; i++) {
        out.push(item(banner, 'ssh-failed-password', 10, addr, kind, user, t, `Failed password for ${user} from ${addr} port ${port} ssh2`));
        t += 1000 + Math.floor(rnd() * 2000);
      }
    }
    out.push(item(banner, 'ssh-connection-closed-preauth', 2, addr, kind, null, t, `Connection closed by authenticating user ${user} ${addr} port ${port} [preauth]`));
    return out;
  };
  return { session, item };
}

/**
 * A temp folder on the same disk as the project (not tmpfs), for the store's file. Removed by cleanup().
 */
export function tempDbPath(prefix) {
  const dir = mkdtempSync(join(DATA, `tmp-${prefix}-`));
  return { dir, path: join(dir, 'state.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * An Engine on a real Store, wired like the daemon: policy state in memory, write-behind store (it flushes
 * itself every batchSize queued writes); the caller also flushes on a wall-clock timer (tick()) and at the end.
 * Counts the store's flushes that wrote something and the blocks decided.
 */
export function engineOnStore(lw, path, { policy = lw.DEFAULT_POLICY, batchSize, flushEveryMs = 100, breakdown = false } = {}) {
  const store = lw.Store.open(path, batchSize ? { batchSize } : {});
  const timings = breakdown ? instrument(store) : null;
  const state = lw.newPolicyState(new lw.Whitelist(lw.emptyEntries()));
  const counters = { flushes: 0, timerFlushes: 0, blocks: 0, flushMs: 0 };
  const flush = store.flush.bind(store);
  store.flush = () => {
    if (store.pendingWrites === 0) return;
    counters.flushes++;
    const t0 = performance.now();
    flush();
    counters.flushMs += performance.now() - t0;
  };
  let now = 0;
  const engine = new lw.Engine({
    policy,
    state,
    store,
    now: () => now,
    onBlock: () => {
      counters.blocks++;
    },
  });
  let lastFlush = performance.now();
  return {
    store,
    state,
    engine,
    counters,
    timings,
    handle(item) {
      now = item.time; // the daemon reads lines as they are written: event time ≈ now
      engine.handle(item);
    },
    /** The daemon's flush timer: call often; flushes when flushEveryMs of wall time have passed. */
    tick() {
      const t = performance.now();
      if (t - lastFlush >= flushEveryMs) {
        lastFlush = t;
        if (store.pendingWrites > 0) counters.timerFlushes++;
        store.flush();
      }
    },
    finish() {
      engine.finish();
      store.flush();
    },
  };
}

/**
 * Times every statement of the store (its private prepared statements, reached at run time), each store method
 * that writes, and the COMMITs of the flush transactions: { name: { calls, ms } }. Costs ~0.1 µs per call.
 */
function instrument(store) {
  const timings = {};
  const wrap = (obj, key, name) => {
    const fn = obj[key];
    const t = (timings[name] = { calls: 0, ms: 0 });
    obj[key] = function (...args) {
      const t0 = performance.now();
      try {
        return fn.apply(this, args);
      } finally {
        t.ms += performance.now() - t0;
        t.calls++;
      }
    };
  };
  for (const [name, stmt] of Object.entries(store.stmt ?? {})) wrap(stmt, 'run', `stmt.${name}`);
  for (const name of ['addBlock', 'touchOffender', 'forgetOffenders']) wrap(store, name, `store.${name}`);
  return timings;
}

/** Rows and file sizes of a store (after a flush). */
export function dbStats(store, path) {
  const one = (sql) => store.db.prepare(sql).pluck().get();
  const size = (p) => (existsSync(p) ? statSync(p).size : 0);
  return {
    offenders: one('SELECT count(*) FROM offenders'),
    evidence: one('SELECT count(*) FROM evidence'),
    blocks: one('SELECT count(*) FROM blocks'),
    pageSize: one('PRAGMA page_size'),
    pages: one('PRAGMA page_count'),
    freePages: one('PRAGMA freelist_count'),
    fileBytes: size(path),
    walBytes: size(`${path}-wal`),
  };
}

export const MB = (bytes) => (bytes / 1e6).toFixed(1);
