// A plain command line is read without yargs (src/cli/args.ts): whatever it accepts must give the handler exactly
// the arguments yargs's reading gives, and what it does not accept is left to yargs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { argsFrom, type Command, plainCommandLine } from '../../src/cli/args.js';
import { parseCommandLine } from '../../src/cli/command.js';
import { auditCommand } from '../../src/cli/commands/audit.js';
import { benchCommand } from '../../src/cli/commands/bench.js';
import { explainCommand } from '../../src/cli/commands/explain.js';
import { blockCommand, flushCommand, unblockCommand } from '../../src/cli/commands/firewall.js';
import { parseCommand } from '../../src/cli/commands/parse.js';
import { rulesCommand } from '../../src/cli/commands/rules.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { whitelistCommand } from '../../src/cli/commands/whitelist.js';
import { optionsFor } from '../../src/config/options.js';

const COMMANDS: Command[] = [
  parseCommand, auditCommand, rulesCommand, blockCommand, unblockCommand, flushCommand, whitelistCommand, benchCommand,
  runCommand, explainCommand, statusCommand,
];
// no configuration file of the user running the tests
const ENV = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'logwarden-plain-')) };

function outcome(f: () => unknown): unknown {
  try {
    const args = f() as Record<string, unknown> & { _given: Set<string> };
    return { ...args, _given: [...args._given].sort() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function byYargs(c: Command, words: string[]): unknown {
  return outcome(() => argsFrom(c, parseCommandLine([{ name: c.name, describe: c.describe }], c, [c.name, ...words]).argv, ENV));
}

/** Command lines built from each command's options: each option alone, with positionals around it, and repeated. */
function commandLines(c: Command): string[][] {
  const positionals = c.positionals.map((p) => p.choices?.[0] ?? (p.name === 'target' ? '192.0.2.7' : `${p.name}.log`));
  const lines: string[][] = [[], positionals, [...positionals, 'extra.log'], ['parse'], ['192.0.2.8', '203.0.113.9']];
  for (const [name, spec] of Object.entries(optionsFor(c.name))) {
    const values = spec.type === 'boolean' ? [[]] : spec.choices ? [[spec.choices[0]], ['nonsense']] : spec.type === 'number' ? [['5'], ['-5'], ['many'], ['1e3']] : [['x'], ['192.0.2.0/24'], ['-x']];
    for (const value of values) {
      lines.push([`--${name}`, ...value], [...positionals, `--${name}`, ...value], [`--${name}`, ...value, ...positionals]);
      lines.push([`--${name}`, ...value, `--${name}`, ...value]);
      lines.push([`--${name}=${value[0] ?? 'true'}`], [`--no-${name}`]);
    }
    if (spec.type !== 'boolean') lines.push([`--${name}`]);
    if (spec.alias) lines.push([`-${spec.alias}`, ...(spec.type === 'boolean' ? [] : ['1'])]);
  }
  lines.push(['--help'], ['--version'], ['-'], ['--', 'a'], [''], ['--unknown-option'], ['-x']);
  return lines;
}

describe('a plain command line', () => {
  for (const c of COMMANDS) {
    it(`gives ${c.name}'s handler what yargs gives, or is left to yargs`, () => {
      let plain = 0;
      for (const words of commandLines(c)) {
        const found = plainCommandLine(c, words);
        if (found === null) continue;
        plain++;
        expect(outcome(() => argsFrom(c, found, ENV)), `${c.name} ${words.join(' ')}`).toEqual(byYargs(c, words));
      }
      expect(plain).toBeGreaterThan(0);
    }, 120_000); // run's hundreds of command lines, each read by yargs too, take ~30 s on a slow 2-core machine
  }

  it('is what the parse benchmark and `parse < FILE` use', () => {
    expect(plainCommandLine(parseCommand, ['--format', 'sshguard', 'mixed-1m.log'])).not.toBeNull();
    expect(plainCommandLine(parseCommand, [])).not.toBeNull();
    expect(plainCommandLine(parseCommand, ['--every-line', '--format', 'json', 'a.log', 'b.log'])).not.toBeNull();
  });

  it('leaves to yargs what only yargs reads (help, aliases, =, --no-, --, values starting with -, extra words)', () => {
    for (const words of [['--help'], ['-h'], ['--format=json'], ['--no-every-line'], ['--', 'a'], ['-'], ['--format'], ['--format', '-x'], ['--stats', '--stats'], ['--frobnicate']]) {
      expect(plainCommandLine(parseCommand, words), words.join(' ')).toBeNull();
    }
    expect(plainCommandLine(unblockCommand, ['192.0.2.1', 'extra'])).toBeNull();
  });
});
