#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { type Command, commandHelp, mainHelp, parseCommandArgs, UsageError } from './command.js';
import { ConfigError } from '../config/errors.js';

// Loaded on use: `parse` should not pay for loading SQLite or the firewall code
const COMMANDS: Record<string, () => Promise<Command>> = {
  parse: async () => (await import('./commands/parse.js')).parseCommand,
  audit: async () => (await import('./commands/audit.js')).auditCommand,
  rules: async () => (await import('./commands/rules.js')).rulesCommand,
  block: async () => (await import('./commands/firewall.js')).blockCommand,
  unblock: async () => (await import('./commands/firewall.js')).unblockCommand,
  flush: async () => (await import('./commands/firewall.js')).flushCommand,
  whitelist: async () => (await import('./commands/whitelist.js')).whitelistCommand,
  bench: async () => (await import('./commands/bench.js')).benchCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
};

const allCommands = () => Promise.all(Object.values(COMMANDS).map((load) => load()));

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp(await allCommands()));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`${mainHelp(await allCommands())}\nlogwarden: unknown command ${JSON.stringify(name)}\n`);
    return 2;
  }
  const command = await load();
  try {
    const args = parseCommandArgs(command, rest);
    if (args.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    if (args.version) {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    await command.handler(args);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${commandHelp(command)}\nlogwarden ${command.name}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`logwarden ${command.name}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`logwarden ${command.name}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
