/**
 * Inspecting the live firewall, read-only: runs nft, the iptables-save variants and ipset (argument arrays,
 * never a shell), and hands their output to the pure readers. A tool that is missing or fails is skipped and
 * said so: the report lists what was read and what could not be.
 */
import { execFile } from 'node:child_process';
import type { AddressKind } from '../parse/address.js';
import { type Finding, targetOf, toolOf } from './finding.js';
import { iptablesFindings, ipsetsUsed, savedTables } from './iptables.js';
import { type IpsetSet, memberCovering, parseIpsetList } from './ipset.js';
import { nftFindings } from './nft.js';

export interface FirewallReport {
  findings: Finding[];
  /** Commands whose output was read */
  read: string[];
  /** Commands that could not be read, and why (not installed, refused, ...) */
  skipped: { command: string; reason: string }[];
}

export interface InspectOptions {
  /** logwarden's own table, chain and set prefix (--fw-name) */
  fwName: string;
  env?: NodeJS.ProcessEnv;
  /** Longest wait for one command (ms) */
  timeoutMs?: number;
}

type Output = { ok: true; stdout: string } | { ok: false; reason: string };

function run(argv: string[], options: InspectOptions): Promise<Output> {
  return new Promise((resolve) => {
    execFile(
      argv[0],
      argv.slice(1),
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 10_000, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ ok: true, stdout });
        const e = error as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === 'ENOENT') return resolve({ ok: false, reason: 'not installed' });
        if (e.killed) return resolve({ ok: false, reason: `no answer within ${options.timeoutMs ?? 10_000} ms` });
        resolve({ ok: false, reason: stderr.trim().split('\n')[0] || e.message });
      },
    );
  });
}

/** The save commands of one family: both variants when they exist; plain iptables-save only when neither does. */
function saveCommands(kind: AddressKind): { variants: string[]; plain: string } {
  const base = kind === 4 ? 'iptables' : 'ip6tables';
  return { variants: [`${base}-legacy-save`, `${base}-nft-save`], plain: `${base}-save` };
}

/** What in the live firewall matches `addr` (canonical), ours and other tools'. */
export async function inspectFirewall(addr: string, kind: AddressKind, options: InspectOptions): Promise<FirewallReport> {
  const target = targetOf(addr, kind);
  const report: FirewallReport = { findings: [], read: [], skipped: [] };
  const note = (command: string, out: Output): string | null => {
    if (out.ok) {
      report.read.push(command);
      return out.stdout;
    }
    report.skipped.push({ command, reason: out.reason });
    return null;
  };
  const { variants, plain } = saveCommands(kind);
  const [nft, ipset, ...saves] = await Promise.all([
    run(['nft', '-j', 'list', 'ruleset'], options),
    run(['ipset', 'list'], options),
    ...variants.map((c) => run([c], options)),
  ]);
  const saved: { command: string; text: string }[] = [];
  if (saves.every((s) => !s.ok && s.reason === 'not installed')) {
    const text = note(plain, await run([plain], options));
    if (text !== null) saved.push({ command: plain, text });
  } else {
    variants.forEach((command, i) => {
      const text = note(command, saves[i]);
      if (text !== null) saved.push({ command, text });
    });
  }
  const ipsetText = note('ipset list', ipset);
  const ipsets = new Map<string, IpsetSet>(ipsetText === null ? [] : parseIpsetList(ipsetText).map((s) => [s.name, s]));
  const used = new Set<string>();
  const skipTables = new Set<string>();
  for (const { command, text } of saved) {
    report.findings.push(...iptablesFindings(text, target, { source: command, fwName: options.fwName, ipsets }));
    for (const name of ipsetsUsed(text)) used.add(name);
    if (command.includes('-nft-')) for (const t of savedTables(text)) skipTables.add(`${kind === 4 ? 'ip' : 'ip6'} ${t}`);
  }
  const nftText = note('nft -j list ruleset', nft);
  if (nftText !== null) {
    try {
      report.findings.push(...nftFindings(nftText, target, { fwName: options.fwName, skipTables }));
    } catch (error) {
      report.read.pop();
      report.skipped.push({ command: 'nft -j list ruleset', reason: `unreadable output: ${(error as Error).message}` });
    }
  }
  for (const set of ipsets.values()) {
    if (used.has(set.name)) continue;
    const member = memberCovering(set, target);
    if (member === null) continue;
    report.findings.push({
      source: 'ipset',
      tool: toolOf({ set: set.name }, options.fwName),
      table: null,
      chain: null,
      set: set.name,
      matched: member.value,
      direction: 'source',
      rule: null,
      verdict: 'other',
      target: null,
      blocks: false,
      expiresIn: member.timeout,
      handle: null,
      shadowedBy: null,
    });
  }
  return report;
}
