// The store's file deleted or replaced under a running daemon: SQLite would write on into the open file and lose
// it all at exit. The daemon notices within seconds, says so, and writes its whole state out (back to the path
// when deleted; beside a replacing file, never over it), so the next start loses no block it decided.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, syslogLine } from './lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`database file tests skipped: ${unavailable}`);

const activeIn = (file: string) => {
  const d = new Database(file, { readonly: true });
  try {
    return d.prepare(`SELECT key FROM blocks WHERE state = 'active' ORDER BY key`).pluck().all() as string[];
  } finally {
    d.close();
  }
};

describe.skipIf(unavailable)(`the store's file deleted or replaced under the daemon${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  let dir = '';
  let daemon: DaemonProcess;
  const log = () => join(dir, 'auth.log');
  const db = () => join(dir, 'state.db');
  const start = async () => {
    const d = lab.startDaemon(['--backend', 'nft', '--keep-on-exit', '--db', db(), '--pid-file', join(dir, 'run.pid'), log()]);
    await d.waitFor(/^logwarden running/);
    return d;
  };
  const block = async (addr: string) => {
    const mark = daemon.mark();
    appendFileSync(log(), failures(addr, 3));
    await daemon.waitFor(blockedMessage(addr), 5000, mark);
  };

  beforeAll(() => lab.start());
  afterAll(() => lab.stop());
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'logwarden-dbfile-'));
    writeFileSync(log(), syslogLine('Server listening on 0.0.0.0 port 22.'));
    daemon = await start();
    await block('192.0.2.66');
  });
  afterEach(async () => {
    await daemon.stop('SIGTERM').catch(() => daemon.kill());
    lab.inServerRun(['nft', 'delete', 'table', 'inet', 'logwarden']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('deleted: found within seconds, the state written back to the path; what comes later is there after SIGTERM, and a restart has it all', async () => {
    const mark = daemon.mark();
    for (const suffix of ['', '-wal', '-shm']) rmSync(db() + suffix, { force: true });
    const found = await daemon.waitFor(/^database .* was deleted while logwarden runs: wrote a copy of the whole state back to it/, 5000, mark);
    console.log(found.msg);
    expect(existsSync(db())).toBe(true);
    expect(activeIn(db())).toEqual(['192.0.2.66']);
    await block('192.0.2.67');
    const { code } = await daemon.stop('SIGTERM');
    expect(code, daemon.transcript()).toBe(0);
    expect(activeIn(db())).toEqual(['192.0.2.66', '192.0.2.67']);
    daemon = await start();
    expect(daemon.records.some((r) => /was deleted|replaced/.test(r.msg))).toBe(false);
    expect(await lab.reaches('192.0.2.67')).toBe(false);
  });

  it('replaced by another file: that file is left as it is, the state goes to PATH.saved', async () => {
    const mark = daemon.mark();
    const other = join(dir, 'other');
    writeFileSync(other, 'a user file, not a database\n');
    renameSync(other, db());
    const found = await daemon.waitFor(/^database .* was replaced by another file while logwarden runs: left that file alone, wrote a copy of the whole state to .*state\.db\.saved/, 5000, mark);
    console.log(found.msg);
    await block('192.0.2.67');
    const { code } = await daemon.stop('SIGTERM');
    expect(code, daemon.transcript()).toBe(0);
    expect(readFileSync(db(), 'utf8')).toBe('a user file, not a database\n');
    expect(activeIn(`${db()}.saved`)).toEqual(['192.0.2.66', '192.0.2.67']);
  });
});
