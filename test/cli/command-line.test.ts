// The command line itself (yargs, the option table, environment, completion, lazy loading): the built CLI in a
// child process, and parseCommandArgs for what a handler receives.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Command, parseCommandArgs, UsageError } from '../../src/cli/command.js';
import { closest } from '../../src/cli/suggest.js';
import { policyFromArgs } from '../../src/config/policy.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'logwarden-command-line-'));
// No configuration file of the user running the tests may leak in
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOGWARDEN_'))), XDG_CONFIG_HOME: dir };

function run(args: string[], env: Record<string, string> = {}, extra: string[] = []) {
  const r = spawnSync(process.execPath, [...extra, CLI, ...args], { encoding: 'utf8', env: { ...ENV, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const auth = join(dir, 'auth.log');
writeFileSync(
  auth,
  ['192.0.2.10', '203.0.113.5']
    .flatMap((a) => [0, 1, 2].map((i) => `2026-05-01T10:00:0${i}Z web sshd[${i}]: Failed password for root from ${a} port 22 ssh2`))
    .join('\n') + '\n',
);
const audit = (args: string[], env: Record<string, string> = {}) => {
  const r = run(['audit', '--json', ...args], env);
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as { blocks: { addr: string }[]; summary: { lines: number } });
};

const RUN: Command = {
  name: 'run',
  describe: 'run options',
  positionals: [{ name: 'files', variadic: true, describe: 'log files' }],
  logsConfigWarnings: true,
  handler: () => {},
};
const BLOCK: Command = { name: 'block', describe: 'block', positionals: [{ name: 'target', required: true, describe: 'address' }], handler: () => {} };
const parse = (c: Command, argv: string[], env: Record<string, string> = {}) => parseCommandArgs(c, argv, { XDG_CONFIG_HOME: dir, ...env });

describe('usage errors', () => {
  it('print the error first, then one line pointing to the command’s help, and exit 2', () => {
    const r = run(['audit', '--threshold', 'many', auth]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('logwarden audit: --threshold: expected a number, got "many"\nSee \'logwarden audit --help\' for its options.\n');
    expect(r.stdout).toBe('');
  });

  it('suggest the command or option meant', () => {
    expect(run(['adit', auth]).stderr).toBe('logwarden: unknown command "adit" (did you mean audit?)\nSee \'logwarden --help\' for the commands.\n');
    expect(run(['audit', '--treshold', '5', auth]).stderr).toMatch(/^logwarden audit: unknown option --treshold \(did you mean --threshold\?\)\n/);
    expect(run(['run', '--no-jurnal']).stderr).toMatch(/^logwarden run: unknown option --no-jurnal \(did you mean --no-journal\?\)\n/);
    expect(run(['audit', '--frobnicate', auth]).stderr).toMatch(/^logwarden audit: unknown option --frobnicate\n/);
    expect(closest('staus', ['status', 'rules', 'run'])).toBe('status');
    expect(closest('xyz', ['status', 'rules', 'run'])).toBeNull();
  });

  it('name an extra argument, a missing one and a missing value', () => {
    expect(run(['unblock', '192.0.2.1', 'extra']).stderr).toMatch(/^logwarden unblock: unexpected argument "extra"\n/);
    expect(run(['block']).stderr).toMatch(/^logwarden block: missing TARGET\n/);
    expect(run(['audit', '-a']).stderr).toMatch(/^logwarden audit: -a needs a value\n/);
    expect(run(['rules', 'lst']).stderr).toMatch(/^logwarden rules: ACTION: expected one of list, test, got "lst"\n/);
  });
});

describe('standard input as -', () => {
  // yargs 18 drops a lone - from a command's positionals: `run -` read nothing
  it('keeps - among the files, alone, between others, and as an option value', () => {
    expect(parse(RUN, ['-']).files).toEqual(['-']);
    expect(parse(RUN, ['a.log', '-', 'b.log', '--dry-run']).files).toEqual(['a.log', '-', 'b.log']);
    expect(parse(RUN, ['-w', '192.0.2.1', '-']).files).toEqual(['-']);
  });

  it('logwarden run - reads standard input to its end, then stops', () => {
    const db = join(dir, 'stdin.db');
    const lines = [1, 2, 3].map((i) => `2026-05-01T10:00:0${i}Z web sshd[${i}]: Failed password for root from 198.51.100.9 port 22 ssh2`).join('\n');
    const r = spawnSync(process.execPath, [CLI, 'run', '--backend', 'null', '--db', db, '--pid-file', join(dir, 'stdin.pid'), '-'], { encoding: 'utf8', env: ENV, input: `${lines}\n` });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/"lines":3,"blocks":1,"code":0,"msg":"stopped"/);
  });
});

describe('option values', () => {
  it('take negative numbers', () => {
    expect(parse(RUN, ['--priority', '-200']).priority).toBe(-200);
    expect(parse(RUN, ['--priority=-300']).priority).toBe(-300);
    expect(() => parse(RUN, ['--priority', '-2147483649'])).toThrow(/--priority: expected a whole number from -2147483648/);
    const db = join(dir, 'negative.db');
    const r = run(['block', '192.0.2.44', '--backend', 'null', '--priority', '-200', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('blocked 192.0.2.44');
  });

  it('of a repeatable option are one per flag and never swallow positionals', () => {
    const args = parse(RUN, ['-w', '192.0.2.10', 'auth.log', '--whitelist', '192.0.2.11', 'mail.log', '-l', '-', 'x.log']);
    expect(args.whitelist).toEqual(['192.0.2.10', '192.0.2.11']);
    expect(args.source).toEqual(['-']);
    expect(args.files).toEqual(['auth.log', 'mail.log', 'x.log']);
    // The CLI reads auth.log after -w VALUE: both attackers are counted, the whitelisted one not blocked
    const result = audit(['-a', '30', '-w', '192.0.2.10', auth]);
    expect(result.summary.lines).toBe(6);
    expect(result.blocks.map((b) => b.addr)).toEqual(['203.0.113.5']);
  });

  it('keep --no-X for on/off options only; --no-trust-users is now --untrusted-users', () => {
    expect(parse(RUN, ['--journal', '--no-journal']).journal).toBe(false);
    expect(parse(RUN, ['--no-dry-run'])._given.has('dry-run')).toBe(true);
    expect(() => parse(RUN, ['--no-db'])).toThrow(new UsageError('--no-db: --db takes a value; only on/off options have a --no- form'));
    expect(run(['audit', '--no-trust-users', 'git', auth]).stderr).toMatch(/^logwarden audit: --no-trust-users is now --untrusted-users\n/);
    const args = parse(RUN, ['--untrusted-users', 'git, svn']);
    expect([...policyFromArgs(args).policy.noTrustUsers]).toEqual(['git', 'svn']);
  });

  it('answer -h and -v as sshguard users type them', () => {
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    for (const args of [['-v'], ['--version'], ['run', '-v'], ['run', '--version', '-a', '0']]) {
      expect(run(args), args.join(' ')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
    expect(run(['-h']).stdout).toMatch(/^logwarden: finds attacks/);
    expect(run(['help']).code).toBe(0);
    for (const args of [['run', '-h'], ['help', 'run'], ['block', '--help']]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/^logwarden (run|block) /);
    }
    expect(parse(BLOCK, ['-h'])).toMatchObject({ help: true });
  });
});

describe('LOGWARDEN_* environment variables', () => {
  it('come after flags and before the configuration file', () => {
    const conf = join(dir, 'env.conf');
    writeFileSync(conf, 'THRESHOLD=50\nBLOCK_TIME=300\n');
    const args = parse(RUN, ['--config', conf, '-a', '40'], { LOGWARDEN_THRESHOLD: '20', LOGWARDEN_DETECTION_TIME: '60', LOGWARDEN_BLOCK_TIME: '' });
    expect(args).toMatchObject({ threshold: 40, 'detection-time': 60, 'block-time': 300 });
    expect(args._origins).toMatchObject({ threshold: ['--threshold'], 'detection-time': ['LOGWARDEN_DETECTION_TIME'], 'block-time': [`${conf}:2: BLOCK_TIME`] });
    expect(parse(RUN, [], { LOGWARDEN_THRESHOLD: '20', LOGWARDEN_CONFIG: conf }).threshold).toBe(20);
    expect(parse(RUN, [], { LOGWARDEN_CONFIG: conf }).threshold).toBe(50);
  });

  it('take booleans and lists, and add list values to the flags’', () => {
    const args = parse(RUN, ['-w', '192.0.2.3'], { LOGWARDEN_WHITELIST: '192.0.2.1  192.0.2.2', LOGWARDEN_DRY_RUN: 'yes', LOGWARDEN_BACKEND: 'null' });
    expect(args).toMatchObject({ whitelist: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], 'dry-run': true, backend: 'null' });
    expect(parse(RUN, ['--journal-match', 'a'], { LOGWARDEN_JOURNAL_MATCH: 'b c' })['journal-match']).toEqual(['a']);
    expect(parse(RUN, [], { LOGWARDEN_HELP: '1', LOGWARDEN_VERSION: '1' })).not.toHaveProperty('help', true);
  });

  it('are checked like flags, naming the variable', () => {
    expect(() => parse(RUN, [], { LOGWARDEN_DRY_RUN: 'maybe' })).toThrow('LOGWARDEN_DRY_RUN: expected true or false, got "maybe"');
    const r = run(['audit', auth], { LOGWARDEN_THRESHOLD: '0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('logwarden audit: LOGWARDEN_THRESHOLD: expected a whole number >= 1, got 0\n');
  });

  it('change what the command does', () => {
    // Three attacks of danger 10 each: the default threshold (30) blocks both addresses
    expect(audit([auth]).blocks).toHaveLength(2);
    expect(audit([auth], { LOGWARDEN_THRESHOLD: '40' }).blocks).toHaveLength(0);
    expect(audit(['-a', '30', auth], { LOGWARDEN_THRESHOLD: '40' }).blocks).toHaveLength(2);
  });
});

const noBash = spawnSync('bash', ['--version']).status !== 0;
if (noBash) console.warn('bash is not installed: the completion script is not run');

describe('logwarden completion', () => {
  it('prints a bash script', () => {
    const script = run(['completion']);
    expect(script.code).toBe(0);
    expect(script.stdout).toContain('complete -o bashdefault -o default -F _logwarden_yargs_completions logwarden');
  });

  it.skipIf(noBash)('whose function, run by bash, completes commands and a command’s options', () => {
    const script = run(['completion']);
    // The script calls `logwarden` by name: a wrapper on PATH runs the built CLI
    const bin = mkdtempSync(join(dir, 'bin-'));
    writeFileSync(join(bin, 'logwarden'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
    chmodSync(join(bin, 'logwarden'), 0o755);
    const complete = (...words: string[]) => {
      const line = `${script.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _logwarden_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', env: { ...ENV, PATH: `${bin}:${process.env.PATH}` } });
      return r.stdout.trim().split('\n');
    };
    expect(complete('logwarden', 'au')).toEqual(['audit']);
    expect(complete('logwarden', 'audit', '--thr')).toEqual(['--threshold']);
    expect(complete('logwarden', 'run', '--dry')).toEqual(['--dry-run']);
  });
});

describe('loading', () => {
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  if (url.startsWith('file:')) appendFileSync(process.env.LOADED, url + '\\n');\n  return next(url, context);\n}\n",
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const loaded = (args: string[]) => {
    const list = join(dir, 'loaded.txt');
    rmSync(list, { force: true });
    expect(run(args, { LOADED: list }, ['--import', register]).code).toBe(0);
    return readFileSync(list, 'utf8').trim().split('\n');
  };
  const commandModules = (urls: string[]) => urls.filter((u) => u.includes('/dist/cli/commands/')).map((u) => u.replace(/.*\/dist\/cli\/commands\//, ''));

  it('lists the commands without loading any of them', () => {
    const urls = loaded(['--help']);
    expect(commandModules(urls)).toEqual([]);
    expect(urls.filter((u) => u.includes('better-sqlite3'))).toEqual([]);
  });

  it('loads only the command asked for, for its help as for its work', () => {
    expect(commandModules(loaded(['parse', '--help']))).toEqual(['parse.js']);
    const rules = loaded(['rules', 'list']);
    expect(commandModules(rules)).toEqual(['rules.js']);
    expect(rules.filter((u) => u.includes('better-sqlite3') || u.includes('/dist/store/') || u.includes('/dist/firewall/'))).toEqual([]);
  });

  it('lists each command with its module’s own description', async () => {
    const help = run(['--help']).stdout.replace(/\s+/g, ' ');
    const modules = await Promise.all([
      import('../../src/cli/commands/parse.js').then((m) => [m.parseCommand]),
      import('../../src/cli/commands/audit.js').then((m) => [m.auditCommand]),
      import('../../src/cli/commands/rules.js').then((m) => [m.rulesCommand]),
      import('../../src/cli/commands/firewall.js').then((m) => [m.blockCommand, m.unblockCommand, m.flushCommand]),
      import('../../src/cli/commands/run.js').then((m) => [m.runCommand]),
    ]);
    for (const c of modules.flat()) expect(help, c.name).toContain(` logwarden ${c.name} ${c.describe}`.replace(/\s+/g, ' '));
  });
});
