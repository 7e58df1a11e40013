/**
 * Commands on top of node:util's parseArgs, with every option taken from the one option table
 * (src/config/options.ts). Built in, so a command starts without loading an argument-parsing library.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ConfigNote, readConfigFile } from '../config/file.js';
import { type OptionSpec, optionsFor, outOfRange } from '../config/options.js';
import { defaultPaths } from '../config/paths.js';

export class UsageError extends Error {}

export interface Positional {
  name: string;
  describe: string;
  /** Takes all remaining arguments */
  variadic?: boolean;
  required?: boolean;
  choices?: readonly string[];
}

export type Args = Record<string, unknown> & {
  _: string[];
  /** Options given on the command line (the others hold defaults, which a configuration file may replace) */
  _given: Set<string>;
  /**
   * Where each value came from, by option name, for error messages: `--threshold`, or `FILE:LINE: KEY` for a
   * configuration value; for lists, one per value in order. Defaults have none.
   */
  _origins: Record<string, string[]>;
  /** The configuration file read, if any */
  _configFile: string | null;
  /** Configuration keys ignored (unknown, or not used by this command), for the command to log */
  _warnings: ConfigNote[];
};

export interface Command {
  name: string;
  describe: string;
  positionals: Positional[];
  /** The command logs configuration warnings itself (from args._warnings); others get them on stderr at once */
  logsConfigWarnings?: boolean;
  handler: (args: Args) => void | Promise<void>;
}

function usageLine(c: Command): string {
  const positionals = c.positionals.map((p) => {
    const inner = `${p.name}${p.variadic ? '...' : ''}`;
    return p.required ? inner.toUpperCase() : `[${inner.toUpperCase()}]`;
  });
  return `logwarden ${c.name} ${positionals.join(' ')} [options]`.replace(/ +/g, ' ');
}

export function commandHelp(c: Command): string {
  const lines = [usageLine(c), '', c.describe, ''];
  if (c.positionals.length > 0) {
    lines.push('Arguments:');
    for (const p of c.positionals) {
      lines.push(`  ${p.name.toUpperCase().padEnd(24)} ${p.describe}${p.choices ? ` (${p.choices.join(', ')})` : ''}`);
    }
    lines.push('');
  }
  lines.push('Options:');
  const specs = Object.entries(optionsFor(c.name)).map(([name, spec]) => {
    const flag = `${spec.alias ? `-${spec.alias}, ` : '    '}--${name}${spec.type === 'boolean' ? '' : ` ${spec.type === 'number' ? 'N' : 'VALUE'}`}`;
    const extra = [
      spec.choices ? `one of ${spec.choices.join(', ')}` : '',
      spec.default !== undefined ? `default ${String(spec.default)}` : '',
      spec.repeatable ? 'repeatable' : '',
      spec.sshguardKey ? `sshguard.conf ${spec.sshguardKey}` : '',
    ].filter(Boolean);
    return `  ${flag.padEnd(32)} ${spec.describe}${extra.length > 0 ? ` [${extra.join('; ')}]` : ''}`;
  });
  lines.push(...specs, '');
  return lines.join('\n');
}

export function mainHelp(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => usageLine(c).length));
  return [
    'logwarden: finds attacks in logs, and explains what it blocks and why',
    '',
    'Commands:',
    ...commands.map((c) => `  ${usageLine(c).padEnd(width)}  ${c.describe}`),
    '',
    'logwarden COMMAND --help shows the options of a command; logwarden --version its version.',
    '',
  ].join('\n');
}

/** Parses a command's arguments: options from the table (typed, checked), positionals in order. */
export function parseCommandArgs(c: Command, argv: string[]): Args {
  const table = optionsFor(c.name);
  const config: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = {};
  for (const [name, spec] of Object.entries(table)) {
    config[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.alias ? { short: spec.alias } : {}),
      ...(spec.repeatable ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const args: Args = { _: parsed.positionals, _given: new Set(), _origins: {}, _configFile: null, _warnings: [] };
  // Answered before anything else is checked, as sshguard -h and -v are
  for (const early of ['help', 'version']) {
    if (parsed.values[early] && early in table) {
      args[early] = true;
      return args;
    }
  }
  for (const [name, spec] of Object.entries(table) as [string, OptionSpec][]) {
    const raw = parsed.values[name] as string | boolean | string[] | undefined;
    if (raw === undefined) {
      if (spec.default !== undefined) args[name] = spec.default;
      else if (spec.repeatable) args[name] = [];
      continue;
    }
    args._given.add(name);
    args._origins[name] = Array.isArray(raw) ? raw.map(() => `--${name}`) : [`--${name}`];
    if (spec.type === 'number') {
      const n = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) {
        throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(raw)}`);
      }
      const problem = outOfRange(spec, n);
      if (problem) throw new UsageError(`--${name}: ${problem}`);
      args[name] = n;
    } else {
      if (spec.choices && !spec.choices.includes(raw as string)) {
        throw new UsageError(`--${name}: expected one of ${spec.choices.join(', ')}, got ${JSON.stringify(raw)}`);
      }
      args[name] = raw;
    }
  }
  let rest = parsed.positionals;
  for (const p of c.positionals) {
    if (p.variadic) {
      args[p.name] = rest;
      if (p.required && rest.length === 0) throw new UsageError(`missing ${p.name.toUpperCase()}`);
      rest = [];
    } else {
      const value = rest[0];
      rest = rest.slice(1);
      if (value === undefined) {
        if (p.required) throw new UsageError(`missing ${p.name.toUpperCase()}`);
        continue;
      }
      if (p.choices && !p.choices.includes(value)) {
        throw new UsageError(`${p.name.toUpperCase()}: expected one of ${p.choices.join(', ')}, got ${JSON.stringify(value)}`);
      }
      args[p.name] = value;
    }
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  const file = typeof args.config === 'string' ? args.config : 'config' in table ? existingDefaultConfig() : null;
  if (file !== null) applyConfigFile(args, c.name, table, file);
  if (!c.logsConfigWarnings) {
    for (const w of args._warnings) process.stderr.write(`logwarden: ${w.file}:${w.line}: ${w.key}: ${w.message}\n`);
  }
  return args;
}

function existingDefaultConfig(): string | null {
  const file = defaultPaths().config;
  return existsSync(file) ? file : null;
}

/**
 * Flags, then the configuration file, then defaults: the file's values fill what the command line left unset.
 * Lists add up (the file's first) unless the option says the command line's replace them.
 */
function applyConfigFile(args: Args, command: string, table: Record<string, OptionSpec>, file: string): void {
  const config = readConfigFile(file, command);
  args._configFile = file;
  args._warnings.push(...config.warnings);
  for (const [name, value] of Object.entries(config.values)) {
    const given = args._given.has(name);
    if (Array.isArray(value) && !(given && table[name].combine === 'replace')) {
      args[name] = [...value, ...((args[name] as string[] | undefined) ?? [])];
      args._origins[name] = [...config.origins[name], ...(args._origins[name] ?? [])];
    } else if (!given) {
      args[name] = value;
      args._origins[name] = config.origins[name];
    }
  }
}
