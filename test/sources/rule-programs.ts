import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const RULES = join(import.meta.dirname, '../../rules');

/** The `programs` of every rule file, as written. */
export function loadRuleFiles(): { file: string; programs: string[] }[] {
  return readdirSync(RULES)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ file: name, programs: (JSON.parse(readFileSync(join(RULES, name), 'utf8')) as { programs: string[] }).programs }));
}
