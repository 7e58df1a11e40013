// `rules list` and `rules test` as users run them: the built CLI in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SAMPLES = ['auth.log', 'mail.log'].map((f) => fileURLToPath(new URL(`../../docs/samples/${f}`, import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'logwarden-rules-cli-'));
// no configuration file of the machine's
const env = { ...process.env, XDG_CONFIG_HOME: dir, HOME: dir };

function run(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** parse --stats's own counts: lines read, unmatched lines, events per rule */
function parseStats(files: string[], extra: string[] = []) {
  const { code, stderr } = run(['parse', '--stats', ...extra, ...files]);
  expect(code).toBe(0);
  const lines = Number(/lines read: (\d+)/.exec(stderr)![1]);
  const unmatched = Number(/lines no rule matched: (\d+)/.exec(stderr)![1]);
  const perRule: Record<string, number> = {};
  for (const m of stderr.matchAll(/^ +(\d+) {2}(\S+)$/gm)) perRule[m[2]] = Number(m[1]);
  return { lines, unmatched, perRule };
}

interface TestJson {
  lines: number;
  matched: number;
  missed: number;
  events: number;
  rules: { id: string; hits: number; routed: number; reachedRegex: number; ms: number; serviceName: string }[];
  missedWithAddress: number;
  missedSample: { file: string; line: number; text: string }[];
}

function rulesTest(args: string[]): TestJson {
  const { code, stdout, stderr } = run(['rules', 'test', '--json', ...args]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as TestJson;
}

const hitsOf = (json: TestJson) => Object.fromEntries(json.rules.filter((r) => r.hits > 0).map((r) => [r.id, r.hits]));

describe('logwarden rules test', () => {
  it('gives the same counts as parse --stats on the bundled samples', () => {
    const stats = parseStats(SAMPLES);
    const json = rulesTest(SAMPLES);
    expect(json.lines).toBe(stats.lines);
    expect(json.missed).toBe(stats.unmatched);
    expect(json.matched).toBe(stats.lines - stats.unmatched);
    expect(hitsOf(json)).toEqual(stats.perRule);
    expect(json.events).toBe(Object.values(stats.perRule).reduce((a, b) => a + b, 0));
    expect(stats.perRule['ssh-failed-password']).toBeGreaterThan(0);
    // each sample alone too
    for (const file of SAMPLES) expect(hitsOf(rulesTest([file]))).toEqual(parseStats([file]).perRule);
  });

  it('times every rule routed a line, and only those', () => {
    const json = rulesTest(SAMPLES);
    const ssh = json.rules.find((r) => r.id === 'ssh-failed-password')!;
    expect(ssh.serviceName).toBe('OpenSSH');
    expect(ssh.routed).toBeGreaterThan(0);
    expect(ssh.reachedRegex).toBeGreaterThan(0);
    expect(ssh.routed).toBeGreaterThanOrEqual(ssh.reachedRegex);
    expect(ssh.ms).toBeGreaterThan(0);
    const bind = json.rules.find((r) => r.id === 'bind-query-denied')!;
    expect(bind).toMatchObject({ routed: 0, ms: 0, hits: 0 });
  });

  it('--rule tries one rule only', () => {
    const json = rulesTest(['--rule', 'ssh-invalid-user', ...SAMPLES]);
    expect(json.rules.map((r) => r.id)).toEqual(['ssh-invalid-user']);
    expect(json.matched).toBe(parseStats(SAMPLES).perRule['ssh-invalid-user']);
    const { code, stderr } = run(['rules', 'test', '--rule', 'ssh-nonsense', SAMPLES[0]]);
    expect(code).toBe(2);
    expect(stderr).toContain('--rule: rule "ssh-nonsense" does not exist');
  });

  it('--missed samples unmatched lines that contain an address, with file and line', () => {
    const file = join(dir, 'gaps.log');
    writeFileSync(
      file,
      [
        'May  1 10:00:00 web sshd[9]: Failed password for root from 203.0.113.5 port 22 ssh2',
        'May  1 10:00:01 web myapp[3]: login refused for 198.51.100.77',
        'May  1 10:00:02 web CRON[77]: (root) CMD (run-parts /etc/cron.hourly)',
        'May  1 10:00:03 web myapp[3]: all good at 10:00:03',
        'May  1 10:00:04 web myapp[3]: login refused for 2001:db8::77',
        '',
      ].join('\n'),
    );
    const json = rulesTest(['--missed', file]);
    expect(json).toMatchObject({ lines: 5, matched: 1, missed: 4, missedWithAddress: 2 });
    expect(json.missedSample.map((m) => m.line)).toEqual([2, 5]);
    expect(json.missedSample[0]).toEqual({ file, line: 2, text: 'May  1 10:00:01 web myapp[3]: login refused for 198.51.100.77' });
    const text = run(['rules', 'test', '--missed', file]).stdout;
    expect(text).toContain('missed lines with an address in them: 2');
    expect(text).toContain(`${file}:5: May  1 10:00:04 web myapp[3]: login refused for 2001:db8::77`);
    expect(text).toMatch(/^ssh-failed-password +OpenSSH \(100\) +1 /m);
  });

  it('--disable-rule changes the counts as it changes parse --stats', () => {
    const json = rulesTest(['--disable-rule', 'ssh-failed-password', ...SAMPLES]);
    expect(hitsOf(json)).toEqual(parseStats(SAMPLES, ['--disable-rule', 'ssh-failed-password']).perRule);
    expect(hitsOf(json)['ssh-failed-password']).toBeUndefined();
  });

  it('an unreadable file is reported, exit 1; no FILE is a usage error', () => {
    const missing = run(['rules', 'test', join(dir, 'nope.log')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read');
    expect(run(['rules', 'test']).code).toBe(2);
  });
});

describe('logwarden rules list', () => {
  const local = join(dir, 'local');
  spawnSync('mkdir', ['-p', local]);
  writeFileSync(
    join(local, 'ssh.json'),
    JSON.stringify({
      service: 100,
      name: 'OpenSSH (local)',
      programs: ['sshd'],
      rules: [
        {
          id: 'ssh-invalid-user',
          description: 'local version',
          startsWith: 'Invalid user ',
          pattern: '^Invalid user \\S{1,64} from %ADDR% port %PORT%$',
          origin: 'logwarden',
          examples: { match: [{ line: 'May  1 10:00:00 web sshd[9]: Invalid user x from 192.0.2.9 port 22', addr: '192.0.2.9' }], ignore: [] },
        },
        {
          id: 'myapp-thing',
          description: 'new local rule',
          startsWith: 'thing ',
          pattern: '^thing %ADDR%$',
          origin: 'logwarden',
          examples: { match: [{ line: 'May  1 10:00:00 web sshd[9]: thing 192.0.2.9', addr: '192.0.2.9' }], ignore: [] },
        },
      ],
    }),
  );

  it('shows each rule with its service name, danger and an example', () => {
    const { code, stdout } = run(['rules', 'list']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ssh-failed-password +OpenSSH \(100\) +attack +10$/m);
    expect(stdout).toMatch(/^ +e\.g\. .*sshd\[\d+\]: Failed password/m);
    expect(stdout).toMatch(/rules in use \(0 local\), 0 disabled/);
  });

  it('marks local, overriding, disabled and re-weighted rules, in text and JSON', () => {
    const args = ['rules', 'list', '--rules-dir', local, '--disable-rule', 'ssh-login', '--danger', 'dovecot=3', '--danger', 'ssh-failed-password=4'];
    const text = run(args).stdout;
    expect(text).toMatch(/^ssh-invalid-user +OpenSSH \(local\) \(100\) +attack +10 +local, overrides rules\/ssh\.json$/m);
    expect(text).toMatch(/^myapp-thing +.* local$/m);
    expect(text).toMatch(/^ssh-login +.* disabled$/m);
    expect(text).toMatch(/^ssh-failed-password +OpenSSH \(100\) +attack +4 +danger 4 \(was 10; --danger\)$/m);
    expect(text).toMatch(/^dovecot-auth-failed +Dovecot \(210\) +attack +3 +danger 3 \(was 10; --danger\)$/m);
    const rows = run([...args, '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get('ssh-login')).toMatchObject({ disabled: true });
    expect(byId.get('ssh-invalid-user')).toMatchObject({ local: true, overrides: expect.stringMatching(/rules\/ssh\.json$/) });
    expect(byId.get('ssh-failed-password')).toMatchObject({ danger: 4, dangerOverride: { was: 10, origin: '--danger' } });
  });

  it('reads the overrides from the configuration file, and names its line for an unknown id', () => {
    const conf = join(dir, 'logwarden.conf');
    writeFileSync(conf, 'THRESHOLD=30\ndanger=ssh-failed-password=5\ndisable-rule=ssh-login\n');
    const text = run(['rules', 'list', '--config', conf]);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(new RegExp(`^ssh-failed-password .* danger 5 \\(was 10; ${conf}:2: danger\\)$`, 'm'));
    writeFileSync(conf, 'disable-rule=ssh-loginn\n');
    const bad = run(['rules', 'list', '--config', conf]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${conf}:1: disable-rule: no rule "ssh-loginn" to disable`);
  });

  it('parse, audit and run refuse an unknown rule id as well', () => {
    for (const command of [['parse'], ['audit', SAMPLES[0]], ['run', '--check', SAMPLES[0]]]) {
      const { code, stderr } = run([...command, '--disable-rule', 'no-such-rule']);
      expect(code).toBe(2);
      expect(stderr).toContain('--disable-rule: no rule "no-such-rule" to disable');
    }
  });

  it('audit scores with the overridden danger, and without the disabled rules', () => {
    const file = join(dir, 'two.log');
    writeFileSync(
      file,
      'May  1 10:00:00 web sshd[9]: Failed password for root from 203.0.113.5 port 22 ssh2\n' +
        'May  1 10:00:05 web sshd[10]: Failed password for root from 203.0.113.5 port 22 ssh2\n',
    );
    const blocks = (...extra: string[]) => {
      const { code, stdout, stderr } = run(['audit', '--json', '--year', '2026', ...extra, file]);
      expect(code, stderr).toBe(0);
      return (JSON.parse(stdout) as { summary: { blocks: number; attacks: number } }).summary;
    };
    expect(blocks()).toMatchObject({ blocks: 0, attacks: 2 });
    expect(blocks('--danger', 'ssh-failed-password=15')).toMatchObject({ blocks: 1 });
    expect(blocks('--danger', 'OpenSSH=15')).toMatchObject({ blocks: 1 });
    expect(blocks('--danger', 'ssh=15', '--danger', 'ssh-failed-password=1')).toMatchObject({ blocks: 0 });
    // a disabled rule's override counts for nothing
    expect(blocks('--danger', 'ssh-failed-password=15', '--disable-rule', 'ssh-failed-password')).toMatchObject({ blocks: 0 });
  });
});
