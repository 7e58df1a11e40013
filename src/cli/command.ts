/**
 * Commands on yargs, with every option taken from the one option table (src/config/options.ts): a command module
 * says its name, description and positionals; its options, their help, checks, environment variables and
 * configuration keys all come from the table. yargs finds the tokens; the values are checked here, against the
 * table, so that flags, environment and configuration file get the same checks and messages.
 */
import { existsSync } from 'node:fs';
import yargs, { type Argv, type Options } from 'yargs';
import { ConfigError } from '../config/errors.js';
import { type ConfigNote, readConfigFile } from '../config/file.js';
import { envVariable, type OptionSpec, optionsFor, outOfRange, rangeText } from '../config/options.js';
import { defaultPaths } from '../config/paths.js';
import { closest } from './suggest.js';

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

/** The command chosen on the command line, with yargs's result (unchecked) and its help. */
export interface Parsed {
  command: Command | null;
  argv: Record<string, unknown>;
  /** The help of the chosen command (or the list of commands) */
  help: () => string;
}

type Env = Record<string, string | undefined>;

const PARSER_CONFIGURATION = {
  // Options keep the table's names; numbers and positionals stay text until checked against the table
  'camel-case-expansion': false,
  'strip-aliased': true,
  'dot-notation': false,
  'parse-numbers': false,
  'parse-positional-numbers': false,
  // A repeatable option takes one value per occurrence: `-w 192.0.2.10 auth.log` leaves auth.log a FILE
  'greedy-arrays': false,
  'duplicate-arguments-array': true,
} as const;

function usageLine(c: Command): string {
  const positionals = c.positionals.map((p) => {
    const inner = `${p.name}${p.variadic ? '..' : ''}`;
    return p.required ? `<${inner}>` : `[${inner}]`;
  });
  return ['logwarden', c.name, ...positionals, '[options]'].join(' ');
}

function optionHelp(name: string, spec: OptionSpec): string {
  const extra = [
    spec.type === 'number' ? (spec.range ? rangeText(spec.range) : 'a number') : '',
    spec.choices ? `one of ${spec.choices.join(', ')}` : '',
    spec.default !== undefined && spec.type !== 'boolean' ? `default ${String(spec.default)}` : '',
    spec.repeatable ? 'repeatable' : '',
    spec.sshguardKey ? `sshguard.conf ${spec.sshguardKey}` : '',
    spec.noEnv ? '' : `env ${envVariable(name)}`,
  ].filter(Boolean);
  return `${spec.describe} [${extra.join('; ')}]`;
}

/** The yargs options of one command, from the table: types for yargs to find the tokens, help text for people. */
function yargsOptions(command: string): Record<string, Options> {
  const result: Record<string, Options> = {};
  for (const [name, spec] of Object.entries(optionsFor(command))) {
    result[name] = {
      describe: spec.type === 'boolean' ? spec.describe : optionHelp(name, spec),
      ...(spec.alias ? { alias: spec.alias } : {}),
      // No defaults for yargs: a value yargs did not see is one the environment or the configuration may give
      ...(spec.type === 'boolean' ? { type: 'boolean' } : spec.type === 'string' ? { type: 'string', requiresArg: true } : { requiresArg: true }),
    };
  }
  return result;
}

function optionFlag(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** Says what yargs found wrong in the words of this CLI, with a suggestion for a mistyped option. */
function usageMessage(message: string, command: Command | null, argv: readonly string[]): string {
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    const table = command ? optionsFor(command.name) : optionsFor('');
    const names = Object.keys(table);
    return unknown[1]
      .split(', ')
      .map((word) => {
        if (argv.includes(word)) return `unexpected argument ${JSON.stringify(word)}`;
        const renamed = names.find((n) => table[n].renamedFrom === word || table[n].renamedFrom === `no-${word}`);
        const negated = argv.includes(`--no-${word}`);
        const flag = negated ? `--no-${word}` : optionFlag(word);
        if (renamed) return `${flag} is now --${renamed}`;
        const guess = closest(word, names);
        return `unknown option ${flag}${guess ? ` (did you mean --${negated && table[guess].type === 'boolean' ? 'no-' : ''}${guess}?)` : ''}`;
      })
      .join('; ');
  }
  const missingValue = /^Not enough arguments following: (.+)$/.exec(message);
  if (missingValue) return `${optionFlag(missingValue[1])} needs a value`;
  return message.replace(/\s*\n\s*/g, ' ');
}

/**
 * yargs for the command line: every command is listed (from its summary), only `selected` is loaded and known
 * in full, so that one command's help or run never loads another's code.
 */
function buildParser(summaries: readonly CommandSummary[], selected: Command | null, argv: readonly string[]): { parser: Argv; help: () => string } {
  let context: Argv | null = null;
  const parser = yargs()
    .scriptName('logwarden')
    .locale('en')
    .parserConfiguration(PARSER_CONFIGURATION)
    // yargs's completion command takes no options, and its script is printed during parsing
    .strict(argv[0] !== 'completion')
    .help(false)
    .version(false)
    .exitProcess(false)
    .usage('logwarden: finds attacks in logs, and explains what it blocks and why\n\nUsage: logwarden COMMAND [options]')
    .options({
      help: { alias: 'h', type: 'boolean', describe: 'Show the commands, or with a command its options', global: false },
      version: { alias: 'v', type: 'boolean', describe: 'Print the version (as sshguard -v)', global: false },
    })
    .epilogue('logwarden COMMAND --help shows the options of a command.')
    .fail((message: string | null, error: Error | null) => {
      throw new UsageError(usageMessage(message ?? error?.message ?? 'invalid arguments', selected, argv));
    });
  for (const summary of summaries) {
    const c = selected && selected.name === summary.name ? selected : null;
    parser.command({
      command: c ? [c.name, ...c.positionals.map((p) => `[${p.name}${p.variadic ? '..' : ''}]`)].join(' ') : summary.name,
      aliases: summary.aliases ?? [],
      describe: summary.describe,
      builder: (y: Argv) => {
        if (!c) return y;
        context = y;
        y.usage(`${usageLine(c)}\n\n${c.describe}`).options(yargsOptions(c.name));
        for (const p of c.positionals) {
          const choices = p.choices ? ` (${p.choices.join(', ')})` : '';
          y.positional(p.name, { describe: `${p.describe}${choices}`, type: 'string', ...(p.variadic ? { array: true } : {}) });
        }
        return y;
      },
      // The command runs after parsing, outside yargs; its help must be taken while yargs is in its context
      handler: (parsed: Record<string, unknown>) => {
        if (parsed.help && context) context.showHelp((text: string) => (helpText = text));
      },
    });
  }
  parser
    .completion('completion', 'Print a shell completion script (bash; zsh when $SHELL is zsh): logwarden completion >> ~/.bashrc')
    .wrap(Math.min(120, parser.terminalWidth()));
  let helpText: string | null = null;
  const help = (): string => {
    if (helpText === null) parser.showHelp((text: string) => (helpText = text));
    return `${helpText ?? ''}\n`;
  };
  return { parser, help };
}

/**
 * yargs reads `--FLAG=anything` of an on/off option as false (`--dry-run=yes` would turn the dry run off): the
 * value is checked here and given to yargs as true or false; `--` ends the options.
 */
function onOffValues(selected: Command | null, argv: readonly string[]): string[] {
  if (selected === null) return [...argv];
  const table = optionsFor(selected.name);
  const end = argv.indexOf('--');
  return argv.map((arg, i) => {
    const m = /^--([^=]+)=(.*)$/s.exec(arg);
    if (!m || (end >= 0 && i > end) || table[m[1]]?.type !== 'boolean') return arg;
    if (!/^(true|false|yes|no|1|0)$/i.test(m[2])) throw new UsageError(`--${m[1]}: expected true or false, got ${JSON.stringify(m[2])}`);
    return `--${m[1]}=${/^(true|yes|1)$/i.test(m[2])}`;
  });
}

/** Parses a command line (after `logwarden`): yargs's result, unchecked, for {@link argsFrom}. */
export function parseCommandLine(summaries: readonly CommandSummary[], selected: Command | null, argv: readonly string[]): Parsed {
  const { parser, help } = buildParser(summaries, selected, argv);
  const parsed = parser.parseSync(onOffValues(selected, argv)) as Record<string, unknown>;
  return { command: selected, argv: parsed, help };
}

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

/** One command's arguments (after its name) as its handler gets them: for tests and for callers with argv. */
export function parseCommandArgs(c: Command, argv: readonly string[], env: Env = process.env): Args {
  const { argv: parsed } = parseCommandLine([c], c, [c.name, ...argv]);
  return argsFrom(c, parsed, env);
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
