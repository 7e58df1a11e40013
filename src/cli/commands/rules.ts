/**
 * `rules list`: every rule with its service, danger and an example, the operator's changes marked.
 * `rules test FILE...`: what the rules find in a log and what each costs (like fail2ban-regex, but faster).
 */
import { relative } from 'node:path';
import { type RuleTestResult, testRules } from '../../bench/rule-test.js';
import { type RuleArgs, ruleSetFromArgs } from '../../config/rules.js';
import { Parser } from '../../parse/parser.js';
import { type CompiledRule, DEFAULT_RULES_DIR, type RuleNote, type RuleSet } from '../../parse/rules.js';
import type { Args, Command } from '../args.js';
import { UsageError } from '../args.js';
import { OutputBuffer } from '../output.js';

interface RulesArgs extends RuleArgs {
  action: 'list' | 'test';
  files: string[];
  json: boolean;
  missed: boolean;
  rule?: string;
  _warnings: Args['_warnings'];
}

const bundledName = (file: string) => relative(DEFAULT_RULES_DIR, file).startsWith('..') ? file : `rules/${relative(DEFAULT_RULES_DIR, file)}`;

/** What the operator changed about a rule, in words, for the table. */
function marks(rule: CompiledRule, note: RuleNote | undefined, disabled: boolean): string[] {
  const out: string[] = [];
  if (disabled) out.push('disabled');
  if (note?.replaces) out.push(`local, overrides ${bundledName(note.replaces)}`);
  else if (note?.local) out.push('local');
  if (note?.danger) out.push(`danger ${rule.danger} (was ${note.danger.was}; ${note.danger.origin})`);
  return out;
}

function listRules(set: RuleSet, json: boolean): string {
  const all = [...set.rules.map((r) => ({ r, disabled: false })), ...set.disabled.map((r) => ({ r, disabled: true }))];
  if (json) {
    return all
      .map(({ r, disabled }) => {
        const note = set.notes.get(r.id);
        return JSON.stringify({
          id: r.id,
          service: r.service,
          serviceName: r.serviceName,
          event: r.event,
          danger: r.danger,
          programs: r.programs,
          origin: r.origin,
          description: r.description,
          example: r.examples.match[0].line,
          file: r.file,
          local: note?.local ?? false,
          overrides: note?.replaces ?? null,
          disabled,
          dangerOverride: note?.danger ? { was: note.danger.was, origin: note.danger.origin } : null,
        });
      })
      .join('\n');
  }
  const width = Math.max(...all.map(({ r }) => r.id.length));
  const serviceWidth = Math.max(...all.map(({ r }) => `${r.serviceName} (${r.service})`.length));
  const out = [`${'RULE'.padEnd(width)}  ${'SERVICE'.padEnd(serviceWidth)}  EVENT    DANGER  NOTES`];
  for (const { r, disabled } of all) {
    const service = `${r.serviceName} (${r.service})`.padEnd(serviceWidth);
    out.push(`${r.id.padEnd(width)}  ${service}  ${r.event.padEnd(7)}  ${String(r.danger).padStart(6)}  ${marks(r, set.notes.get(r.id), disabled).join('; ')}`.trimEnd());
    out.push(`${' '.repeat(width + 2)}e.g. ${r.examples.match[0].line}`);
  }
  const local = [...set.notes.values()].filter((n) => n.local).length;
  out.push(
    '',
    `${set.rules.length} rules in use (${local} local), ${set.disabled.length} disabled, ${new Set(set.rules.map((r) => r.service)).size} services`,
  );
  return out.join('\n');
}

function testJson(result: RuleTestResult, rules: readonly CompiledRule[]): string {
  const byId = new Map(rules.map((r) => [r.id, r]));
  return JSON.stringify({
    files: result.files,
    failed: result.failed,
    lines: result.lines,
    bytes: result.bytes,
    matched: result.matched,
    missed: result.missed,
    events: [...result.hits.values()].reduce((a, b) => a + b, 0),
    parseSeconds: result.parseSeconds,
    linesPerSecond: result.parseSeconds > 0 ? Math.round(result.lines / result.parseSeconds) : null,
    rules: result.costs.map((c) => ({
      id: c.id,
      service: byId.get(c.id)!.service,
      serviceName: byId.get(c.id)!.serviceName,
      hits: result.hits.get(c.id) ?? 0,
      routed: c.routed,
      reachedRegex: c.reachedRegex,
      ms: c.ns / 1e6,
    })),
    missedWithAddress: result.missedWithAddress,
    missedByProgram: Object.fromEntries(result.missedByProgram),
    missedSample: result.missedSample,
  });
}

function testTable(result: RuleTestResult, rules: readonly CompiledRule[], missed: boolean): string {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const rate = result.parseSeconds > 0 ? Math.round(result.lines / result.parseSeconds) : result.lines;
  const events = [...result.hits.values()].reduce((a, b) => a + b, 0);
  const totalNs = result.costs.reduce((a, c) => a + c.ns, 0) || 1;
  const shown = result.costs.filter((c) => c.routed > 0 || (result.hits.get(c.id) ?? 0) > 0);
  const width = Math.max(4, ...shown.map((c) => c.id.length));
  const serviceOf = (id: string) => `${byId.get(id)!.serviceName} (${byId.get(id)!.service})`;
  const serviceWidth = Math.max(7, ...shown.map((c) => serviceOf(c.id).length));
  const out = [
    `lines read: ${result.lines} (${(result.bytes / 1e6).toFixed(1)} MB)`,
    `matched: ${result.matched} lines (${events} events), missed: ${result.missed} lines`,
    `parsed in ${result.parseSeconds.toFixed(3)} s: ${rate} lines/s`,
    '',
    `${'RULE'.padEnd(width)}  ${'SERVICE'.padEnd(serviceWidth)}  ${'HITS'.padStart(9)}  ${'ROUTED'.padStart(9)}  ${'TO REGEX'.padStart(9)}  ${'TIME ms'.padStart(9)}  SHARE`,
    ...shown.map((c) => {
      const hits = result.hits.get(c.id) ?? 0;
      return `${c.id.padEnd(width)}  ${serviceOf(c.id).padEnd(serviceWidth)}  ${String(hits).padStart(9)}  ${String(c.routed).padStart(9)}  ${String(c.reachedRegex).padStart(9)}  ${(c.ns / 1e6).toFixed(2).padStart(9)}  ${((100 * c.ns) / totalNs).toFixed(1).padStart(4)}%`;
    }),
    `(${rules.length - shown.length} rules were routed no line)`,
    'TIME is what each rule\'s pre-filters and regex cost over the lines routed to it (measured apart from the parse above)',
  ];
  if (missed) {
    out.push('', `missed lines with an address in them: ${result.missedWithAddress}`);
    const programs = [...result.missedByProgram.entries()].sort((a, b) => b[1] - a[1]);
    if (programs.length > 0) out.push(`  by program: ${programs.map(([p, n]) => `${p} ${n}`).join(', ')}`);
    for (const m of result.missedSample) out.push(`  ${m.file}:${m.line}: ${m.text}`);
  }
  return out.join('\n');
}

/** Through a buffer that ends quietly when the reader goes away (`| head`) */
async function print(text: string): Promise<void> {
  const out = new OutputBuffer(process.stdout);
  out.write(text);
  await out.end();
}

export const rulesCommand: Command = {
  name: 'rules',
  describe: 'List the rules (rules list), or try them on logs: hits, misses and cost per rule (rules test FILE...)',
  positionals: [
    { name: 'action', required: true, choices: ['list', 'test'], describe: 'list: every rule; test: run the rules over log files' },
    { name: 'files', variadic: true, describe: 'rules test: log files (plain or gzip); - is standard input' },
  ],
  logsConfigWarnings: true,
  handler: async (raw: Args) => {
    const args = raw as unknown as RulesArgs;
    // keys for other commands are expected in a shared configuration file
    for (const w of args._warnings) if (!w.message.startsWith('not used by')) process.stderr.write(`logwarden: ${w.file}:${w.line}: ${w.key}: ${w.message}\n`);
    const set = ruleSetFromArgs(args);
    if (args.action === 'list') {
      if (args.files.length > 0) throw new UsageError('rules list takes no FILE (rules test FILE... does)');
      await print(`${listRules(set, args.json)}\n`);
      return;
    }
    if (args.files.length === 0) throw new UsageError('rules test needs a FILE (- for standard input)');
    let rules = set.rules;
    if (args.rule !== undefined) {
      rules = set.rules.filter((r) => r.id === args.rule);
      if (rules.length === 0) {
        const why = set.disabled.some((r) => r.id === args.rule) ? 'is disabled' : 'does not exist (rules list shows the ids)';
        throw new UsageError(`--rule: rule ${JSON.stringify(args.rule)} ${why}`);
      }
    }
    const result = await testRules(new Parser(rules), args.files, { missed: args.missed });
    for (const f of result.failed) process.stderr.write(`logwarden: cannot read ${f.file}: ${f.error}\n`);
    await print(`${args.json ? testJson(result, rules) : testTable(result, rules, args.missed)}\n`);
    if (result.failed.length > 0) process.exitCode = 1;
  },
};
