// The built `logwarden run` given a bad configuration: exit 2, the message names the flag or the file, line and
// key, and nothing is created: no store, no PID file, and (in a network namespace of the test's own, with the
// nft backend) no table. A failure found only at start (a store that cannot be created) is exit 1, as loud.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'logwarden-bad-cli-'));
const log = join(dir, 'auth.log');
writeFileSync(log, '');

function run(argv: string[], prefix: string[] = []) {
  const work = mkdtempSync(join(dir, 'case-'));
  const full = [...prefix, process.execPath, CLI, 'run', '--db', join(work, 'state.db'), '--pid-file', join(work, 'run.pid'), ...argv];
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', timeout: 15_000, env: { ...process.env, LOGWARDEN_CONFIG: undefined } });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout, created: readdirSync(work) };
}

const conf = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const CASES: { what: string; argv: string[]; message: RegExp }[] = [
  { what: 'a shell command as --fw-name', argv: ['--fw-name', 'lw;touch /tmp/pwned', log], message: /--fw-name: letters, digits/ },
  { what: 'a sync interval of 0', argv: ['--sync-interval', '0', log], message: /--sync-interval: expected a whole number from 1 to 86400, got 0/ },
  { what: '--dry-run=maybe', argv: ['--dry-run=maybe', log], message: /--dry-run: expected true or false/ },
  { what: 'a whitelist of the whole Internet', argv: ['-w', '0.0.0.0/0', log], message: /0\.0\.0\.0\/0 would never block every address/ },
  { what: 'a whitelist file that does not exist', argv: ['-w', join(dir, 'missing-whitelist'), log], message: /cannot read whitelist file/ },
];

describe('logwarden run with a bad configuration', () => {
  it.each(CASES)('$what: exit 2, named, nothing created', ({ argv, message }) => {
    const r = run(['--backend', 'null', ...argv]);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
    expect(r.created).toEqual([]);
  });

  it('names the file, line and key of a bad value in a configuration file, and creates nothing', () => {
    const file = conf('bad.conf', `# sshguard.conf\nFILES=${log}\nBACKEND=sshg-fw-null\n\nTHRESHOLD=thirty\n`);
    const r = run(['--config', file]);
    expect(r.stderr).toContain(`${file}:5: THRESHOLD: expected a number, got "thirty"`);
    expect(r.status).toBe(2);
    expect(r.created).toEqual([]);
  });

  it('fails to start (exit 1, logged) when the store cannot be created, leaving no PID file', () => {
    const r = run(['--backend', 'null', '--db', join(log, 'under-a-file', 'state.db'), log]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/cannot start: cannot create the folder of database/);
    expect(r.created).toEqual([]);
  });
});

const root = process.getuid?.() === 0;
const nft = spawnSync('sh', ['-c', 'command -v nft && command -v ip']).status === 0;
const skip = !root ? 'needs root (a network namespace)' : !nft ? 'nft or ip is not installed' : null;
if (skip) console.warn(`bad configuration against nft skipped: ${skip}`);

describe.skipIf(skip !== null)(`a bad configuration changes no firewall${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const ns = `lwbad${randomBytes(3).toString('hex')}`;
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('creates no nft table in its namespace, for flag and configuration file mistakes', () => {
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    const inNs = ['ip', 'netns', 'exec', ns];
    const file = conf('bad-nft.conf', `FILES=${log}\nWHITELIST_FILE=${conf('wide', '::/0\n')}\n`);
    for (const argv of [['--fw-name', 'a$(id)', log], ['--priority', '1e99', log], ['--config', file]]) {
      const r = run(['--backend', 'nft', ...argv], inNs);
      expect(r.status, r.stderr).toBe(2);
      expect(r.created).toEqual([]);
    }
    const tables = spawnSync('ip', [...inNs.slice(1), 'nft', 'list', 'tables'], { encoding: 'utf8' });
    expect(tables.status).toBe(0);
    expect(tables.stdout.trim()).toBe('');
    expect(existsSync('/tmp/pwned')).toBe(false);
  });
});
