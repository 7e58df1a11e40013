// `logwarden run` with the nft backend tailing a log file in the lab's server namespace: attacks block within
// a second, whitelisted and trusted clients are never blocked, SIGTERM cleans up (unless --keep-on-exit).
import { appendFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, syslogLine } from './lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`daemon tests against the kernel skipped: ${unavailable}`);

/** "Dropped within a second", with room for a loaded 2-core machine */
const BLOCK_WITHIN_MS = 2000;

describe.skipIf(unavailable)(`logwarden run with nft${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  let dir = '';
  let daemon: DaemonProcess | null = null;
  const log = () => join(dir, 'auth.log');
  const start = async (...extra: string[]) => {
    daemon = lab.startDaemon(['--backend', 'nft', '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'run.pid'), ...extra, log()]);
    await daemon.waitFor(/^logwarden running/);
    return daemon;
  };
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'logwarden-daemon-'));
    writeFileSync(log(), syslogLine('Server listening on 0.0.0.0 port 22.'));
  });
  afterEach(async () => {
    await daemon?.stop('SIGTERM').catch(() => daemon?.kill());
    daemon = null;
  });

  it('drops the connections of a client within a second of its third failed password; others still connect', async () => {
    const d = await start();
    expect(await lab.reaches('192.0.2.66')).toBe(true);
    const mark = d.mark();
    appendFileSync(log(), failures('192.0.2.66', 3));
    const ms = await lab.until('192.0.2.66', false, BLOCK_WITHIN_MS);
    console.log(`dropped ${ms} ms after the third failure was written`);
    expect(ms).toBeLessThanOrEqual(BLOCK_WITHIN_MS);
    const blocked = await d.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    expect(blocked.attacks).toBe(3);
    expect(await lab.reaches('192.0.2.67')).toBe(true);
    expect(await lab.reaches('2001:db8::66')).toBe(true);
  });

  /** Waits until the lines before it were read: a sentinel attacker's block means every earlier line was scored. */
  const sentinel = async (d: DaemonProcess, addr = '192.0.2.67') => {
    const mark = d.mark();
    appendFileSync(log(), failures(addr, 3));
    await d.waitFor(blockedMessage(addr), 5000, mark);
  };
  const blockedAddrs = (d: DaemonProcess) => d.records.filter((r) => /^blocked /.test(r.msg)).map((r) => r.addr);

  it('never blocks whitelisted clients (a whitelist file, and -w), however many failures they write', async () => {
    const whitelist = join(dir, 'whitelist');
    writeFileSync(whitelist, '# trusted\n192.0.2.10\n');
    const d = await start('--whitelist', whitelist, '-w', '2001:db8::10');
    appendFileSync(log(), failures('192.0.2.10', 10) + failures('2001:db8::10', 10));
    await sentinel(d);
    expect(blockedAddrs(d)).toEqual(['192.0.2.67']);
    expect(await lab.reaches('192.0.2.10')).toBe(true);
    expect(await lab.reaches('2001:db8::10')).toBe(true);
  });

  it('does not block five failures that follow a successful login from the same address within the trust time', async () => {
    const d = await start();
    appendFileSync(log(), syslogLine('Accepted password for u from 192.0.2.66 port 41000 ssh2') + failures('192.0.2.66', 5, 'u'));
    await sentinel(d);
    expect(blockedAddrs(d)).toEqual(['192.0.2.67']);
    expect(await lab.reaches('192.0.2.66')).toBe(true);
  });

  it('SIGTERM removes our table, and nothing else, and exits 0 within 5 s', async () => {
    lab.inServerRun(['nft', 'add', 'table', 'inet', 'other']);
    const d = await start();
    await sentinel(d, '192.0.2.66');
    expect(lab.nftTables()).toContain('table inet logwarden');
    const { code, ms } = await d.stop('SIGTERM');
    expect(code, d.transcript()).toBe(0);
    expect(ms).toBeLessThan(5000);
    expect(lab.nftTables()).toEqual(['table inet other']);
    expect(existsSync(join(dir, 'run.pid'))).toBe(false);
    expect(await lab.reaches('192.0.2.66')).toBe(true);
    lab.inServerRun(['nft', 'delete', 'table', 'inet', 'other']);
  });

  it('with --keep-on-exit, SIGTERM leaves the table and its blocks in place', async () => {
    const d = await start('--keep-on-exit');
    await sentinel(d, '192.0.2.66');
    const { code, ms } = await d.stop('SIGTERM');
    expect(code, d.transcript()).toBe(0);
    expect(ms).toBeLessThan(5000);
    expect(lab.nftTables()).toEqual(['table inet logwarden']);
    expect(await lab.reaches('192.0.2.66')).toBe(false);
    lab.inServerRun(['nft', 'delete', 'table', 'inet', 'logwarden']);
  });
});
