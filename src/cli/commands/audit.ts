import { lookup } from 'node:dns/promises';
import { ConfigError } from '../../config/errors.js';
import { type PolicyArgs, policyFromArgs, whitelistFromArgs } from '../../config/policy.js';
import { Parser } from '../../parse/parser.js';
import { ruleSetFromArgs } from '../../config/rules.js';
import { checkTimezone } from '../../parse/time.js';
import { readBlacklist } from '../../policy/blacklist.js';
import { networkText } from '../../policy/network.js';
import { Whitelist } from '../../policy/whitelist.js';
import type { BlockDecision, PolicyConfig } from '../../policy/policy.js';
import { plainLogger } from '../../log/logger.js';
import { HostnameResolver } from '../../resolve/hostnames.js';
import { type AuditBlock, replay, type ReplayResult } from '../../audit/replay.js';
import { type Args, type Command, UsageError } from '../args.js';
import { journalOf, type RunArgs } from '../../config/run.js';
import { Progress } from '../progress.js';

interface AuditArgs extends PolicyArgs {
  files: string[];
  json: boolean;
  year?: number;
  timezone?: string;
  'rules-dir'?: string;
  'resolve-hostnames'?: boolean;
  since?: string;
  until?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Why a block lasts what it does: a first block, a repeat, or a repeat whose penalty has decayed. */
export function penaltyNote(b: BlockDecision, policy: PolicyConfig): string {
  if (b.permanent) return 'blacklisted: its blocks add up to the blacklist threshold';
  if (b.previousBlockAt === 0) return 'first block';
  const formula = `${policy.blockTime} s × ${policy.multiplier}^${fmt(b.level)}${b.duration === policy.maxBlockTime ? ', capped by --max-block-time' : ''}`;
  const days = (b.at - b.previousBlockAt) / 86_400_000;
  if (b.levelBefore - b.level < 0.05) return `repeat: ${formula}`;
  const after = days < 1 ? `${Math.max(1, Math.round(days * 24))} h` : `${Math.round(days)} d`;
  return `repeat ${after} later, penalty decayed from ${fmt(b.levelBefore)}: ${formula}`;
}

const fmt = (n: number) => (Math.abs(n - Math.round(n)) < 0.005 ? String(Math.round(n)) : n.toFixed(2));

export function auditJson(result: ReplayResult, names: ServiceNames, policy: PolicyConfig): string {
  const s = result.stats;
  return JSON.stringify({
    blocks: result.blocks.map(({ decision: b }) => ({
      addr: b.net.addr,
      cidr: b.net.cidr,
      kind: b.net.kind,
      at: iso(b.at),
      duration: b.duration,
      permanent: b.permanent,
      attacks: b.attacks,
      score: b.score,
      services: b.services,
      service_names: b.services.map((code) => names.get(code) ?? String(code)),
      rules: b.rules,
      first_seen: iso(b.firstSeen),
      penalty: { level: b.level, level_before: b.levelBefore, note: penaltyNote(b, policy) },
      evidence: b.evidence,
      evidence_sources: (b.evidenceSources ?? []).map((src) => (src === null ? null : { file: src.source, line: src.lineNo })),
    })),
    summary: {
      lines: result.lines,
      attacks: result.attacks,
      addresses: result.addresses,
      blocks: result.blocks.length,
      permanent: result.blocks.filter((b) => b.decision.permanent).length,
      not_scored: {
        whitelisted: s.whitelisted,
        trusted: s.trusted,
        already_blocked: s.alreadyBlocked,
        joined: s.joined,
        forgiven: s.forgiven,
        unresolved_hostnames: s.hostnames,
        unattributed: s.unattributed,
      },
      untimed_lines: result.untimed.reduce((n, u) => n + u.lines, 0),
    },
  });
}

function humanDuration(seconds: number): string {
  if (seconds < 600) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 360) / 10}h`;
  return `${Math.round(seconds / 8640) / 10}d`;
}

const shortTime = (ms: number) => iso(ms).replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');

/** Service code → name, from the rules loaded */
export type ServiceNames = Map<number, string>;

export function serviceNames(parser: Parser): ServiceNames {
  const names: ServiceNames = new Map();
  for (const r of parser.rules) if (!names.has(r.service)) names.set(r.service, r.serviceName);
  return names;
}

export function auditTable(result: ReplayResult, names: ServiceNames, policy: PolicyConfig): string {
  const header = ['ADDRESS', 'BLOCKED AT (UTC)', 'FOR', 'WHY THAT LONG', 'ATTACKS', 'SCORE', 'SERVICES', 'RULES', 'FIRST SEEN (UTC)'];
  const rows = result.blocks.map(({ decision: b }: AuditBlock) => [
    networkText(b.net),
    shortTime(b.at),
    b.permanent ? 'permanent' : humanDuration(b.duration!),
    penaltyNote(b, policy),
    String(b.attacks),
    String(b.score),
    b.services.map((code) => names.get(code) ?? String(code)).join(','),
    b.rules.join(','),
    shortTime(b.firstSeen),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (r: string[]) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  const s = result.stats;
  const permanent = result.blocks.filter((b) => b.decision.permanent).length;
  const lines = rows.length > 0 ? [format(header), ...rows.map(format), ''] : ['No address would have been blocked.', ''];
  lines.push(
    `${result.lines} lines, ${result.attacks} attacks from ${result.addresses} addresses: ${result.blocks.length} blocks (${permanent} permanent).`,
    `Not scored: ${s.whitelisted} whitelisted, ${s.trusted} from trusted addresses, ${s.alreadyBlocked} while already blocked, ` +
      `${s.joined} joined to an attempt already counted, ${s.forgiven} forgiven by a login on the same connection, ` +
      `${s.hostnames} with an unresolved hostname` +
      (s.unattributed > 0 ? `, ${s.unattributed} naming only a session whose address the logs do not give.` : '.'),
    'Dry run: no firewall, database or file was changed.',
  );
  return `${lines.join('\n')}\n`;
}

export const auditCommand: Command = {
  name: 'audit',
  describe: 'Replay old logs (plain or gzip) with their own timestamps and show what would have been blocked and why',
  positionals: [{ name: 'files', variadic: true, describe: 'Log files, merged in time order; - is standard input (or --journal / --journal-file)' }],
  handler: async (raw: Args) => {
    const args = raw as unknown as AuditArgs;
    const journal = journalOf(args as unknown as RunArgs, null);
    if (args.files.length === 0 && journal === null) throw new UsageError('missing FILES: give log files, - for standard input, or --journal / --journal-file');
    if ((args.since !== undefined || args.until !== undefined) && journal === null) throw new UsageError('--since and --until need --journal or --journal-file');
    const { policy, blacklist } = policyFromArgs(args);
    if (args.timezone !== undefined) {
      try {
        checkTimezone(args.timezone);
      } catch (error) {
        throw new ConfigError(`--timezone: ${(error as Error).message}`);
      }
    }
    const entries = whitelistFromArgs(args);
    for (const p of entries.problems) {
      process.stderr.write(`logwarden: whitelist ${p.source}${p.line ? `:${p.line}` : ''}: ${JSON.stringify(p.entry)} skipped: ${p.message}\n`);
    }
    const whitelist = new Whitelist(entries, async (name) => (await lookup(name, { all: true })).map((a) => a.address));
    for (const p of await whitelist.refresh()) {
      process.stderr.write(`logwarden: whitelist ${p.source}: ${p.entry}: ${p.message}\n`);
    }
    const black = blacklist ? readBlacklist(blacklist.file) : { entries: [], problems: [] };
    for (const problem of black.problems) process.stderr.write(`logwarden: ${problem} (skipped)\n`);

    const parser = new Parser(ruleSetFromArgs(args).rules);
    const progress = new Progress(process.stderr, args.files);
    const result = await replay(args.files, {
      parser,
      policy,
      whitelist,
      blacklist: black.entries,
      year: args.year,
      timezone: args.timezone,
      now: Date.now(),
      resolver: args['resolve-hostnames'] ? new HostnameResolver({ log: plainLogger('info') }) : null,
      onProgress: (bytes, lines) => progress.update(bytes, lines),
      onReadError: (file, error) => process.stderr.write(`logwarden: cannot read ${file}: ${error.message}\n`),
      journal: journal && { ...journal, since: args.since ?? null, until: args.until ?? null },
    });
    progress.done();
    for (const u of result.untimed) {
      process.stderr.write(`logwarden: ${u.lines} line(s) of ${u.name} with an attack or login carry no timestamp: scored as if written now\n`);
    }
    const names = serviceNames(parser);
    process.stdout.write(args.json ? `${auditJson(result, names, policy)}\n` : auditTable(result, names, policy));
    if (result.failedFiles > 0) process.exitCode = 1;
  },
};
