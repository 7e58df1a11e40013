import { loadRules } from '../../parse/rules.js';
import type { Args, Command } from '../command.js';

interface RulesArgs {
  action: string;
  'rules-dir'?: string;
  json?: boolean;
}

export const rulesCommand: Command = {
  name: 'rules',
  describe: 'Inspect the signatures (rules list)',
  positionals: [{ name: 'action', required: true, choices: ['list'], describe: 'list: print every rule' }],
  handler: (raw: Args) => {
    const args = raw as unknown as RulesArgs;
    const rules = loadRules(args['rules-dir']);
    const out: string[] = [];
    if (args.json) {
      for (const r of rules) {
        out.push(
          JSON.stringify({
            id: r.id,
            service: r.service,
            serviceName: r.serviceName,
            event: r.event,
            danger: r.danger,
            programs: r.programs,
            origin: r.origin,
            description: r.description,
          }),
        );
      }
    } else {
      const width = Math.max(...rules.map((r) => r.id.length));
      out.push(`${'RULE'.padEnd(width)}  SERVICE  DANGER  EVENT   ORIGIN            DESCRIPTION`);
      for (const r of rules) {
        out.push(
          `${r.id.padEnd(width)}  ${String(r.service).padEnd(7)}  ${String(r.danger).padEnd(6)}  ${r.event.padEnd(6)}  ${r.origin.padEnd(16)}  ${r.description}`,
        );
      }
      out.push('', `${rules.length} rules, ${new Set(rules.map((r) => r.service)).size} services`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  },
};
