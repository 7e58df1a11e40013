#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { argsFrom, type Command, type CommandSummary, plainCommandLine, UsageError } from './args.js';
import type { Parsed } from './command.js';
import { ConfigError } from '../config/errors.js';
import { closest } from './suggest.js';

interface CommandEntry extends Omit<CommandSummary, 'name'> {
  load: () => Promise<Command>;
}

// The list of commands is this table; a command's code is loaded on use only: `parse` and `rules list` should
// not pay for SQLite or the firewall code, nor `--help` for any of it. Each description is the module's own
// (test/cli/commands.test.ts checks they agree).
const COMMANDS: Record<string, CommandEntry> = {
  parse: {
    describe: 'Parse logs and print the attacks found (standard input when no FILE or -)',
    load: async () => (await import('./commands/parse.js')).parseCommand,
  },
  audit: {
    describe: 'Replay old logs (plain or gzip) with their own timestamps and show what would have been blocked and why',
    load: async () => (await import('./commands/audit.js')).auditCommand,
  },
  rules: {
    describe: 'List the rules (rules list), or try them on logs: hits, misses and cost per rule (rules test FILE...)',
    load: async () => (await import('./commands/rules.js')).rulesCommand,
  },
  block: {
    describe: 'Block an address (exactly that address) or a CIDR, in the store and in the kernel',
    load: async () => (await import('./commands/firewall.js')).blockCommand,
  },
  unblock: {
    describe: 'Lift the block of an address or CIDR, in the store and in the kernel',
    load: async () => (await import('./commands/firewall.js')).unblockCommand,
  },
  flush: {
    describe: 'Remove every firewall object logwarden created (blocks stay recorded in the store)',
    load: async () => (await import('./commands/firewall.js')).flushCommand,
  },
  whitelist: {
    describe: 'Add an entry to the whitelist file (lifting the blocks it covers at once), remove one, or list them all',
    load: async () => (await import('./commands/whitelist.js')).whitelistCommand,
  },
  bench: {
    describe: 'Measure rule throughput (per rule) on a log or a generated one, and each installed firewall backend in a private network namespace',
    load: async () => (await import('./commands/bench.js')).benchCommand,
  },
  run: {
    describe: 'The daemon: read logs as they are written and block attackers (--dry-run: only say what it would block)',
    load: async () => (await import('./commands/run.js')).runCommand,
  },
  explain: {
    describe: 'Who blocks this address, and why: verdict, blocks, score, evidence, and every matching rule in the live firewall',
    aliases: ['why'],
    load: async () => (await import('./commands/explain.js')).explainCommand,
  },
  status: {
    describe: 'Whether the daemon runs; active blocks, last 24 h counts, sources and their lag, firewall in sync (exit 0 healthy, 1 a problem, 3 not running)',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
};

const SUMMARIES: CommandSummary[] = Object.entries(COMMANDS).map(([name, { describe, aliases }]) => ({ name, describe, aliases }));

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function entryNamed(word: string): CommandEntry | undefined {
  if (Object.hasOwn(COMMANDS, word)) return COMMANDS[word];
  return Object.values(COMMANDS).find((e) => e.aliases?.includes(word));
}

/**
 * The command the words name. yargs's completion passes `--get-yargs-completions logwarden WORDS...`, the last
 * word being the one typed so far: a command name only when followed by another word.
 */
function commandWord(argv: readonly string[]): string | undefined {
  const completing = argv[0] === '--get-yargs-completions';
  const words = completing ? argv.slice(2, -1) : argv;
  const word = words[0];
  if (word === undefined || word.startsWith('-')) return undefined;
  return completing && !entryNamed(word) ? undefined : word;
}

function usageFailure(command: string | null, message: string): number {
  const where = command ? `logwarden ${command}` : 'logwarden';
  process.stderr.write(`${where}: ${message}\nSee '${where} --help'${command ? ' for its options' : ' for the commands'}.\n`);
  return 2;
}

async function main(input: readonly string[]): Promise<number> {
  // `logwarden help [COMMAND]` is `logwarden [COMMAND] --help`
  const argv = input[0] === 'help' ? [...input.slice(1, 2), '--help'] : input;
  const word = commandWord(argv);
  const entry = word === undefined ? undefined : entryNamed(word);
  if (word !== undefined && !entry && word !== 'completion') {
    const guess = closest(word, [...Object.keys(COMMANDS), ...SUMMARIES.flatMap((s) => s.aliases ?? [])]);
    return usageFailure(null, `unknown command ${JSON.stringify(word)}${guess ? ` (did you mean ${guess}?)` : ''}`);
  }
  const command = entry ? await entry.load() : null;
  // a plain command line is read without yargs, whose loading and parsing cost about a tenth of a second
  const plain = command !== null && argv[0] === word ? plainCommandLine(command, argv.slice(1)) : null;
  let parsed: Parsed;
  try {
    // (a plain command line has no --help: its help is never asked for)
    parsed = plain !== null ? { command, argv: plain, help: () => '' } : (await import('./command.js')).parseCommandLine(SUMMARIES, command, argv);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(command?.name ?? null, error.message);
    throw error;
  }
  // yargs answered (completion script, completions)
  if (word === 'completion' || argv[0] === '--get-yargs-completions') return 0;
  if (!command) {
    if (parsed.argv.version) {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    process.stdout.write(parsed.help());
    return parsed.argv.help ? 0 : 2;
  }
  try {
    const args = argsFrom(command, parsed.argv);
    if (args.help) {
      process.stdout.write(parsed.help());
      return 0;
    }
    if (args.version) {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    await command.handler(args);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(command.name, error.message);
    if (error instanceof ConfigError) {
      process.stderr.write(`logwarden ${command.name}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`logwarden ${command.name}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
