/**
 * Every option is declared once here: name, type, default, help and (where sshguard has one) its
 * sshguard.conf key. The CLI, the config-file parser and docs/options.md are all derived from this table.
 */
import type { Options } from 'yargs';

export interface OptionSpec {
  type: 'string' | 'number' | 'boolean';
  describe: string;
  default?: string | number | boolean;
  alias?: string;
  choices?: readonly string[];
  /** Takes one value per occurrence and may be given several times (never swallows positionals) */
  repeatable?: boolean;
  /** The sshguard.conf key with the same meaning */
  sshguardKey?: string;
  /** Commands that accept it ('*' = all) */
  commands: readonly string[];
}

export const OPTIONS = {
  format: {
    type: 'string',
    describe: 'Output format: sshguard (sshg-parser lines), json (NDJSON) or text',
    choices: ['sshguard', 'json', 'text'],
    default: 'sshguard',
    commands: ['parse'],
  },
  all: {
    type: 'boolean',
    describe: 'Also print login events (json and text formats)',
    default: false,
    commands: ['parse'],
  },
  stats: {
    type: 'boolean',
    describe: 'Print lines read, lines/s, attacks per rule and unmatched lines to stderr',
    default: false,
    commands: ['parse'],
  },
  'rules-dir': {
    type: 'string',
    describe: 'Folder of rule files (*.json) to use instead of the bundled rules',
    commands: ['parse', 'rules'],
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** yargs option definitions for one command, derived from the table. */
export function optionsFor(command: string): Record<string, Options> {
  const result: Record<string, Options> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    if (!spec.commands.includes(command) && !spec.commands.includes('*')) continue;
    result[name] = {
      type: spec.type,
      describe: spec.sshguardKey ? `${spec.describe} [sshguard.conf: ${spec.sshguardKey}]` : spec.describe,
      ...(spec.default !== undefined ? { default: spec.default } : {}),
      ...(spec.alias ? { alias: spec.alias } : {}),
      ...(spec.choices ? { choices: [...spec.choices] } : {}),
      // a repeated string option becomes an array; `array: true` would swallow positionals
      ...(spec.repeatable ? { coerce: (v: unknown) => ([] as unknown[]).concat(v ?? []) } : {}),
    };
  }
  return result;
}

/** The options reference in Markdown (docs/options.md is generated from this). */
export function optionsMarkdown(): string {
  const rows = (Object.entries(OPTIONS) as [string, OptionSpec][]).map(([name, spec]) => {
    const flag = `\`--${name}\`${spec.alias ? ` / \`-${spec.alias}\`` : ''}`;
    const def = spec.default === undefined ? '' : `\`${String(spec.default)}\``;
    const values = spec.choices ? ` (${spec.choices.join(', ')})` : '';
    return `| ${flag} | ${spec.type}${spec.repeatable ? ', repeatable' : ''} | ${def} | ${spec.sshguardKey ?? ''} | ${spec.commands.join(', ')} | ${spec.describe}${values} |`;
  });
  return [
    '# Options',
    '',
    'Generated from `src/config/options.ts` by `npm run docs:options`; do not edit by hand.',
    '',
    '| option | type | default | sshguard.conf | commands | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
