// What a crash does to lines that attempt correlation still holds. The daemon commits a source's position after
// each batch of lines, with the effects of those lines; but the first line of an sshd attempt (`Invalid user`,
// which waits for its `Failed password`) and `Failed publickey` lines (which wait for their connection to end or
// succeed) have no effect yet when their batch is committed. These tests measure, line by line, what happens to
// such an attempt when the daemon is killed (SIGKILL) or stopped (SIGTERM) between its lines: the lines correlation
// holds are written with the position that passes them, and read again at the next start.
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, queryStore, startLogwarden, syslogLine } from '../e2e/lab.js';
import { pause } from './torture.js';

const FIRST = syslogLine('Invalid user admin from 198.51.100.7 port 5555', { pid: 777 });
const LAST = syslogLine('Failed password for invalid user admin from 198.51.100.7 port 5555 ssh2', { pid: 777 });
const KEYS = [1, 2].map((i) => syslogLine(`Failed publickey for root from 198.51.100.8 port 6000 ssh2: RSA SHA256:key${i}`, { pid: 778 }));
const CLOSED = syslogLine('Connection closed by authenticating user root 198.51.100.8 port 6000 [preauth]', { pid: 778 });

describe('logwarden run stopped while attempt correlation holds lines', () => {
  let dir = '';
  const daemons: DaemonProcess[] = [];
  const log = () => join(dir, 'auth.log');
  const db = () => join(dir, 'state.db');
  const start = async () => {
    const d = startLogwarden(['--backend', 'null', '--db', db(), '--pid-file', join(dir, 'run.pid'), log()]);
    daemons.push(d);
    await d.waitFor(/^logwarden running/, 15_000);
    return d;
  };
  /** Evidence rows of an address: [line, outcome] */
  const rows = (addr: string) => queryStore<{ line: string; outcome: string }>(db(), `SELECT line, outcome FROM evidence WHERE addr = '${addr}' ORDER BY id`);
  const until = async (condition: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await pause(20);
    }
  };
  /** The committed position has passed every byte of the log */
  const committed = () =>
    until(async () => (await queryStore<{ offset: number }>(db(), `SELECT offset FROM positions WHERE source = '${log()}'`))[0]?.offset === statSync(log()).size, 'the position at the end of the log');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'logwarden-held-'));
    writeFileSync(log(), syslogLine('Server listening on 0.0.0.0 port 22.'));
  });
  afterEach(() => {
    for (const d of daemons.splice(0)) d.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const split = async (stop: (d: DaemonProcess) => Promise<unknown>) => {
    let d = await start();
    appendFileSync(log(), FIRST + KEYS.join(''));
    await committed();
    // held: no effect yet, though their position is committed
    expect(await rows('198.51.100.7')).toEqual([]);
    expect(await rows('198.51.100.8')).toEqual([]);
    await stop(d);
    appendFileSync(log(), LAST + CLOSED);
    d = await start();
    await until(async () => (await rows('198.51.100.8')).some((r) => r.line === CLOSED.trimEnd()), 'the closing line in the store');
    await until(async () => (await rows('198.51.100.7')).some((r) => r.line === LAST.trimEnd()), 'the last line in the store');
    await d.stop('SIGTERM');
    return { invalid: await rows('198.51.100.7'), publickey: await rows('198.51.100.8') };
  };

  // what the same lines give when logwarden is not stopped between them
  const uninterrupted = {
    invalid: [
      { line: FIRST.trimEnd(), outcome: 'joined' },
      { line: LAST.trimEnd(), outcome: 'scored' },
    ],
    publickey: [...KEYS, CLOSED].map((l) => ({ line: l.trimEnd(), outcome: 'scored' })),
  };

  it('SIGKILL: the held lines were written with the position that passed them, and are read again at start', async () => {
    expect(await split((d) => d.stop('SIGKILL'))).toEqual(uninterrupted);
  });

  it('SIGTERM: the held lines are kept for the next start, not scored at the stop: the attempt counts once', async () => {
    expect(await split((d) => d.stop('SIGTERM'))).toEqual(uninterrupted);
  });
});
