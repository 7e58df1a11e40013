// audit --journal-file: a real journal file (systemd-journal-remote) replayed with the entries' own times and
// identifiers, as the daemon reads them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { journalRemoteMissing, writeJournal } from '../sources/journal-files.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
if (journalRemoteMissing) console.warn('audit --journal-file tests skipped: systemd-journal-remote is not installed');

function audit(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'audit', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(journalRemoteMissing)('audit --journal-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-audit-journal-'));
  const file = join(dir, 'test.journal');
  const t0 = Date.UTC(2026, 4, 1, 10, 0, 0);
  const sshd = (message: string, time: number, pid = 4242) => ({ message, identifier: 'sshd', time, fields: [['_PID', String(pid)]] as [string, string][] });
  writeJournal(file, [
    sshd('Failed password for root from 203.0.113.5 port 4242 ssh2', t0),
    sshd('Failed password for root from 203.0.113.5 port 4242 ssh2', t0 + 1000),
    // the same text under another identifier is not sshd's: the services' identifiers do not even select it
    { message: 'Failed password for root from 198.51.100.9 port 1 ssh2', identifier: 'cron', time: t0 + 1500 },
    sshd('Failed password for root from 203.0.113.5 port 4242 ssh2', t0 + 2000),
    sshd('Failed password for admin from 198.51.100.7 port 22 ssh2', t0 + 3_600_000, 99),
  ]);

  it('replays the entries with their own times and blocks as from a file', () => {
    const r = audit('--journal-file', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { blocks: { addr: string; at: string; attacks: number }[]; summary: { lines: number; attacks: number } };
    expect(out.blocks).toEqual([expect.objectContaining({ addr: '203.0.113.5', at: new Date(t0 + 2000).toISOString(), attacks: 3 })]);
    expect(out.summary).toMatchObject({ lines: 4, attacks: 4 });
  });

  it('reads only the time range asked', () => {
    const r = audit('--journal-file', file, '--json', '--since', new Date(t0 + 2000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).summary).toMatchObject({ lines: 2, attacks: 2 });
  });

  it('does not count entries another program wrote under the service name (as the daemon does)', () => {
    const forgedFile = join(dir, 'forged.journal');
    const fields: [string, string][] = [['_PID', '5000'], ['_UID', '1000'], ['_EXE', '/usr/bin/logger'], ['_TRANSPORT', 'syslog'], ['_COMM', 'logger']];
    writeJournal(forgedFile, [0, 1, 2, 3].map((i) => ({ message: 'Failed password for root from 198.51.100.44 port 22 ssh2', identifier: 'sshd', time: t0 + i * 1000, fields })));
    const r = audit('--journal-file', forgedFile, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ blocks: [], summary: { lines: 4, attacks: 0 } });
    expect(r.stderr).toContain('198.51.100.44');
  });

  it('reports journalctl failing, and exits 1', () => {
    const r = audit('--journal-file', join(dir, 'missing.journal'), '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*missing\.journal: journalctl exited with/);
  });

  it('asks for FILES or --journal', () => {
    const r = audit('--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing FILES');
  });
});
