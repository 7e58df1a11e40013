// Forged journal entries: `logger -t sshd "Failed password ..."` by a local user, and a forged `Accepted`,
// through a real daemon (`logwarden run --backend null --journal-file`) reading a real journal file written by
// systemd-journal-remote with the fields journald itself records (_UID, _EXE, _SYSTEMD_UNIT, _TRANSPORT).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds, expectedSender, nameMatches, senderVerdict } from '../../src/sources/senders.js';
import { loadRules } from '../../src/parse/rules.js';
import { DaemonProcess, type LogRecord } from '../e2e/lab.js';
import { journalRemoteMissing, JOURNAL_REMOTE, type TestEntry, writeJournal } from '../sources/journal-files.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const unavailable = !existsSync(CLI) ? 'dist/ is not built (npx tsc -p .)'
  : journalRemoteMissing ? `${JOURNAL_REMOTE} is missing (apt install systemd-journal-remote)`
  : !existsSync('/usr/bin/journalctl') && !existsSync('/bin/journalctl') ? 'journalctl is missing' : null;
if (unavailable) console.warn(`forged journal entry tests skipped: ${unavailable}`);

const PASSWD = 'root:x:0:0::/root:/bin/sh\nsshd:x:105:65534::/run/sshd:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n';
const ssh = expectedSender(loadRules().find((r) => r.id === 'ssh-failed-password')!.senders, PASSWD);

/** What journald records for each kind of sender */
const SENDERS = {
  sshd: { uid: 0, exe: '/usr/lib/openssh/sshd-session', unit: 'ssh.service', transport: 'syslog' },
  /** `logger -t sshd` by alice, with its process renamed to sshd */
  logger: { uid: 1000, exe: '/usr/bin/logger', unit: 'session-3.scope', transport: 'syslog' },
  /** the same, through the native protocol (`systemd-cat -t sshd`) */
  cat: { uid: 1000, exe: '/usr/bin/systemd-cat', unit: 'user@1000.service', transport: 'journal' },
  /** alice's logger that exited before journald read /proc: only the socket's credentials are left */
  loggerGone: { uid: 1000, exe: null, unit: null, transport: 'syslog' },
  /** root's sshd that exited likewise */
  sshdGone: { uid: 0, exe: null, unit: null, transport: 'syslog' },
  /** root running logger: right uid, wrong program */
  rootLogger: { uid: 0, exe: '/usr/bin/logger', unit: 'session-1.scope', transport: 'syslog' },
  /** a kernel message cannot be sshd's */
  kernel: { uid: null, exe: null, unit: null, transport: 'kernel' },
} as const;

describe('sender verdicts', () => {
  it('trusts sshd, counts an exited sender of the right account only for attacks, refuses everything else', () => {
    expect(senderVerdict(SENDERS.sshd, ssh)).toBe('trusted');
    expect(senderVerdict({ ...SENDERS.sshd, exe: '/usr/sbin/sshd', unit: null }, ssh)).toBe('trusted');
    expect(senderVerdict({ ...SENDERS.sshd, exe: '/opt/sshd', unit: 'sshd@3-192.0.2.1:22-203.0.113.5:4000.service' }, ssh)).toBe('trusted');
    expect(senderVerdict({ ...SENDERS.sshd, uid: 105 }, ssh)).toBe('trusted'); // the privilege-separation account
    expect(senderVerdict({ ...SENDERS.sshd, transport: 'stdout' }, ssh)).toBe('trusted');
    expect(senderVerdict(SENDERS.sshdGone, ssh)).toBe('unverified');
    for (const forged of [SENDERS.logger, SENDERS.cat, SENDERS.loggerGone, SENDERS.rootLogger, SENDERS.kernel]) {
      expect(senderVerdict(forged, ssh), JSON.stringify(forged)).toBe('forged');
    }
    // a user running the real sshd binary is still not root
    expect(senderVerdict({ ...SENDERS.sshd, uid: 1000 }, ssh)).toBe('forged');
    expect(senderVerdict({ ...SENDERS.sshd, transport: 'audit' }, ssh)).toBe('forged');
  });

  it('resolves accounts through passwd text, and names with one *', () => {
    expect([...accountIds(['root', 'sshd', 'nobody-here', '42'], PASSWD)].sort()).toEqual([0, 105, 42]);
    expect([...accountIds(['root'], '')]).toEqual([0]);
    expect(nameMatches('ssh@*.service', 'ssh@1-2.service')).toBe(true);
    expect(nameMatches('ssh@*.service', 'ssh@.servicex')).toBe(false);
    expect(nameMatches('/usr/lib/dovecot/*', '/usr/lib/dovecot/imap-login')).toBe(true);
    expect(nameMatches('/usr/sbin/sshd', '/usr/sbin/sshd2')).toBe(false);
    expect(nameMatches('a*a', 'a')).toBe(false);
  });

  it('every bundled rules file names its senders', () => {
    const missing = loadRules().filter((r) => r.senders === null).map((r) => r.file);
    expect([...new Set(missing)]).toEqual([]);
  });
});

let pid = 20_000;
function entry(message: string, sender: { uid: number | null; exe: string | null; unit: string | null; transport: string }): TestEntry {
  const fields: [string, string][] = [['_PID', String(pid++)], ['_COMM', 'sshd'], ['_TRANSPORT', sender.transport], ['_HOSTNAME', 'web']];
  if (sender.uid !== null) fields.push(['_UID', String(sender.uid)]);
  if (sender.exe !== null) fields.push(['_EXE', sender.exe]);
  if (sender.unit !== null) fields.push(['_SYSTEMD_UNIT', sender.unit]);
  return { message, identifier: 'sshd', time: Date.now(), fields };
}
const failed = (addr: string, n: number, sender: Parameters<typeof entry>[1]) =>
  Array.from({ length: n }, (_, i) => entry(`Failed password for root from ${addr} port ${41000 + i} ssh2`, sender));
const accepted = (addr: string, sender: Parameters<typeof entry>[1]) => entry(`Accepted password for alice from ${addr} port 40000 ssh2`, sender);

describe.skipIf(unavailable)(`a real daemon reading forged journal entries${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-forged-'));
  const journal = join(dir, 'system.journal');
  let daemon: DaemonProcess;
  const blocked = () => daemon.records.filter((r) => /^blocked /.test(r.msg)).map((r) => r.addr as string);

  beforeAll(async () => {
    writeJournal(journal, [entry('Server listening on 0.0.0.0 port 22.', SENDERS.sshd)]);
    daemon = new DaemonProcess(
      [process.execPath, CLI, 'run', '--backend', 'null', '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'run.pid'), '--journal-file', journal],
      process.env,
    );
    await daemon.waitFor(/^logwarden running/);
  });
  afterAll(async () => {
    await daemon?.stop().catch(() => daemon.kill());
  });

  it('blocks nobody for forged failures, trusts nobody for a forged Accepted, and still blocks real attackers', async () => {
    writeJournal(journal, [
      ...failed('192.0.2.50', 4, SENDERS.logger),
      ...failed('192.0.2.51', 4, SENDERS.cat),
      ...failed('192.0.2.52', 4, SENDERS.loggerGone),
      ...failed('192.0.2.53', 4, SENDERS.rootLogger),
      // a forged login, then real failures: they are scored
      accepted('192.0.2.70', SENDERS.logger),
      ...failed('192.0.2.70', 3, SENDERS.sshd),
      // a login whose sender journald could not identify trusts nobody either
      accepted('192.0.2.71', SENDERS.sshdGone),
      ...failed('192.0.2.71', 3, SENDERS.sshd),
      // a real login does (the control: without the check, .70 would not be blocked either)
      accepted('192.0.2.72', SENDERS.sshd),
      ...failed('192.0.2.72', 3, SENDERS.sshd),
      // attacks of an exited sender of the right account are counted
      ...failed('192.0.2.61', 3, SENDERS.sshdGone),
      ...failed('192.0.2.60', 3, SENDERS.sshd),
    ]);
    await daemon.waitFor(/^blocked 192\.0\.2\.60 /);
    expect(blocked().sort()).toEqual(['192.0.2.60', '192.0.2.61', '192.0.2.70', '192.0.2.71']);
    const forged = daemon.records.filter((r) => /^forged journal entry ignored/.test(r.msg));
    expect(forged.map((r: LogRecord) => r.addr)).toEqual([...Array(4).fill('192.0.2.50'), ...Array(4).fill('192.0.2.51'), ...Array(4).fill('192.0.2.52'), ...Array(4).fill('192.0.2.53'), '192.0.2.70']);
    expect(forged[0]).toMatchObject({ uid: 1000, exe: '/usr/bin/logger', transport: 'syslog', comm: 'sshd', identifier: 'sshd' });
    expect(daemon.records.some((r) => /whose sender journald could not identify/.test(r.msg) && r.addr === '192.0.2.71')).toBe(true);
  });
});
