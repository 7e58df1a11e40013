/**
 * Commands on yargs, with every option taken from the one option table (src/config/options.ts): a command module
 * says its name, description and positionals; its options, their help, checks, environment variables and
 * configuration keys all come from the table. yargs finds the tokens; the values are checked in args.ts, against
 * the table, so that flags, environment and configuration file get the same checks and messages.
 */
import yargs, { type Argv, type Options } from 'yargs';
import { envVariable, type OptionSpec, optionsFor, rangeText } from '../config/options.js';
import { type Args, argsFrom, type Command, type CommandSummary, type Env, UsageError } from './args.js';
import { closest } from './suggest.js';

// The parts of the command line that need no yargs live in args.ts (the CLI loads yargs only when they are not enough)
export { type Args, argsFrom, type Command, type CommandSummary, type Positional, UsageError } from './args.js';

/** The command chosen on the command line, with yargs's result (unchecked) and its help. */
export interface Parsed {
  command: Command | null;
  argv: Record<string, unknown>;
  /** The help of the chosen command (or the list of commands) */
  help: () => string;
}

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

/**
 * yargs 18 drops a lone `-` from a command's positionals (`run -` read no standard input): it is handed over as
 * a word no command line can hold (a NUL) and given back as `-`.
 */
const STANDARD_INPUT = '\u0000-';
const backToDash = (value: unknown): unknown =>
  value === STANDARD_INPUT ? '-' : Array.isArray(value) ? value.map(backToDash) : value;

/** Parses a command line (after `logwarden`): yargs's result, unchecked, for {@link argsFrom}. */
export function parseCommandLine(summaries: readonly CommandSummary[], selected: Command | null, argv: readonly string[]): Parsed {
  const { parser, help } = buildParser(summaries, selected, argv);
  const words = onOffValues(selected, argv).map((w) => (w === '-' ? STANDARD_INPUT : w));
  const parsed = parser.parseSync(words) as Record<string, unknown>;
  for (const [key, value] of Object.entries(parsed)) parsed[key] = backToDash(value);
  return { command: selected, argv: parsed, help };
}

/** One command's arguments (after its name) as its handler gets them: for tests and for callers with argv. */
export function parseCommandArgs(c: Command, argv: readonly string[], env: Env = process.env): Args {
  const { argv: parsed } = parseCommandLine([c], c, [c.name, ...argv]);
  return argsFrom(c, parsed, env);
}

