import { lookup } from 'node:dns/promises';
import { ConfigError } from '../../config/errors.js';
import { type PolicyArgs, policyFromArgs, whitelistFromArgs } from '../../config/policy.js';
import { Parser } from '../../parse/parser.js';
import { ruleSetFromArgs } from '../../config/rules.js';
import { checkTimezone } from '../../parse/time.js';
import { readBlacklist } from '../../policy/blacklist.js';
import { networkText } from '../../policy/network.js';
import { Whitelist } from '../../policy/whitelist.js';
import { plainLogger } from '../../log/logger.js';
import { HostnameResolver } from '../../resolve/hostnames.js';
import { type AuditBlock, replay, type ReplayResult } from '../../audit/replay.js';
import { type Args, type Command, UsageError } from '../command.js';
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

export function auditJson(result: ReplayResult): string {
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
      rules: b.rules,
      first_seen: iso(b.firstSeen),
      evidence: b.evidence,
    })),
    summary: { lines: result.lines, attacks: result.attacks, addresses: result.addresses, blocks: result.blocks.length },
  });
}

function humanDuration(seconds: number): string {
  if (seconds < 600) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 360) / 10}h`;
  return `${Math.round(seconds / 8640) / 10}d`;
}

const shortTime = (ms: number) => iso(ms).replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');

export function auditTable(result: ReplayResult): string {
  const header = ['ADDRESS', 'BLOCKED AT (UTC)', 'FOR', 'ATTACKS', 'SCORE', 'SERVICES', 'RULES', 'FIRST SEEN (UTC)'];
  const rows = result.blocks.map(({ decision: b }: AuditBlock) => [
    networkText(b.net),
    shortTime(b.at),
    b.permanent ? 'permanent' : humanDuration(b.duration!),
    String(b.attacks),
    String(b.score),
    b.services.join(','),
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

    const progress = new Progress(process.stderr, args.files);
    const result = await replay(args.files, {
      parser: new Parser(ruleSetFromArgs(args).rules),
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
    process.stdout.write(args.json ? `${auditJson(result)}\n` : auditTable(result));
    if (result.failedFiles > 0) process.exitCode = 1;
  },
};
