/**
 * What a command's handler gets from the command line, without yargs: each option checked against the one option
 * table (src/config/options.ts), from the flags, else the environment, else the configuration file, else its
 * default. command.ts finds the flags with yargs; a plain command line (see plainCommandLine) needs no yargs at
 * all, which keeps yargs's loading and parsing (about a tenth of a second) out of `logwarden parse`'s start-up.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { type ConfigNote, readConfigFile } from '../config/file.js';
import { envVariable, type OptionSpec, optionsFor, outOfRange } from '../config/options.js';
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
  /** The positional arguments, in order */
  _: string[];
  /**
   * Options given on the command line or in the environment (the others hold defaults, which a configuration
   * file may replace)
   */
  _given: Set<string>;
  /**
   * Where each value came from, by option name, for error messages: `--threshold`, `LOGWARDEN_THRESHOLD`, or
   * `FILE:LINE: KEY` for a configuration value; for lists, one per value in order. Defaults have none.
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
  /** Other names it answers to (e.g. why for explain) */
  aliases?: string[];
  positionals: Positional[];
  /** The command logs configuration warnings itself (from args._warnings); others get them on stderr at once */
  logsConfigWarnings?: boolean;
  handler: (args: Args) => void | Promise<void>;
}

/** What the list of commands shows, without loading the command's code. */
export interface CommandSummary {
  name: string;
  describe: string;
  aliases?: string[];
}

export type Env = Record<string, string | undefined>;

/** One value of an option, checked against the table; `origin` names the flag or variable in the message. */
function convert(name: string, spec: OptionSpec, value: string | boolean, origin: string, Err: new (m: string) => Error): string | number | boolean {
  if (spec.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (!/^(true|false|yes|no|1|0)$/i.test(value)) throw new Err(`${origin}: expected true or false, got ${JSON.stringify(value)}`);
    return /^(true|yes|1)$/i.test(value);
  }
  if (typeof value === 'boolean') {
    throw new Err(`--no-${name}: --${name} takes a value; only on/off options have a --no- form`);
  }
  if (spec.type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new Err(`${origin}: expected a number, got ${JSON.stringify(value)}`);
    const problem = outOfRange(spec, n);
    if (problem) throw new Err(`${origin}: ${problem}`);
    return n;
  }
  if (spec.choices && !spec.choices.includes(value)) {
    throw new Err(`${origin}: expected one of ${spec.choices.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function asList(raw: unknown): (string | boolean)[] {
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]) as (string | boolean)[];
}

/**
 * The arguments a command's handler gets, from yargs's result: each option checked, from the flags, else its
 * LOGWARDEN_* variable, else the configuration file, else its default; positionals by name.
 */
export function argsFrom(c: Command, parsed: Record<string, unknown>, env: Env = process.env): Args {
  const table = optionsFor(c.name);
  const args: Args = { _: [], _given: new Set(), _origins: {}, _configFile: null, _warnings: [] };
  // Answered before anything else is checked, as sshguard -h and -v are
  for (const early of ['help', 'version']) {
    if (parsed[early] === true && early in table) {
      args[early] = true;
      return args;
    }
  }
  for (const [name, spec] of Object.entries(table)) {
    const flags = asList(parsed[name]).map((v) => convert(name, spec, v, `--${name}`, UsageError));
    const variable = envVariable(name);
    const text = spec.noEnv ? undefined : env[variable];
    const fromEnv =
      text === undefined || text.trim() === ''
        ? []
        : (spec.repeatable ? text.split(/\s+/).filter((v) => v !== '') : [text]).map((v) => convert(name, spec, v, variable, ConfigError));
    let values: (string | number | boolean)[];
    let origins: string[];
    if (spec.repeatable && spec.combine !== 'replace') {
      values = [...fromEnv, ...flags];
      origins = [...fromEnv.map(() => variable), ...flags.map(() => `--${name}`)];
    } else if (flags.length > 0) {
      values = spec.repeatable ? flags : flags.slice(-1);
      origins = values.map(() => `--${name}`);
    } else {
      values = fromEnv;
      origins = fromEnv.map(() => variable);
    }
    if (values.length === 0) {
      if (spec.default !== undefined) args[name] = spec.default;
      else if (spec.repeatable) args[name] = [];
      continue;
    }
    args._given.add(name);
    args._origins[name] = origins;
    args[name] = spec.repeatable ? values : values[0];
  }
  for (const p of c.positionals) {
    const values = asList(parsed[p.name]).map(String);
    if (p.required && values.length === 0) throw new UsageError(`missing ${p.name.toUpperCase()}`);
    for (const value of values) {
      if (p.choices && !p.choices.includes(value)) {
        throw new UsageError(`${p.name.toUpperCase()}: expected one of ${p.choices.join(', ')}, got ${JSON.stringify(value)}`);
      }
    }
    args._.push(...values);
    if (p.variadic) args[p.name] = values;
    else if (values.length > 0) args[p.name] = values[0];
  }
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
 * Flags and environment, then the configuration file, then defaults: the file's values fill what those left
 * unset. Lists add up (the file's first) unless the option says the command line's replace them.
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

/**
 * What yargs would find in a plain command line (the words after the command's name), or null when it is not
 * plain: positionals, and the table's options by their full name as `--NAME` (on/off) or `--NAME VALUE`, each
 * given once unless repeatable. Anything else (aliases, `--NAME=VALUE`, `--no-NAME`, `--`, `-`, values that
 * start with `-`, `--help`, more words than positionals) is left to yargs, with its checks and messages.
 */
export function plainCommandLine(c: Command, words: readonly string[]): Record<string, unknown> | null {
  const table = optionsFor(c.name);
  const parsed: Record<string, unknown> = { _: [c.name] };
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === '' || word === '-') return null;
    if (!word.startsWith('-')) {
      positionals.push(word);
      continue;
    }
    if (!word.startsWith('--')) return null;
    const name = word.slice(2);
    if (name === 'help' || name === 'version' || !Object.hasOwn(table, name)) return null;
    const spec = table[name];
    const seen = Object.hasOwn(parsed, name);
    if (seen && !spec.repeatable) return null;
    let value: string | boolean = true;
    if (spec.type !== 'boolean') {
      const next = words[i + 1];
      if (next === undefined || next === '' || next.startsWith('-')) return null;
      value = next;
      i++;
    }
    parsed[name] = seen ? [...asList(parsed[name]), value] : value;
  }
  const variadic = c.positionals.some((p) => p.variadic);
  if (!variadic && positionals.length > c.positionals.length) return null;
  let next = 0;
  for (const p of c.positionals) {
    if (p.variadic) parsed[p.name] = positionals.slice(next);
    else if (next < positionals.length) parsed[p.name] = positionals[next++];
    if (p.variadic) next = positionals.length;
  }
  return parsed;
}
