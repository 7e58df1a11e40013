#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { type Command, commandHelp, mainHelp, parseCommandArgs, UsageError } from './command.js';
import { auditCommand } from './commands/audit.js';
import { blockCommand, flushCommand, unblockCommand } from './commands/firewall.js';
import { parseCommand } from './commands/parse.js';
import { rulesCommand } from './commands/rules.js';
import { ConfigError } from '../config/policy.js';

const COMMANDS: Command[] = [parseCommand, auditCommand, rulesCommand, blockCommand, unblockCommand, flushCommand];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp(COMMANDS));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`${mainHelp(COMMANDS)}\nlogwarden: unknown command ${JSON.stringify(name)}\n`);
    return 2;
  }
  try {
    const args = parseCommandArgs(command, rest);
    if (args.help) {
      process.stdout.write(commandHelp(command));
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
