// `logwarden run` (nft) stopped and started again: the active blocks come back from the store, lines written
// while it was down are read, and a SIGKILL in the middle of a stream of attacks loses no line and counts none
// twice (the store's positions are committed with the lines' effects).
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, sleep, syslogLine } from './lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`daemon restart tests against the kernel skipped: ${unavailable}`);

const BLOCK_WITHIN_MS = 2000;

describe.skipIf(unavailable)(`logwarden run with nft, restarted${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  let dir = '';
  const daemons: DaemonProcess[] = [];
  const log = () => join(dir, 'auth.log');
  const db = () => join(dir, 'state.db');
  const start = async (...extra: string[]) => {
    const d = lab.startDaemon(['--backend', 'nft', '--db', db(), '--pid-file', join(dir, 'run.pid'), ...extra, log()]);
    daemons.push(d);
    await d.waitFor(/^logwarden running/);
    return d;
  };
  const query = <T>(sql: string): T[] => {
    const store = new Database(db(), { readonly: true });
    try {
      return store.prepare(sql).all() as T[];
    } finally {
      store.close();
    }
  };
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'logwarden-daemon-'));
    writeFileSync(log(), syslogLine('Server listening on 0.0.0.0 port 22.'));
  });
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.stop('SIGTERM').catch(() => d.kill());
    if (lab.nftTables().includes('table inet logwarden')) lab.inServerRun(['nft', 'delete', 'table', 'inet', 'logwarden']);
  });

  it('restores the active blocks from the store after a clean stop, and reads what was written meanwhile', async () => {
    let d = await start();
    appendFileSync(log(), failures('192.0.2.66', 3));
    await lab.until('192.0.2.66', false, BLOCK_WITHIN_MS);
    expect((await d.stop('SIGTERM')).code).toBe(0);
    // the table went with the daemon: the client is let in while nothing runs
    expect(lab.nftTables()).toEqual([]);
    expect(await lab.reaches('192.0.2.66')).toBe(true);
    appendFileSync(log(), failures('192.0.2.67', 3));

    d = await start();
    expect((await d.waitFor(/^firewall nft ready/)).restored).toBe(1);
    expect(await lab.reaches('192.0.2.66')).toBe(false);
    await d.waitFor(blockedMessage('192.0.2.67'));
    await lab.until('192.0.2.67', false, BLOCK_WITHIN_MS);
    // the lines read before the stop are not read again
    expect(d.records.filter((r) => /^blocked /.test(r.msg)).map((r) => r.addr)).toEqual(['192.0.2.67']);
    expect(await lab.reaches('192.0.2.10')).toBe(true);
  });

  it('reads the attacks written while it was down even when it had read no line before it stopped', async () => {
    let d = await start();
    expect((await d.stop('SIGTERM')).code).toBe(0);
    appendFileSync(log(), failures('192.0.2.66', 3));
    d = await start();
    await d.waitFor(blockedMessage('192.0.2.66'), 5000);
    expect(await lab.reaches('192.0.2.66')).toBe(false);
  });

  it('restores the blocks after a stop with --keep-on-exit whose table someone removed', async () => {
    let d = await start('--keep-on-exit');
    appendFileSync(log(), failures('2001:db8::66', 3));
    await lab.until('2001:db8::66', false, BLOCK_WITHIN_MS);
    expect((await d.stop('SIGTERM')).code).toBe(0);
    expect(await lab.reaches('2001:db8::66')).toBe(false);
    lab.inServerRun(['nft', 'delete', 'table', 'inet', 'logwarden']);
    expect(await lab.reaches('2001:db8::66')).toBe(true);

    d = await start();
    expect((await d.waitFor(/^firewall nft ready/)).restored).toBe(1);
    expect(await lab.reaches('2001:db8::66')).toBe(false);
    expect(await lab.reaches('2001:db8::10')).toBe(false); // the same /64
    expect(await lab.reaches('192.0.2.10')).toBe(true);
  });

  it('after a SIGKILL in the middle of a stream of attacks, restarts with an intact store that counted every line once', async () => {
    const written: string[] = [];
    let n = 0;
    // one failed password per address: nobody is blocked, every line is one evidence row
    const batch = (count: number) => {
      let text = '';
      for (let i = 0; i < count; i++, n++) {
        const line = syslogLine(`Failed password for root from 10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255} port ${1024 + (n % 60000)} ssh2`, { pid: 10000 + n });
        written.push(line.trimEnd());
        text += line;
      }
      appendFileSync(log(), text);
    };
    const count = () => query<{ n: number }>("SELECT count(*) AS n FROM evidence WHERE line LIKE '%from 10.%'")[0].n;
    let d = await start();
    const killAt = 300 + Math.floor(Math.random() * 1400);
    const streamMs = 2000;
    const t0 = Date.now();
    let killed = false;
    while (Date.now() - t0 < streamMs) {
      batch(25);
      // killed once some lines are in the store, so that the restart has some behind it and some ahead
      if (!killed && Date.now() - t0 >= killAt && count() > 0) {
        d.kill();
        killed = true;
      }
      await sleep(10);
    }
    await d.exited;
    expect(killed).toBe(true);
    const before = count();
    console.log(`SIGKILL after ${killAt} ms of a ${written.length}-line stream, ${before} lines in the store`);
    expect(before).toBeLessThan(written.length);

    d = await start();
    appendFileSync(log(), failures('192.0.2.66', 3));
    await d.waitFor(blockedMessage('192.0.2.66'), 20_000);
    expect((await d.stop('SIGTERM')).code).toBe(0);

    expect(query<{ integrity_check: string }>('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    const rows = query<{ line: string; n: number }>("SELECT line, count(*) AS n FROM evidence WHERE line LIKE '%from 10.%' GROUP BY line");
    expect(rows.filter((r) => r.n > 1)).toEqual([]);
    const counted = new Set(rows.map((r) => r.line));
    expect(written.filter((line) => !counted.has(line))).toEqual([]);
    expect(rows.length).toBe(written.length);
  });
});
