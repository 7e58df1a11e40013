#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { auditCommand } from './commands/audit.js';
import { parseCommand } from './commands/parse.js';
import { rulesCommand } from './commands/rules.js';

await yargs(hideBin(process.argv))
  .scriptName('logwarden')
  .command(parseCommand)
  .command(auditCommand)
  .command(rulesCommand)
  .demandCommand(1, 'Name a command (see --help).')
  .strict()
  .parserConfiguration({ 'duplicate-arguments-array': true })
  .fail((message, error, y) => {
    if (error) {
      process.stderr.write(`logwarden: ${error.message}\n`);
    } else {
      process.stderr.write(`${y.help()}\n\nlogwarden: ${message}\n`);
    }
    process.exit(2);
  })
  .help()
  .version()
  .parseAsync();
