// The client's words in the daemon's own log records are cut short: a 16 KiB line named twice in a JSON record
// would make a write that another process's record can interleave with, and one journald splits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXCERPT_CHARS, excerpt } from '../../src/log/excerpt.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe('excerpt', () => {
  it('leaves short text alone and cuts long text, saying how long it was', () => {
    expect(excerpt('Failed password for root')).toBe('Failed password for root');
    const long = 'x'.repeat(5000);
    const cut = excerpt(long);
    expect(cut.startsWith('x'.repeat(EXCERPT_CHARS))).toBe(true);
    expect(cut).toContain('… (5000 characters');
    expect(cut.length).toBeLessThan(EXCERPT_CHARS + 80);
  });

  it('never cuts a surrogate pair in two', () => {
    const text = `${'x'.repeat(EXCERPT_CHARS - 1)}😀${'y'.repeat(10)}`;
    const cut = excerpt(text);
    expect(cut.startsWith(`${'x'.repeat(EXCERPT_CHARS - 1)}…`)).toBe(true);
    expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut)).toBe(false);
  });
});

describe('the block record of a long line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-excerpt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the line cut short, in the message and in the line field; the store keeps the whole line', () => {
    const user = 'a'.repeat(1000);
    const lines = [1, 2, 3].map((i) => `May  1 10:00:0${i} web sshd[12${i}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.9  user=${user}\n`);
    const db = join(dir, 'state.db');
    const run = spawnSync(process.execPath, [CLI, 'run', '--dry-run', '--db', db, '--pid-file', join(dir, 'pid'), '-'], { input: lines.join(''), encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    const records = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; line?: string });
    const block = records.find((r) => r.line !== undefined && r.msg.includes('192.0.2.9'));
    expect(block, run.stdout).toBeDefined();
    expect(block!.line).toContain('… (');
    expect(JSON.stringify(block).length).toBeLessThan(1500);
    const explain = spawnSync(process.execPath, [CLI, 'explain', '--db', db, '--json', '192.0.2.9'], { encoding: 'utf8', timeout: 30_000 });
    expect(explain.stdout).toContain(user);
  });
});
