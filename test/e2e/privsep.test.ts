// Privilege separation (run --user): started as root, limited as the systemd unit limits it, logwarden keeps a
// small root firewall process and reads, parses, decides and stores as nobody with no capability left. Shown
// from /proc, by blocking a real client in the lab's namespaces, and by killing either process.
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FIREWALL } from '../../src/firewall/backend.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { nftBackend } from '../../src/firewall/nft.js';
import { FirewallServer } from '../../src/firewall/privileged.js';
import { silentLogger } from '../../src/log/logger.js';
import { parseNetwork } from '../../src/policy/network.js';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, type LogRecord, sleep, startDaemonInside, syslogLine } from './lab.js';

const NOBODY = 65534;
const unavailable = labUnavailable(['nft', 'iptables', 'setpriv']);
if (unavailable) console.warn(`privilege separation tests skipped: ${unavailable}`);

// CAP_SETGID 6, CAP_SETUID 7, CAP_NET_ADMIN 12, CAP_NET_RAW 13
const CAPS = '+setgid,+setuid,+net_admin,+net_raw';
const CAP_BITS = (1n << 6n) | (1n << 7n) | (1n << 12n) | (1n << 13n);
/** Root, with what the unit's CapabilityBoundingSet leaves it (plus CAP_SETUID/CAP_SETGID for --user) */
const AS_UNIT = ['setpriv', `--bounding-set=-all,${CAPS}`, '--inh-caps=-all', '--no-new-privs'];

const field = (status: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)![1].trim();
const hex = (bits: bigint) => bits.toString(16).padStart(16, '0');

/** Waits for a record of `d` (also after its own process has exited: the other one writes to the same pipe). */
async function record(d: DaemonProcess, test: (r: LogRecord) => boolean, what: string, withinMs = 8000): Promise<LogRecord> {
  const t0 = Date.now();
  for (;;) {
    const found = d.records.find(test);
    if (found) return found;
    if (Date.now() - t0 > withinMs) throw new Error(`no record ${what} within ${withinMs} ms:\n${d.transcript()}`);
    await sleep(50);
  }
}

/** Running: not gone, and not a zombie (the daemon process's parent may be gone, and nobody reaps it yet) */
function runs(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs = 8000): Promise<void> {
  const t0 = Date.now();
  while (runs(pid)) {
    if (Date.now() - t0 > withinMs) throw new Error(`process ${pid} still runs after ${withinMs} ms`);
    await sleep(50);
  }
}

describe.skipIf(unavailable)(`run --user nobody: privilege separation${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  let dir = '';
  let n = 0;
  beforeAll(async () => {
    await lab.start();
    dir = mkdtempSync(join(tmpdir(), 'logwarden-privsep-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'auth.log'), syslogLine('Server listening on 0.0.0.0 port 22.'), { mode: 0o644 });
    mkdirSync(join(dir, 'state'), { mode: 0o750 });
    chownSync(join(dir, 'state'), NOBODY, NOBODY);
    mkdirSync(join(dir, 'run'), { mode: 0o755 }); // the PID file's folder: root's
  });
  afterAll(() => {
    lab.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  /** Our nft table, if there (iptables-nft makes tables of its own) */
  const ours = () => lab.nftTables().filter((t) => t.includes('logwarden'));

  /** Starts the pair; resolves once the daemon process runs, with both pids */
  async function start(backend: string, extra: string[] = []) {
    const name = `${backend}${++n}`;
    const files = { db: join(dir, 'state', `${name}.db`), pid: join(dir, 'run', `${name}.pid`) };
    const d = startDaemonInside(lab, AS_UNIT, ['--user', 'nobody', '--backend', backend, '--db', files.db, '--pid-file', files.pid, ...extra, join(dir, 'auth.log')]);
    await d.waitFor(/^logwarden running/);
    const announced = await d.waitFor(/^firewall process running/);
    return { d, files, firewallPid: announced.pid as number, daemonPid: announced.daemon as number };
  }

  // nft: SIGTERM to the firewall process (kill PID-file); iptables: to both at once (systemd's KillMode=control-group)
  for (const { backend, both } of [{ backend: 'nft', both: false }, { backend: 'iptables', both: true }]) {
    it(`${backend}: the log reader runs as nobody with no capabilities, the firewall process keeps them; it blocks; SIGTERM${both ? ' to both' : ''} stops both, cleanly`, async () => {
      // the POST_PARSER command says who it runs as, and passes the lines on
      const { d, files, firewallPid, daemonPid } = await start(backend, ['--post-parser', 'id -u >&2; exec cat']);
      expect((await d.waitFor(/^post-parser: /)).msg).toBe(`post-parser: ${NOBODY}`);
      // the channel to the firewall process (a socket pair) does not leak to it: no socket besides its standard
      // streams (descriptors the test itself inherited may pass through)
      const children = readdirSync(`/proc/${daemonPid}/task`).flatMap((t) => readFileSync(`/proc/${daemonPid}/task/${t}/children`, 'utf8').trim().split(/\s+/)).filter((p) => p !== '');
      expect(children).toHaveLength(1);
      const sockets = readdirSync(`/proc/${children[0]}/fd`).filter((fd) => readlinkOf(Number(children[0]), fd).startsWith('socket:'));
      expect(sockets.sort()).toEqual(['0', '1', '2']);
      expect(readlinkOf(daemonPid, '3')).toMatch(/^socket:/); // where the daemon process holds it
      expect(readFileSync(files.pid, 'utf8').trim()).toBe(String(firewallPid));
      const reader = readFileSync(`/proc/${daemonPid}/status`, 'utf8');
      expect(field(reader, 'Uid')).toBe(`${NOBODY}\t${NOBODY}\t${NOBODY}\t${NOBODY}`);
      expect(field(reader, 'Gid')).toBe(`${NOBODY}\t${NOBODY}\t${NOBODY}\t${NOBODY}`);
      for (const set of ['CapEff', 'CapPrm', 'CapAmb', 'CapInh']) expect(field(reader, set), set).toBe(hex(0n));
      // it is the one holding the log and the store open
      const opened = readdirSync(`/proc/${daemonPid}/fd`).map((fd) => readlinkOf(daemonPid, fd));
      expect(opened).toContain(join(dir, 'auth.log'));
      expect(opened).toContain(files.db);
      const root = readFileSync(`/proc/${firewallPid}/status`, 'utf8');
      expect(field(root, 'Uid')).toBe('0\t0\t0\t0');
      expect(field(root, 'CapEff')).toBe(hex(CAP_BITS));
      const firewallOpened = readdirSync(`/proc/${firewallPid}/fd`).map((fd) => readlinkOf(firewallPid, fd));
      expect(firewallOpened).not.toContain(join(dir, 'auth.log'));
      expect(firewallOpened).not.toContain(files.db);

      const mark = d.mark();
      appendFileSync(join(dir, 'auth.log'), failures('192.0.2.66', 3));
      await d.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
      await lab.until('192.0.2.66', false, 3000);
      expect(await lab.reaches('192.0.2.67')).toBe(true);
      expect(statSync(files.db).uid).toBe(NOBODY);

      // systemctl reload signals the main process: the daemon process reloads
      const hup = d.mark();
      process.kill(firewallPid, 'SIGHUP');
      await d.waitFor(/^SIGHUP: reloading the whitelist$/, 5000, hup);

      if (both) process.kill(daemonPid, 'SIGTERM');
      const { code } = await d.stop('SIGTERM');
      expect(code, d.transcript()).toBe(0);
      const stopped = await record(d, (r) => r.msg === 'stopped', 'stopped');
      expect(stopped.code).toBe(0);
      await gone(daemonPid);
      expect(await lab.reaches('192.0.2.66')).toBe(true);
      expect(ours()).toEqual([]);
      expect(lab.inServerRun([`${backend === 'nft' ? 'nft' : 'iptables-save'}`, ...(backend === 'nft' ? ['list', 'ruleset'] : [])])).not.toMatch(/logwarden/);
      expect(existsSync(files.pid)).toBe(false);
      expect(d.records.filter((r) => r.level >= 50), d.transcript()).toEqual([]);
    });
  }

  it('the firewall process follows the whitelist file too: an entry removed can be blocked once both have reloaded', async () => {
    const file = join(dir, 'whitelist');
    writeFileSync(file, '192.0.2.67\n', { mode: 0o644 });
    const { d, firewallPid } = await start('nft', ['-w', file]);
    const mark = d.mark();
    writeFileSync(file, '# nobody\n');
    // SIGHUP (systemctl reload) makes both read it now, whatever their file watchers have seen yet
    process.kill(firewallPid, 'SIGHUP');
    await record(d, (r) => r.msg === 'whitelist reloaded' && r.process === 'firewall', 'the firewall process reloading');
    await record(d, (r) => r.msg === 'whitelist reloaded' && r.process === undefined, 'the daemon process reloading');
    appendFileSync(join(dir, 'auth.log'), failures('192.0.2.67', 3));
    await d.waitFor(blockedMessage('192.0.2.67'), 5000, mark);
    await lab.until('192.0.2.67', false, 3000);
    expect(d.records.filter((r) => r.level >= 50), d.transcript()).toEqual([]);
    expect((await d.stop('SIGTERM')).code).toBe(0);
    expect(await lab.reaches('192.0.2.67')).toBe(true);
  });

  it('killing the firewall process makes the daemon process stop, loudly, with exit code 1', async () => {
    const { d, daemonPid, firewallPid } = await start('nft');
    process.kill(firewallPid, 'SIGKILL');
    const error = await record(d, (r) => r.level >= 50 && /firewall process/.test(r.msg), 'error about the firewall process');
    console.log(error.msg);
    expect(error.msg).toMatch(/no block can be made any more, so the daemon stops \(exit 1\)/);
    expect((await record(d, (r) => r.msg === 'stopped', 'stopped')).code).toBe(1);
    await gone(daemonPid);
    // the blocks stay where they are: nothing could remove them, and they hold
    expect(ours()).toEqual(['table inet logwarden']);
    lab.inServerRun(['nft', 'delete', 'table', 'inet', 'logwarden']);
  });

  it('killing the daemon process makes the firewall process exit 1, loudly', async () => {
    const { d, daemonPid } = await start('nft');
    process.kill(daemonPid, 'SIGKILL');
    const { code } = await d.exited;
    expect(code).toBe(1);
    const error = d.records.find((r) => r.level >= 50 && r.process === 'firewall');
    expect(error, d.transcript()).toBeDefined();
    console.log(error!.msg);
    expect(error!.msg).toMatch(/^the daemon process \d+ \(nobody\) went away without stopping \(SIGKILL\): nothing reads the logs any more/);
    lab.inServerRun(['nft', 'delete', 'table', 'inet', 'logwarden']);
  });

  it('--dry-run touches no firewall: one process, nobody with no capabilities from the start of reading', async () => {
    const pid = join(dir, 'state', 'dry.pid');
    const d = startDaemonInside(lab, AS_UNIT, ['--user', 'nobody', '--dry-run', '--db', join(dir, 'state', 'dry.db'), '--pid-file', pid, join(dir, 'auth.log')]);
    await d.waitFor(/^logwarden running \(dry run\)/);
    const status = readFileSync(`/proc/${readFileSync(pid, 'utf8').trim()}/status`, 'utf8');
    expect(field(status, 'Uid')).toBe(`${NOBODY}\t${NOBODY}\t${NOBODY}\t${NOBODY}`);
    expect(field(status, 'CapEff')).toBe(hex(0n));
    const mark = d.mark();
    appendFileSync(join(dir, 'auth.log'), failures('192.0.2.10', 3));
    await d.waitFor(blockedMessage('192.0.2.10', true), 5000, mark);
    expect(d.records.some((r) => r.process === 'firewall')).toBe(false);
    expect((await d.stop('SIGTERM')).code).toBe(0);
    expect(ours()).toEqual([]);
  });

  it('without CAP_SETUID and CAP_SETGID (the unit without the drop-in) it refuses to start, saying why', async () => {
    const d = startDaemonInside(lab, ['setpriv', '--bounding-set=-all,+net_admin,+net_raw', '--inh-caps=-all', '--no-new-privs'], ['--user', 'nobody', '--backend', 'nft', '--db', join(dir, 'state', 'nocap.db'), '--pid-file', join(dir, 'run', 'nocap.pid'), join(dir, 'auth.log')]);
    const { code } = await d.exited;
    expect(code).toBe(1);
    expect(d.other).toMatch(/^logwarden run: cannot start: --user nobody: switching to nobody needs CAP_SETUID and CAP_SETGID; logwarden runs as root without them \(a capability bounding set that leaves them out: the systemd unit needs them added, docs\/security.md\)\n$/);
    expect(existsSync(join(dir, 'run', 'nocap.pid'))).toBe(false);
    expect(ours()).toEqual([]);
  });

  it('a store folder nobody cannot write: a clear error naming it and the fix, nothing chowned', async () => {
    const folder = join(dir, 'rootstate');
    mkdirSync(folder, { mode: 0o755 });
    const d = startDaemonInside(lab, AS_UNIT, ['--user', 'nobody', '--backend', 'nft', '--db', join(folder, 's.db'), '--pid-file', join(dir, 'run', 'bad.pid'), join(dir, 'auth.log')]);
    const { code } = await d.exited;
    expect(code).toBe(1);
    expect(d.other, d.transcript()).toContain(`cannot start: the store's folder ${folder} is not writable for nobody (uid ${NOBODY}), the user --user runs the daemon as: chown nobody: ${folder}`);
    expect(statSync(folder).uid).toBe(0);
    expect(readdirSync(folder)).toEqual([]);
    expect(ours()).toEqual([]);
  });
});

describe.skipIf(unavailable)(`the firewall process's server on a real kernel${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());

  it('executes valid requests, and nothing of a malformed or refused one', async () => {
    const firewall = new Firewall(nftBackend, DEFAULT_FIREWALL, silentLogger, { prefix: lab.inServer });
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    new FirewallServer(toServer, toClient, { firewall, protect: [parseNetwork('192.0.2.10')!], log: silentLogger });
    const answers: { id: number | null; ok: boolean; error?: string }[] = [];
    toClient.on('data', (chunk: Buffer) => answers.push(...chunk.toString().trim().split('\n').map((l) => JSON.parse(l))));
    const ask = async (line: string) => {
      const before = answers.length;
      toServer.write(`${line}\n`);
      while (answers.length === before) await sleep(10);
      return answers[answers.length - 1];
    };
    expect(await ask('{"id":1,"op":"setup","allow":["192.0.2.10"]}')).toEqual({ id: 1, ok: true, sent: { batches: 0, operations: 0 } });
    expect((await ask('{"id":2,"op":"block","net":"192.0.2.0/24","timeout":60}')).error).toMatch(/^refused/);
    expect((await ask('{"id":3,"op":"block","net":"192.0.2.067","timeout":60}')).error).toMatch(/not a canonical network/);
    expect((await ask('{"id":4,"op":"apply","ops":[{"block":"192.0.2.67","timeout":60},{"block":"192.0.2.10","timeout":60}],"reconcile":true}')).error).toMatch(/^refused/);
    expect(await lab.reaches('192.0.2.67')).toBe(true);
    expect(lab.inServerRun(['nft', 'list', 'table', 'inet', 'logwarden'])).not.toMatch(/192\.0\.2\.(0\/24|67)/);
    expect(await ask('{"id":5,"op":"block","net":"192.0.2.66","timeout":60}')).toEqual({ id: 5, ok: true, sent: { batches: 1, operations: 1 } });
    await lab.until('192.0.2.66', false, 3000);
    expect(await lab.reaches('192.0.2.10')).toBe(true);
    expect(await ask('{"id":6,"op":"teardown"}')).toMatchObject({ id: 6, ok: true });
    expect(lab.nftTables()).toEqual([]);
    firewall.close();
  });
});

function readlinkOf(pid: number, fd: string): string {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return '';
  }
}
