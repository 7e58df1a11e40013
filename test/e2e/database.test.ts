// The store's file system fails under a running daemon: full, forced read-only (ext4 errors=remount-ro), the
// file deleted or replaced. The daemon keeps blocking from memory, says so loudly, retries, and loses no block
// it decided. The file system is a small ext4 image loop-mounted in the daemon's own mount namespace.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, metricValue, scrapeMetrics, sleep, startDaemonUnder, syslogLine } from './lab.js';

const unavailable =
  labUnavailable(['nft', 'unshare', 'nsenter', 'mkfs.ext4']) ??
  (spawnSync('sh', ['-c', 'test -e /dev/loop-control']).status === 0 ? null : 'no loop devices (/dev/loop-control)');
if (unavailable) console.warn(`database fault tests skipped: ${unavailable}`);

describe.skipIf(unavailable)(`the store's file system fails under the daemon${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  let dir = '';
  let mnt = '';
  let daemon: DaemonProcess;
  let metricsAt = '';
  const log = () => join(dir, 'auth.log');
  const db = () => join(mnt, 'state.db');
  const pidFile = () => join(dir, 'run.pid');
  /** Runs argv in the daemon's mount namespace (where the image is mounted) */
  const inDaemonFs = (...argv: string[]) => {
    const pid = readFileSync(pidFile(), 'utf8').trim();
    return execFileSync('nsenter', [`--mount=/proc/${pid}/ns/mnt`, '--', ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const metric = async (name: string) => metricValue(await scrapeMetrics(lab, metricsAt), name);

  beforeAll(() => lab.start());
  afterAll(() => lab.stop());
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'logwarden-dbfault-'));
    mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    const image = join(dir, 'fs.img');
    execFileSync('truncate', ['-s', '8M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', image]);
    writeFileSync(log(), syslogLine('Server listening on 0.0.0.0 port 22.'));
    const wrapper = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount -o loop,errors=remount-ro "$1" "$2" && shift 2 && exec "$@"`, 'sh', image, mnt];
    daemon = startDaemonUnder(lab, wrapper, [
      '--backend', 'nft', '--sync-interval', '1', '--metrics', '127.0.0.1:0', '--db', db(), '--pid-file', pidFile(), log(),
    ]);
    metricsAt = String((await daemon.waitFor(/^metrics at /)).metrics);
    await daemon.waitFor(/^logwarden running/);
    await block('192.0.2.66');
  });
  afterEach(async () => {
    await daemon.stop('SIGTERM').catch(() => daemon.kill());
    rmSync(dir, { recursive: true, force: true });
  });

  async function block(addr: string) {
    const mark = daemon.mark();
    appendFileSync(log(), failures(addr, 3));
    await daemon.waitFor(blockedMessage(addr), 5000, mark);
    await lab.until(addr, false, 3000);
  }

  /** The active blocks written to the store file, read by another process in the daemon's mount namespace */
  const writtenBlocks = (file = db()) => {
    const script = `const D = require(${JSON.stringify(join(process.cwd(), 'node_modules', 'better-sqlite3'))}); const d = new D(process.argv[1], { readonly: true }); console.log(JSON.stringify(d.prepare("SELECT key FROM blocks WHERE state = 'active' ORDER BY key").pluck().all()))`;
    return JSON.parse(inDaemonFs(process.execPath, '-e', script, file)) as string[];
  };

  it('disk full: the new block holds (also across syncs), the failure is logged and counted, and written once there is room', async () => {
    inDaemonFs('sh', '-c', `dd if=/dev/zero of="$0" bs=64k 2>/dev/null; sync; true`, join(mnt, 'fill'));
    const mark = daemon.mark();
    // more rows than the free pages of the database and its WAL can take: one failure each from 3,000 addresses
    let noise = '';
    for (let i = 0; i < 3000; i++) noise += syslogLine(`Failed password for invalid user u${i} from 10.1.${i >> 8}.${i & 255} port 4${i} ssh2`);
    appendFileSync(log(), noise);
    await block('192.0.2.67');
    const error = await daemon.waitFor(/^cannot write to the store: .*rows are kept and retried/, 5000, mark);
    expect(error.code).toBe('SQLITE_FULL');
    await sleep(3000); // three syncs against a store that could not take the block
    expect(await lab.reaches('192.0.2.67')).toBe(false);
    expect(await metric('logwarden_store_write_failures_total')).toBeGreaterThan(0);
    expect(await metric('logwarden_store_pending_rows')).toBeGreaterThan(0);
    inDaemonFs('rm', join(mnt, 'fill'));
    await daemon.waitFor(/^store writes succeed again after/, 10_000, mark);
    expect(await metric('logwarden_store_pending_rows')).toBe(0);
    expect(writtenBlocks()).toEqual(['192.0.2.66', '192.0.2.67']);
    expect(daemon.running).toBe(true);
    const { code } = await daemon.stop('SIGTERM');
    expect(code, daemon.transcript()).toBe(0);
  });

  it('forced read-only (ext4 errors=remount-ro): blocks hold from memory (also across syncs), the failure is logged; SIGTERM exits 1, says what is lost and leaves the blocks in the kernel', async () => {
    const device = inDaemonFs('findmnt', '-no', 'SOURCE', mnt).trim().replace(/^\/dev\//, '');
    writeFileSync(`/sys/fs/ext4/${device}/trigger_fs_error`, '1');
    expect(inDaemonFs('findmnt', '-no', 'OPTIONS', mnt)).toMatch(/^ro,|emergency_ro/);
    const mark = daemon.mark();
    await block('192.0.2.67');
    const error = await daemon.waitFor(/^cannot write to the store: /, 5000, mark);
    console.log(`read-only: ${error.msg}`);
    await sleep(3000);
    expect(await lab.reaches('192.0.2.67')).toBe(false);
    expect(await lab.reaches('192.0.2.66')).toBe(false);
    expect(daemon.running).toBe(true);
    const mark2 = daemon.mark();
    const { code } = await daemon.stop('SIGTERM');
    expect(code, daemon.transcript()).toBe(1);
    expect(daemon.other, 'no stack trace: a handled failure').not.toMatch(/\n\s+at /);
    const lost = daemon.records.slice(mark2).find((r) => /they are lost with this process; the firewall objects are left in place/.test(r.msg));
    expect(lost, daemon.transcript()).toBeDefined();
    console.log(`read-only at exit: ${lost!.msg}`);
    // the kernel is the only record left of 192.0.2.67's block: it stays
    expect(lab.nftTables()).toContain('table inet logwarden');
    expect(await lab.reaches('192.0.2.67')).toBe(false);
    lab.inServerRun(['nft', 'delete', 'table', 'inet', 'logwarden']);
  });
});
