/**
 * Commands on top of node:util's parseArgs, with every option taken from the one option table
 * (src/config/options.ts). Built in, so a command starts without loading an argument-parsing library.
 */
import { parseArgs } from 'node:util';
import { readConfigFile } from '../config/file.js';
import { type OptionSpec, optionsFor } from '../config/options.js';

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
};

export interface Command {
  name: string;
  describe: string;
  positionals: Positional[];
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
  lines.push(...specs, `  ${'-h, --help'.padEnd(32)} Show this help`, '');
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
  const config: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = { help: { type: 'boolean', short: 'h' } };
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
  const args: Args = { _: parsed.positionals, _given: new Set() };
  if (parsed.values.help) {
    args.help = true;
    return args;
  }
  for (const [name, spec] of Object.entries(table) as [string, OptionSpec][]) {
    const raw = parsed.values[name] as string | boolean | string[] | undefined;
    if (raw === undefined) {
      if (spec.default !== undefined) args[name] = spec.default;
      else if (spec.repeatable) args[name] = [];
      continue;
    }
    args._given.add(name);
    if (spec.type === 'number') {
      const n = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) {
        throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(raw)}`);
      }
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
  if (typeof args.config === 'string') applyConfigFile(args, c.name, args.config);
  return args;
}

/** Values from the configuration file fill what the command line left at its default; lists add up. */
function applyConfigFile(args: Args, command: string, file: string): void {
  const config = readConfigFile(file, command);
  for (const [name, value] of Object.entries(config.values)) {
    if (Array.isArray(value)) args[name] = [...value, ...((args[name] as string[] | undefined) ?? [])];
    else if (!args._given.has(name)) args[name] = value;
  }
  for (const { key, line } of config.ignored) {
    process.stderr.write(`logwarden: ${file}:${line}: ${key} is not used by ${command}\n`);
  }
}
