/**
 * `logwarden bench`: how fast the rules parse a log (the operator's, or a generated one) and what each rule
 * costs; and how fast each installed firewall backend blocks, in a private network namespace.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackendBench, benchFirewall, type FirewallBench } from '../../bench/firewall-bench.js';
import { generateLog } from '../../bench/generate.js';
import { type RuleTestResult, testRules } from '../../bench/rule-test.js';
import { type RuleArgs, ruleSetFromArgs } from '../../config/rules.js';
import { plainLogger } from '../../log/logger.js';
import { Parser } from '../../parse/parser.js';
import type { Args, Command } from '../args.js';

interface BenchArgs extends RuleArgs {
  log?: string;
  blocks: number;
  json: boolean;
  _warnings: Args['_warnings'];
}

const GENERATED_LINES = 200_000;
const TOP_RULES = 10;

function parseSection(result: RuleTestResult, source: string): string[] {
  const rate = result.parseSeconds > 0 ? Math.round(result.lines / result.parseSeconds) : result.lines;
  const mbs = result.parseSeconds > 0 ? result.bytes / 1e6 / result.parseSeconds : 0;
  const total = result.costs.reduce((a, c) => a + c.ns, 0) || 1;
  return [
    `parsing ${source}`,
    `  ${result.lines} lines (${(result.bytes / 1e6).toFixed(1)} MB), ${result.matched} matched, in ${result.parseSeconds.toFixed(3)} s: ${rate} lines/s, ${mbs.toFixed(1)} MB/s`,
    `  the costliest rules (pre-filters and regex over the lines routed to them):`,
    ...result.costs
      .filter((c) => c.ns > 0)
      .slice(0, TOP_RULES)
      .map((c) => `    ${c.id.padEnd(36)} ${(c.ns / 1e6).toFixed(1).padStart(8)} ms  ${((100 * c.ns) / total).toFixed(1).padStart(5)}%  ${String(c.routed).padStart(9)} lines routed`),
  ];
}

function firewallSection(bench: FirewallBench): string[] {
  if (bench.skipped) return [`firewall: skipped (${bench.skipped})`];
  const row = (b: BackendBench) =>
    b.skipped
      ? `  ${b.backend.padEnd(9)} skipped: ${b.skipped}`
      : `  ${b.backend.padEnd(9)} ${`${b.batch!.blocks} in ${b.batch!.ms.toFixed(0)} ms`.padEnd(18)} ${String(b.batch!.perSecond).padStart(9)}  ${b.single!.p50Ms.toFixed(1).padStart(9)} ms  ${b.single!.p99Ms.toFixed(1).padStart(9)} ms`;
  return [
    `firewall, in the private network namespace ${bench.namespace} (removed after; every command goes through ip netns exec, ~${bench.execOverheadMs!.toFixed(1)} ms each, which a daemon on the host does not pay)`,
    `  ${'BACKEND'.padEnd(9)} ${'ONE BATCH'.padEnd(18)} ${'BLOCKS/S'.padStart(9)}  ${'SINGLE p50'.padStart(12)}  ${'p99'.padStart(12)}`,
    ...bench.backends.map(row),
  ];
}

export const benchCommand: Command = {
  name: 'bench',
  describe: 'Measure rule throughput (per rule) on a log or a generated one, and each installed firewall backend in a private network namespace',
  positionals: [],
  logsConfigWarnings: true,
  handler: async (raw: Args) => {
    const args = raw as unknown as BenchArgs;
    for (const w of args._warnings) if (!w.message.startsWith('not used by')) process.stderr.write(`logwarden: ${w.file}:${w.line}: ${w.key}: ${w.message}\n`);
    const parser = new Parser(ruleSetFromArgs(args).rules);
    let file = args.log;
    let source = file ?? '';
    let scratch: string | null = null;
    if (file === undefined) {
      const generated = generateLog(parser.rules, GENERATED_LINES);
      scratch = mkdtempSync(join(tmpdir(), 'logwarden-bench-'));
      file = join(scratch, 'generated.log');
      writeFileSync(file, `${generated.lines.join('\n')}\n`);
      source = `a generated log (${GENERATED_LINES} lines, ${generated.attacks} from the rules' examples)`;
    }
    let parsed: RuleTestResult;
    try {
      parsed = await testRules(parser, [file], { missed: false });
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
    if (parsed.failed.length > 0) throw new Error(`cannot read ${file}: ${parsed.failed[0].error}`);
    const firewall = await benchFirewall(plainLogger('error'), args.blocks);
    if (args.json) {
      process.stdout.write(
        `${JSON.stringify({
          parse: {
            source,
            lines: parsed.lines,
            bytes: parsed.bytes,
            matched: parsed.matched,
            seconds: parsed.parseSeconds,
            linesPerSecond: parsed.parseSeconds > 0 ? Math.round(parsed.lines / parsed.parseSeconds) : null,
            rules: parsed.costs.map((c) => ({ id: c.id, ms: c.ns / 1e6, routed: c.routed, reachedRegex: c.reachedRegex, hits: parsed.hits.get(c.id) ?? 0 })),
          },
          firewall,
        })}\n`,
      );
      return;
    }
    process.stdout.write(`${[...parseSection(parsed, source), '', ...firewallSection(firewall)].join('\n')}\n`);
  },
};
