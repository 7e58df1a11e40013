import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_JOURNAL_IDENTIFIERS, JournalSource, type JournalSourceOptions } from '../../src/sources/journal.js';
import { loadRuleFiles } from './rule-programs.js';
import { collect, collectingLogger, tempDir, waitFor } from './helpers.js';
import { journalRemoteMissing, writeJournal, type TestEntry } from './journal-files.js';

const FAST_BACKOFF = { initialMs: 50, maxMs: 400, healthyMs: 60_000 };
const T0 = 1_700_000_000_000;

let tmp: ReturnType<typeof tempDir>;
const sources: JournalSource[] = [];
beforeEach(() => {
  tmp = tempDir('journal');
});
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  tmp.remove();
});

function follow(options: Partial<JournalSourceOptions> & { file: string }, log = collectingLogger()) {
  const source = new JournalSource({ identifiers: [], after: null, log, backoff: FAST_BACKOFF, ...options });
  sources.push(source);
  return source;
}

function entries(prefix: string, from: number, count: number, time = T0): TestEntry[] {
  return Array.from({ length: count }, (_, i) => ({ message: `${prefix} ${from + i}`, identifier: 'sshd', time: time + (from + i) * 1000 }));
}

if (journalRemoteMissing) console.warn('journal tests skipped: /lib/systemd/systemd-journal-remote is missing (apt install systemd-journal-remote)');

describe.skipIf(journalRemoteMissing)('JournalSource (real journal files)', () => {
  it('reads entries with their journal fields; a MESSAGE of bytes is decoded, and one with newlines stays one line', async () => {
    const file = tmp.path('a.journal');
    writeJournal(file, [
      { message: 'Failed password for root from 192.0.2.1 port 22 ssh2', identifier: 'sshd', time: T0, fields: [['_PID', '42'], ['_HOSTNAME', 'web1'], ['_UID', '0'], ['_EXE', '/usr/sbin/sshd'], ['_SYSTEMD_UNIT', 'ssh.service'], ['_TRANSPORT', 'syslog'], ['_COMM', 'sshd']] },
      { message: Buffer.from([0x62, 0xc3, 0xa9, 0x0a, 0x74, 0x77, 0x6f]), identifier: 'sshd', time: T0 + 1, fields: [['SYSLOG_PID', '7'], ['FOO', 'a'], ['FOO', 'b']] },
    ]);
    const got = await collect(follow({ file, since: new Date(T0 - 1000) }));
    await waitFor(() => got.lines.length >= 2, '2 entries');
    const [first, second] = got.lines;
    expect(first!.text).toBe('Failed password for root from 192.0.2.1 port 22 ssh2');
    expect(first!.journal).toMatchObject({ time: T0, identifier: 'sshd', pid: 42, host: 'web1', uid: 0, exe: '/usr/sbin/sshd', unit: 'ssh.service', transport: 'syslog', comm: 'sshd' });
    expect(first!.position).toEqual({ kind: 'journal', cursor: first!.journal!.cursor, time: T0 });
    expect(first!.lineNo).toBeNull();
    expect(second!.text).toBe('bé\ntwo');
    expect(second!.journal).toMatchObject({ pid: 7, time: T0 + 1, host: null });
  });

  it('starts at the end the first time, then reads entries appended while following', async () => {
    const file = tmp.path('a.journal');
    writeJournal(file, entries('old', 0, 3));
    const source = follow({ file });
    const got = await collect(source);
    await new Promise((r) => setTimeout(r, 300));
    writeJournal(file, entries('new', 0, 3));
    await waitFor(() => got.lines.length >= 3, 'appended entries');
    expect(got.texts()).toEqual(['new 0', 'new 1', 'new 2']);
    expect(source.status()).toMatchObject({ kind: 'journal', state: 'reading', lines: 3 });
  });

  it('follows a folder of journal files through rotation (a new file, the active one renamed), as journald rotates', async () => {
    const folder = tmp.path('journal');
    mkdirSync(folder);
    writeJournal(`${folder}/system.journal`, entries('before', 0, 2));
    const source = follow({ file: folder, since: new Date(T0 - 1000) });
    const got = await collect(source);
    await waitFor(() => got.lines.length >= 2, 'entries before rotation');
    // journald's rotation: the active file is archived under a new name, and a new one is started
    renameSync(`${folder}/system.journal`, `${folder}/system@0001-0001.journal`);
    writeJournal(`${folder}/system.journal`, entries('after', 2, 2));
    await waitFor(() => got.lines.length >= 4, 'entries of the new file');
    writeJournal(`${folder}/system.journal`, entries('appended', 4, 2));
    await waitFor(() => got.lines.length >= 6, 'entries appended to the new file');
    expect(got.texts()).toEqual(['before 0', 'before 1', 'after 2', 'after 3', 'appended 4', 'appended 5']);
  });

  it('matches identifiers with -t', async () => {
    const file = tmp.path('a.journal');
    writeJournal(file, [
      { message: 'from sshd', identifier: 'sshd', time: T0 },
      { message: 'from cron', identifier: 'CRON', time: T0 + 1 },
      { message: 'from sshd-session', identifier: 'sshd-session', time: T0 + 2 },
    ]);
    const got = await collect(follow({ file, identifiers: ['sshd', 'sshd-session'], since: new Date(T0 - 1000) }));
    await waitFor(() => got.lines.length >= 2, 'matching entries');
    await new Promise((r) => setTimeout(r, 150));
    expect(got.texts()).toEqual(['from sshd', 'from sshd-session']);
  });

  it('resumes after a stored cursor: none lost, none twice', async () => {
    const file = tmp.path('a.journal');
    writeJournal(file, entries('e', 0, 5));
    const first = follow({ file, since: new Date(T0 - 1000) });
    const got1 = await collect(first);
    await waitFor(() => got1.lines.length >= 5, 'first entries');
    await first.stop();
    writeJournal(file, entries('e', 5, 3));
    const got2 = await collect(follow({ file, after: got1.lines[2]!.position }));
    await waitFor(() => got2.lines.length >= 5, 'entries after the cursor');
    await new Promise((r) => setTimeout(r, 150));
    expect(got2.texts()).toEqual(['e 3', 'e 4', 'e 5', 'e 6', 'e 7']);
  });

  it('falls back to the last event time, with a warning, for a cursor journalctl rejects', async () => {
    const file = tmp.path('a.journal');
    writeJournal(file, entries('e', 0, 5));
    const log = collectingLogger();
    const source = follow({ file, after: { kind: 'journal', cursor: 'not a cursor', time: T0 + 3000 } }, log);
    const got = await collect(source);
    await waitFor(() => got.lines.length >= 2, 'entries since the last event');
    expect(got.texts()).toEqual(['e 3', 'e 4']);
    expect(log.at('warn').some((r) => r.message.includes('does not know the stored cursor'))).toBe(true);
    expect(source.status().errors).toBeGreaterThanOrEqual(1);
  });

  it('falls back for a well-formed cursor of another journal, which journalctl would silently misplace', async () => {
    const file = tmp.path('a.journal');
    writeJournal(file, entries('e', 0, 5));
    // Another seqnum id and boot, and a time past every entry: --after-cursor alone would show nothing, ever
    const foreign = 's=00000000000000000000000000000001;i=99;b=ffffffffffffffffffffffffffffffff;m=1;t=70a24183cc480;x=1';
    const log = collectingLogger();
    const got = await collect(follow({ file, after: { kind: 'journal', cursor: foreign, time: T0 + 1000 } }, log));
    await waitFor(() => got.lines.length >= 4, 'entries since the last event');
    expect(got.texts()).toEqual(['e 1', 'e 2', 'e 3', 'e 4']);
    expect(log.at('warn')).toHaveLength(1);
  });

  it('reads on from now for a cursor from the future (clock set back)', async () => {
    const file = tmp.path('a.journal');
    writeJournal(file, entries('old', 0, 3));
    const foreign = 's=00000000000000000000000000000001;i=99;b=ffffffffffffffffffffffffffffffff;m=1;t=7fa24183cc480;x=1';
    const log = collectingLogger();
    const got = await collect(follow({ file, after: { kind: 'journal', cursor: foreign, time: Date.now() + 86_400_000 } }, log));
    writeJournal(file, [{ message: 'after the clock change', identifier: 'sshd', time: Date.now() + 1000 }]);
    await waitFor(() => got.lines.length >= 1, 'the new entry');
    expect(got.texts()).toEqual(['after the clock change']);
    expect(log.at('warn').some((r) => r.message.includes('in the future'))).toBe(true);
  });

  it('restarts journalctl when it is killed, logs it, and resumes after the last entry seen', async () => {
    const file = tmp.path('a.journal');
    const pids = tmp.path('pids');
    const wrapper = tmp.path('journalctl');
    // Records each follower's pid, so the test can kill exactly the process it started
    writeFileSync(wrapper, `#!/bin/sh\ncase "$*" in *" -f "*|"-f "*) echo $$ >> '${pids}';; esac\nexec journalctl "$@"\n`);
    chmodSync(wrapper, 0o755);
    writeJournal(file, entries('e', 0, 3));
    const log = collectingLogger();
    const source = follow({ file, journalctl: wrapper, since: new Date(T0 - 1000) }, log);
    const got = await collect(source);
    await waitFor(() => got.lines.length >= 3, 'first entries');
    const pidOf = () => readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    process.kill(pidOf()[0]!, 'SIGKILL');
    await waitFor(() => log.at('error').some((r) => r.message.includes('killed by SIGKILL')), 'the exit logged');
    writeJournal(file, entries('e', 3, 2));
    await waitFor(() => got.lines.length >= 5, 'entries after the restart');
    await new Promise((r) => setTimeout(r, 150));
    expect(got.texts()).toEqual(['e 0', 'e 1', 'e 2', 'e 3', 'e 4']);
    expect(pidOf().length).toBe(2);
    expect(source.status().state).toBe('reading');
  });

  it('logs every stderr line and keeps restarting a journalctl that keeps failing', async () => {
    const wrapper = tmp.path('journalctl');
    writeFileSync(wrapper, '#!/bin/sh\necho "Journal file /var/log/journal/x/system.journal corrupted, ignoring file." >&2\nexit 1\n');
    chmodSync(wrapper, 0o755);
    const log = collectingLogger();
    const source = follow({ file: tmp.path('none.journal'), journalctl: wrapper }, log);
    await source.start(() => {});
    await waitFor(() => log.at('error').length >= 3, 'three exits');
    expect(log.at('warn').filter((r) => r.message.includes('corrupted, ignoring file')).length).toBeGreaterThanOrEqual(3);
    expect(log.at('error')[0]!.message).toMatch(/exited with code 1; restarting in \d+ ms/);
    expect(source.status()).toMatchObject({ errors: expect.any(Number), lastError: expect.any(String) });
  });

  it('says so when journalctl cannot be started at all', async () => {
    const log = collectingLogger();
    const source = follow({ file: tmp.path('none.journal'), journalctl: tmp.path('no-such-journalctl') }, log);
    await source.start(() => {});
    await waitFor(() => log.at('error').length >= 2, 'repeated failures');
    expect(log.at('error')[0]!.message).toContain('ENOENT');
    expect(source.status().state).toBe('waiting');
  });
});

describe('DEFAULT_JOURNAL_IDENTIFIERS', () => {
  it("holds every exact program tag of the rules that journald could carry as an identifier", () => {
    const missing: string[] = [];
    for (const { file, programs } of loadRuleFiles()) {
      for (const program of programs) {
        if (program === '*' || program.endsWith('/*')) continue; // not expressible by -t: see the constant's comment
        if (['nginx', 'apache2', 'httpd', 'apache', 'lighttpd', 'php'].includes(program)) continue; // web servers log to files
        if (!DEFAULT_JOURNAL_IDENTIFIERS.includes(program)) missing.push(`${file}: ${program}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('lists the postfix and cyrus daemons their prefixes stand for', () => {
    for (const id of ['postfix/smtpd', 'postfix/smtps/smtpd', 'postfix/submission/smtpd', 'postfix/postscreen', 'cyrus/imap', 'cyrus/pop3']) {
      expect(DEFAULT_JOURNAL_IDENTIFIERS).toContain(id);
    }
    expect(new Set(DEFAULT_JOURNAL_IDENTIFIERS).size).toBe(DEFAULT_JOURNAL_IDENTIFIERS.length);
  });
});
