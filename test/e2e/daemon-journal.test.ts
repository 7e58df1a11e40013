// `logwarden run --journal-file` (nft) following a real journal file (written by systemd-journal-remote) while
// sshd entries are appended to it: the attacker is dropped, others still connect, a restart resumes after the
// journal cursor it kept.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { journalRemoteMissing, JOURNAL_REMOTE, type TestEntry, writeJournal } from '../sources/journal-files.js';
import { blockedMessage, type DaemonProcess, Lab, labUnavailable } from './lab.js';

const unavailable = labUnavailable(['nft', 'journalctl']) ?? (journalRemoteMissing ? `${JOURNAL_REMOTE} is missing (apt install systemd-journal-remote)` : null);
if (unavailable) console.warn(`daemon journal tests skipped: ${unavailable}`);

const BLOCK_WITHIN_MS = 2000;

let pid = 7000;
/** sshd's journal entries, stamped now, as journald records them */
const sshd = (...messages: string[]): TestEntry[] =>
  messages.map((message) => ({ message, identifier: 'sshd', time: Date.now(), fields: [['_PID', String(pid++)], ['_COMM', 'sshd'], ['_TRANSPORT', 'syslog']] }));
const failed = (addr: string, n: number) => Array.from({ length: n }, (_, i) => `Failed password for root from ${addr} port ${41000 + i} ssh2`);

describe.skipIf(unavailable)(`logwarden run --journal-file with nft${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const daemons: DaemonProcess[] = [];
  let dir = '';
  const journal = () => join(dir, 'system.journal');
  const start = async () => {
    const d = lab.startDaemon(['--backend', 'nft', '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'run.pid'), '--journal-file', journal()]);
    daemons.push(d);
    await d.waitFor(/^logwarden running/);
    return d;
  };
  beforeAll(async () => {
    await lab.start();
    dir = mkdtempSync(join(tmpdir(), 'logwarden-daemon-journal-'));
    writeJournal(journal(), sshd('Server listening on 0.0.0.0 port 22.'));
  });
  afterAll(() => lab.stop());
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.stop('SIGTERM').catch(() => d.kill());
  });

  it('drops a client within a second of its third failed password appended to the journal; others still connect', async () => {
    const d = await start();
    expect(await lab.reaches('192.0.2.66')).toBe(true);
    writeJournal(journal(), [...sshd(...failed('192.0.2.66', 3)), { message: 'Failed password for root from 192.0.2.67 port 1 ssh2', identifier: 'CRON', time: Date.now() }]);
    const ms = await lab.until('192.0.2.66', false, BLOCK_WITHIN_MS);
    console.log(`dropped ${ms} ms after the journal entries were written`);
    const blocked = await d.waitFor(blockedMessage('192.0.2.66'));
    expect(blocked.attacks).toBe(3);
    expect(await lab.reaches('192.0.2.67')).toBe(true);
    expect(await lab.reaches('192.0.2.10')).toBe(true);
  });

  it('after a restart, reads the entries appended while it was down, once', async () => {
    let d = await start();
    writeJournal(journal(), sshd(...failed('192.0.2.10', 2)));
    // the two failures must be read before the stop: a third one, from IPv6, shows they were
    writeJournal(journal(), sshd(...failed('2001:db8::66', 3)));
    await d.waitFor(blockedMessage('2001:db8::/64'));
    expect((await d.stop('SIGTERM')).code).toBe(0);
    writeJournal(journal(), sshd(...failed('192.0.2.67', 3)));

    d = await start();
    await d.waitFor(blockedMessage('192.0.2.67'));
    await lab.until('192.0.2.67', false, BLOCK_WITHIN_MS);
    expect(await lab.until('2001:db8::66', false, BLOCK_WITHIN_MS)).toBeLessThanOrEqual(BLOCK_WITHIN_MS);
    // .10's two failures were not read again (that would have made four, and a block)
    expect(d.records.filter((r) => /^blocked /.test(r.msg)).map((r) => r.addr)).toEqual(['192.0.2.67']);
    expect(await lab.reaches('192.0.2.10')).toBe(true);
  });
});
