// Every option of `run`, from the option table, given wrong values on the command line, in its LOGWARDEN_*
// variable and in a configuration file: each is refused with a message naming the flag, the variable, or the
// file, line and key. The cases are generated from src/config/options.ts, so a new option is covered (or the
// test asks for a decision about it) without anyone remembering to add it here.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandArgs, UsageError } from '../../src/cli/command.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfigText } from '../../src/config/file.js';
import { envVariable, type OptionSpec, optionsFor } from '../../src/config/options.js';
import { loadRunConfig, type RunArgs, type RunEnvironment } from '../../src/config/run.js';
import { ruleSetFromArgs } from '../../src/config/rules.js';
import type { Logger } from '../../src/log/logger.js';
import { networkText } from '../../src/policy/network.js';
import { readWhitelistFile } from '../../src/policy/whitelist.js';
import { WhitelistWatcher } from '../../src/policy/whitelist-watch.js';

const dir = mkdtempSync(join(tmpdir(), 'logwarden-bad-config-'));
const env: RunEnvironment = {
  paths: { config: join(dir, 'none.conf'), whitelist: join(dir, 'default-whitelist'), db: join(dir, 'state.db'), pidFile: join(dir, 'logwarden.pid') },
  lookupUser: (name) => (name === 'nobody' ? { uid: 65534, gid: 65534 } : null),
};
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const notExecutable = file('not-executable', '#!/bin/sh\n');
const wideWhitelist = file('wide-whitelist', '# fine\n192.0.2.1\n0.0.0.0/0\n');
const unreadableDir = join(dir, 'unreadable');
mkdirSync(unreadableDir);
const unreadableConfig = file('unreadable.conf', 'THRESHOLD=10\n');
chmodSync(unreadableConfig, 0);

/** Everything `run` checks before it touches anything: arguments, configuration, rules. */
function load(argv: string[], environment: NodeJS.ProcessEnv = {}): void {
  const args = parseCommandArgs(runCommand, argv, environment);
  loadRunConfig(args as unknown as RunArgs, env);
  ruleSetFromArgs(args);
}

/** The error `load` throws (a test failure when it accepts the values). */
function refusal(argv: string[], environment: NodeJS.ProcessEnv = {}): Error {
  try {
    load(argv, environment);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`accepted: run ${argv.join(' ')} ${JSON.stringify(environment)}`);
}

/** A log to read, so that "no log to read" is never the reason of a refusal */
const LOG = join(dir, 'auth.log');

/**
 * Wrong values of the text options, by option. Each is wrong in its own way: what makes a number or a choice
 * wrong is in the table, what makes a text wrong is not.
 */
const BAD_TEXT: Record<string, string[]> = {
  'rules-dir': [join(dir, 'no-such-rules')],
  'disable-rule': ['no-such-rule'],
  danger: ['sshd', 'sshd=lots', 'no-such-rule=5'],
  blacklist: ['lots', '100', '100:'],
  whitelist: ['not an address!', '192.0.2.300', join(dir, 'no-such-whitelist'), unreadableDir, wideWhitelist, '0.0.0.0/0', '::/0', '10.0.0.0/7', '2001::/31'],
  'fw-name': ['lw;rm -rf /', '$(reboot)', 'lw`id`', 'a b', '1table', 'x'.repeat(25), '-lw'],
  'journal-match': ['-e', 'a b', 'FOO=bar', '--since=x'],
  user: ['no-such-user'],
  metrics: ['nope', '127.0.0.1', '127.0.0.1:99999', 'localhost:x'],
  'on-block': [join(dir, 'no-such-program'), notExecutable, 'no-such-program-in-path', 'sh -c id'],
  'on-release': [join(dir, 'no-such-program'), notExecutable, 'no-such-program-in-path'],
  // alone, each half of a LAPI setting is refused: the URL needs credentials, credentials need the URL
  'lapi-url': ['not a url', 'ftp://192.0.2.1:8080', 'http://127.0.0.1:8080'],
  'lapi-machine': ['host-a'],
  'lapi-password': ['secret'],
  'lapi-password-file': [join(dir, 'no-such-password')],
  'lapi-key': ['key'],
  'lapi-key-file': [join(dir, 'no-such-key')],
  'lapi-ca-file': [join(dir, 'no-such-ca.pem')],
  'lapi-machine-cert': [join(dir, 'no-such-cert.pem')],
  'lapi-machine-cert-key': [join(dir, 'no-such-key.pem')],
  'lapi-bouncer-cert': [join(dir, 'no-such-cert.pem')],
  'lapi-bouncer-cert-key': [join(dir, 'no-such-key.pem')],
  // root reads a file of mode 000: only another user can be refused it
  config: [join(dir, 'no-such.conf'), unreadableDir, ...(process.getuid?.() === 0 ? [] : [unreadableConfig])],
};

/** Text options whose every value is acceptable, and why; each is still given a value below, to prove it. */
const ANY_TEXT: Record<string, string> = {
  'untrusted-users': 'a list of account names: any text names accounts',
  'journal-file': 'followed once it exists, as log files are (journalctl reports what it cannot read)',
  source: 'a log file that does not exist yet is read once it appears (logrotate, a service not started yet)',
  logreader: "a shell command from root's configuration",
  parser: "a shell command from root's configuration",
  'post-parser': "a shell command from root's configuration",
  'service-pid-file': 'accepted and ignored with a warning (sshguard 1.x compatibility)',
  'mask-subnet-by': 'accepted with a warning (sshguard 2.5 compatibility)',
  'stats-dir': 'accepted with a warning (sshguard 2.5 compatibility)',
  db: 'checked when the store is opened: test/config/bad-config-cli.test.ts',
  'pid-file': 'checked when it is written: test/config/bad-config-cli.test.ts',
};

/** Wrong values generated from an option's type, choices and range. */
function badValues(name: string, spec: OptionSpec): string[] {
  if (spec.type === 'boolean') return ['maybe', 'on', '2'];
  if (spec.type === 'number') {
    const values = ['abc', 'true', 'NaN', 'Infinity', '1e999', '12abc'];
    const range = spec.range;
    if (range) {
      values.push(String(range.min - 1));
      if (range.max !== undefined) values.push(String(range.max + 1));
      if (range.integer !== false) values.push(String(range.min + 0.5));
    }
    return values;
  }
  if (spec.choices) return ['bogus', spec.choices[0].toUpperCase() === spec.choices[0] ? 'x' : spec.choices[0].toUpperCase(), `${spec.choices[0]} `];
  return BAD_TEXT[name] ?? [];
}

/** The other options a value needs to be looked at: --journal-match only counts with --journal */
const NEEDS: Record<string, string[]> = { 'journal-match': ['--journal'] };

const RUN_OPTIONS = Object.entries(optionsFor('run')) as [string, OptionSpec][];
/** help and version answer before anything is checked (as sshguard -h and -v): a value is meaningless */
const CHECKED = RUN_OPTIONS.filter(([name]) => name !== 'help' && name !== 'version');

describe('bad configuration: every option of run', () => {
  it('has a decision for every text option: wrong values to refuse, or a reason why any text is right', () => {
    for (const [name, spec] of CHECKED) {
      if (spec.type !== 'string' || spec.choices) continue;
      const bad = name in BAD_TEXT;
      const any = name in ANY_TEXT;
      expect(bad !== any, `${name}: in exactly one of BAD_TEXT and ANY_TEXT`).toBe(true);
    }
    for (const name of [...Object.keys(BAD_TEXT), ...Object.keys(ANY_TEXT)]) expect(name in optionsFor('run'), name).toBe(true);
  });

  const flagCases = CHECKED.flatMap(([name, spec]) => badValues(name, spec).map((value) => ({ name, spec, value })));

  it(`refuses ${flagCases.length} wrong flag values, naming the flag`, () => {
    for (const { name, value } of flagCases) {
      const error = refusal([...(NEEDS[name] ?? []), `--${name}=${value}`, LOG]);
      // the configuration file is named itself: "cannot read configuration FILE: ..."
      expect(error.message, `--${name}=${JSON.stringify(value)}`).toContain(name === 'config' ? `configuration ${value}` : `--${name}`);
    }
  });

  it('refuses the same values in the options\' LOGWARDEN_* variables, naming the variable', () => {
    let n = 0;
    for (const { name, spec, value } of flagCases) {
      // a repeatable option's variable is split on spaces: "a b" is two values
      if (spec.noEnv || name === 'config' || (spec.repeatable && /\s/.test(value))) continue;
      const error = refusal([...(NEEDS[name] ?? []), LOG], { [envVariable(name)]: value });
      expect(error.message, `${envVariable(name)}=${JSON.stringify(value)}`).toContain(envVariable(name));
      n++;
    }
    expect(n).toBeGreaterThan(100);
  });

  it('refuses them in a configuration file, naming the file, the line and the key (its sshguard.conf name too)', () => {
    let n = 0;
    for (const { name, spec, value } of flagCases) {
      if (spec.cliOnly) continue;
      // FILES-style splitting does not apply: each key below takes one value
      if (spec.repeatable && /\s/.test(value)) continue;
      for (const key of [name, ...(spec.sshguardKey ? [spec.sshguardKey] : [])]) {
        // WHITELIST_FILE is always a file: an address there names a (missing) file, refused as such
        const conf = file(`bad-${n}.conf`, `# line 1\nFILES="${LOG}"\n${key}="${value.replaceAll('"', '\\"')}"\n`);
        const error = refusal([...(NEEDS[name] ?? []), '--config', conf]);
        expect(error.message, `${key}=${JSON.stringify(value)}`).toContain(`${conf}:3: ${key}`);
        n++;
      }
    }
    expect(n).toBeGreaterThan(150);
  });

  it('accepts a value for each option that takes any text (so the list above is not an excuse)', () => {
    for (const name of Object.keys(ANY_TEXT)) {
      if (name === 'db' || name === 'pid-file') continue;
      expect(() => load([`--${name}=${join(dir, 'anything')}`, LOG]), name).not.toThrow();
    }
  });
});

describe('bad configuration: the file itself', () => {
  it('says which line is not KEY=value, and which quote is not closed', () => {
    expect(() => parseConfigText('THRESHOLD=10\nthis is not an assignment\n', 'x.conf', 'run')).toThrow(/^x\.conf:2: expected KEY=value/);
    expect(() => parseConfigText('\nLOGREADER="tail -F /var/log/auth.log\n', 'x.conf', 'run')).toThrow(/^x\.conf:2: LOGREADER: unterminated " quote/);
    expect(() => parseConfigText("PARSER='x\n", 'x.conf', 'run')).toThrow(/^x\.conf:1: PARSER: unterminated ' quote/);
    expect(() => parseConfigText('THRESHOLD=10 20\n', 'x.conf', 'run')).toThrow(/^x\.conf:1: THRESHOLD: unexpected "20" after the value/);
  });

  it('takes the last of a key set twice, as sh does with sshguard.conf, and warns naming both lines', () => {
    const c = parseConfigText('THRESHOLD=10\nBLOCK_TIME=60\nthreshold=40\n', 'x.conf', 'run');
    expect(c.values.threshold).toBe(40);
    expect(c.origins.threshold).toEqual(['x.conf:3: threshold']);
    expect(c.warnings).toEqual([{ file: 'x.conf', line: 3, key: 'threshold', message: 'set again: replaces x.conf:1: THRESHOLD' }]);
    // a list adds up (each WHITELIST_FILE is read), with no warning
    const lists = parseConfigText('WHITELIST_FILE=/a\nWHITELIST_FILE=/b\n', 'x.conf', 'run');
    expect(lists.values.whitelist).toEqual(['/a', '/b']);
    expect(lists.warnings).toEqual([]);
  });

  it('warns about unknown keys and keys run does not use, without failing', () => {
    const c = parseConfigText('THRESHOLD=10\nTRESHOLD=20\nformat=json\n', 'x.conf', 'run');
    expect(c.warnings.map((w) => `${w.line} ${w.key}: ${w.message}`)).toEqual(['2 TRESHOLD: unknown key, ignored', '3 format: not used by run']);
  });
});

describe('bad configuration: a whitelist that covers the Internet', () => {
  const wide = ['0.0.0.0/0', '::/0', '0.0.0.0/1', '128.0.0.0/7', '::/1', '2000::/3', '2001::/31'];

  it('is refused, from -w and from a whitelist file (naming its line), unless --wide-whitelist', () => {
    for (const entry of wide) {
      expect(refusal(['-w', entry, LOG]).message, entry).toMatch(/^-w|^--whitelist/);
      expect(refusal(['-w', entry, LOG]).message).toContain('--wide-whitelist');
      expect(() => load(['-w', entry, '--wide-whitelist', LOG]), entry).not.toThrow();
    }
    expect(refusal(['-w', wideWhitelist, LOG]).message).toContain(`${wideWhitelist}:3`);
    expect(() => load(['-w', wideWhitelist, '--wide-whitelist', LOG])).not.toThrow();
    const conf = file('wide-allowed.conf', `FILES=${LOG}\nWHITELIST_FILE=${wideWhitelist}\nwide-whitelist=yes\n`);
    expect(() => load(['--config', conf])).not.toThrow();
  });

  it('accepts the widest networks an organisation may hold: /8 and IPv6 /32', () => {
    expect(() => load(['-w', '10.0.0.0/8', '-w', '2001:db8::/32', LOG])).not.toThrow();
  });

  it('is skipped, logged at error, when a whitelist file gains one while running; its other entries apply', () => {
    const path = file('reloaded-whitelist', '192.0.2.1\n');
    const errors: string[] = [];
    const log = { debug: () => {}, info: () => {}, warn: () => {}, error: (_: unknown, msg: string) => errors.push(msg), child: () => log } as unknown as Logger;
    const watcher = new WhitelistWatcher({ fixed: { networks: [], hostnames: [], problems: [] }, files: [{ path, required: true, entries: readWhitelistFile(path) }] }, { log, onChange: () => {} });
    writeFileSync(path, '192.0.2.1\n::/0\n198.51.100.0/24\n');
    const change = watcher.reload();
    expect(change.entries.networks.map((n) => networkText(n.net))).toEqual(['192.0.2.1', '198.51.100.0/24']);
    expect(change.problems).toMatchObject([{ source: path, line: 2, entry: '::/0', wide: true }]);
    expect(errors).toEqual([expect.stringMatching(/^whitelist entry skipped: ::\/0 would never block every address/)]);
  });
});
