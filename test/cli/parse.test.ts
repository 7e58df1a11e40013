// The parse command as users run it: the built CLI in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'logwarden-cli-'));

function run(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const AUTH = [
  'May  1 10:00:00 web sshd[811]: Accepted publickey for alice from 192.0.2.10 port 50122 ssh2: ED25519 SHA256:abc',
  'May  1 10:00:01 web sshd[901]: Invalid user admin from 203.0.113.5 port 40022',
  'May  1 10:00:02 web CRON[77]: (root) CMD (run-parts /etc/cron.hourly)',
  'May  1 10:00:03 web sshd[902]: Failed password for root from 2001:DB8::0:7 port 51001 ssh2',
  'May  1 10:00:04 web sshd[903]: message repeated 2 times: [ Failed password for root from ::ffff:198.51.100.20 port 51001 ssh2]',
  '',
].join('\n');
const authFile = join(dir, 'auth.log');
writeFileSync(authFile, AUTH);

describe('logwarden parse', () => {
  it('prints sshg-parser lines by default, one per attack', () => {
    const { code, stdout } = run(['parse', '--every-line', authFile]);
    expect(code).toBe(0);
    expect(stdout).toBe('100 203.0.113.5 4 10\n100 2001:db8::7 6 10\n100 198.51.100.20 4 10\n100 198.51.100.20 4 10\n');
  });

  it('prints each attempt once, as the policy counts it; --every-line prints every matching line', () => {
    const attempts = [
      'May  1 10:00:00 web sshd[5]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5  user=root',
      'May  1 10:00:01 web sshd[5]: Failed password for root from 203.0.113.5 port 22 ssh2',
      'May  1 10:00:02 web sshd[6]: Failed publickey for bob from 192.0.2.10 port 22 ssh2: RSA SHA256:abc',
      'May  1 10:00:02 web sshd[6]: Accepted publickey for bob from 192.0.2.10 port 22 ssh2: ED25519 SHA256:abc',
      'May  1 10:00:03 web sshd[7]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=scan.example.net  user=root',
      'May  1 10:00:03 web sshd[7]: Failed password for root from 203.0.113.7 port 22 ssh2',
      'May  1 10:00:04 web sshd[8]: Failed publickey for eve from 203.0.113.8 port 22 ssh2: RSA SHA256:abc',
      '',
    ].join('\n');
    expect(run(['parse'], attempts).stdout).toBe('100 203.0.113.5 4 10\n100 203.0.113.7 4 10\n100 203.0.113.8 4 10\n');
    expect(run(['parse', '--every-line'], attempts).stdout).toBe(
      '100 203.0.113.5 4 10\n100 203.0.113.5 4 10\n100 192.0.2.10 4 10\n100 203.0.113.7 4 10\n100 203.0.113.8 4 10\n',
    );
  });

  it('attributes a line that names only its session to the address of the session\'s first line', () => {
    const smtpd = [
      'May  1 10:00:04 mail smtpd[2705]: 9b1d2e3f4a5b6c7d smtp connected address=203.0.113.92 host=unknown',
      'May  1 10:00:04 mail smtpd[2705]: 1111111111111111 smtp connected address=192.0.2.10 host=client.example',
      'May  1 10:00:05 mail smtpd[2705]: 9b1d2e3f4a5b6c7d smtp failed-command command="AUTH LOGIN (password)" result="535 Authentication failed"',
      'May  1 10:00:06 mail smtpd[2705]: 2222222222222222 smtp failed-command command="AUTH LOGIN (password)" result="535 Authentication failed"',
      '',
    ].join('\n');
    expect(run(['parse'], smtpd).stdout).toBe('270 203.0.113.92 4 10\n');
    expect(run(['parse', '--every-line'], smtpd).stdout).toBe('');
  });

  it('reads standard input with no file or with -', () => {
    expect(run(['parse', '--every-line'], AUTH).stdout.split('\n')[0]).toBe('100 203.0.113.5 4 10');
    expect(run(['parse', '--every-line', '-'], AUTH).stdout.split('\n')[0]).toBe('100 203.0.113.5 4 10');
  });

  it('prints NDJSON with file, 1-based line, time, rule and canonical address', () => {
    const { stdout } = run(['parse', '--format', 'json', '--every-line', authFile]);
    const records = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(4);
    expect(records[0]).toEqual({
      file: authFile,
      line: 2,
      time: new Date(new Date().getFullYear() - (new Date() < new Date(new Date().getFullYear(), 4, 1) ? 1 : 0), 4, 1, 10, 0, 1).toISOString(),
      event: 'attack',
      service: 100,
      rule: 'ssh-invalid-user',
      addr: '203.0.113.5',
      kind: 4,
      danger: 10,
      user: 'admin',
    });
    expect(records[1]).toMatchObject({ line: 4, addr: '2001:db8::7', kind: 6, rule: 'ssh-failed-password' });
  });

  it('adds login events with --all, never in sshguard format', () => {
    const json = run(['parse', '--format', 'json', '--all', authFile]).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json[0]).toMatchObject({ event: 'login', rule: 'ssh-login', addr: '192.0.2.10', line: 1 });
    expect(run(['parse', '--all', authFile]).stdout).not.toContain('192.0.2.10');
  });

  it('prints a readable line per event in text format', () => {
    const { stdout } = run(['parse', '--format', 'text', '--every-line', authFile]);
    expect(stdout.split('\n')[0]).toMatch(/auth\.log:2 \S+ attack ssh-invalid-user 203\.0\.113\.5 service=100 danger=10 user="admin"/);
  });

  it('prints statistics to stderr with --stats, keeping stdout clean', () => {
    const { stdout, stderr } = run(['parse', '--stats', authFile]);
    expect(stdout.split('\n')).toHaveLength(5);
    expect(stderr).toMatch(/lines read: 5 /);
    expect(stderr).toMatch(/lines no rule matched: 1/);
    expect(stderr).toMatch(/3\s+ssh-failed-password/);
  });

  it('reads gzip files', () => {
    const gz = join(dir, 'auth.log.1.gz');
    writeFileSync(gz, gzipSync(AUTH));
    expect(run(['parse', gz]).stdout).toBe(run(['parse', authFile]).stdout);
  });

  it('reports an unreadable file by name and exits non-zero after reading the others', () => {
    const missing = join(dir, 'nope.log');
    const { code, stdout, stderr } = run(['parse', missing, authFile]);
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot read ${missing}`);
    expect(stdout.split('\n')).toHaveLength(5);
  });

  it('refuses an unknown format with a usage error', () => {
    const { code, stderr } = run(['parse', '--format', 'xml', authFile]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/format/);
  });
});

describe('logwarden (no command, help, version)', () => {
  it('prints the commands and exits 2 with no command', () => {
    const { code, stdout } = run([]);
    expect(code).toBe(2);
    expect(stdout).toMatch(/logwarden parse +Parse logs/);
  });

  it('prints a command’s options, derived from the option table', () => {
    const { code, stdout } = run(['audit', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/-a, --threshold\s+Block an address .*\[a whole number >= 1; default 30; sshguard\.conf THRESHOLD; env LOGWARDEN_THRESHOLD\]/);
  });

  it('refuses unknown commands and options with exit 2', () => {
    expect(run(['frobnicate']).code).toBe(2);
    const { code, stderr } = run(['parse', '--bogus']);
    expect(code).toBe(2);
    expect(stderr).toBe("logwarden parse: unknown option --bogus\nSee 'logwarden parse --help' for its options.\n");
  });

  it('prints its version', () => {
    expect(run(['--version']).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('logwarden rules list', () => {
  it('lists every rule with its service and danger', () => {
    const { code, stdout } = run(['rules', 'list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ssh-invalid-user\s+OpenSSH \(100\)\s+attack\s+10$/m);
    expect(stdout).toMatch(/^ssh-connection-closed-preauth\s+OpenSSH \(100\)\s+attack\s+2$/m);
  });

  it('prints JSON records with --json', () => {
    const records = run(['rules', 'list', '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records.find((r) => r.id === 'ssh-login')).toMatchObject({ event: 'login', service: 100 });
  });
});
