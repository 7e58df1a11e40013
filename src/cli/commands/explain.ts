/**
 * explain ADDR (alias why): who blocks this address, and why. Reads the store (while the daemon runs: a WAL
 * reader never blocks it), the whitelist and the live firewall (read-only), and answers with a verdict first.
 * Exit status: 0 not blocked, 1 blocked (by logwarden or by anything found in the firewall), 2 usage error,
 * 3 the store could not be read and nothing was found blocking the address.
 */
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { policyFromArgs, type PolicyArgs, whitelistFromArgs } from '../../config/policy.js';
import { defaultPaths } from '../../config/paths.js';
import { explainAddress, type ExplainFacts } from '../../inspect/explanation.js';
import { inspectFirewall } from '../../inspect/inspect.js';
import { renderExplanation } from '../../inspect/render.js';
import { canonicalIP } from '../../parse/address.js';
import { type Network, NetworkSet } from '../../policy/network.js';
import { isWhitelistFile, readWhitelistFile, Whitelist } from '../../policy/whitelist.js';
import { AddressQueries } from '../../store/queries.js';
import { type AllowEntry, Store } from '../../store/store.js';
import { type Args, type Command, UsageError } from '../args.js';

interface ExplainArgs extends PolicyArgs {
  address: string;
  db?: string;
  whitelist: string[];
  json: boolean;
  all: boolean;
  'fw-name': string;
  backend: string;
  _given: Set<string>;
}

const EVIDENCE_SHOWN = 10;
const LOOKUP_MS = 2000;
const say = (message: string) => process.stderr.write(`logwarden explain: ${message}\n`);

async function whitelistOf(args: ExplainArgs): Promise<Whitelist> {
  const entries = whitelistFromArgs(args);
  // the daemon also reads the default file when it exists
  const file = defaultPaths().whitelist;
  if (!args.whitelist.includes(file) && existsSync(file)) {
    try {
      readWhitelistFile(file, entries);
    } catch (error) {
      say(`cannot read the default whitelist ${file}: ${(error as Error).message}`);
    }
  }
  for (const p of entries.problems) say(`whitelist ${p.source}${p.line ? `:${p.line}` : ''}: ${JSON.stringify(p.entry)} skipped: ${p.message}`);
  const resolve = async (name: string) => {
    const answer = lookup(name, { all: true }).then((list) => list.map((a) => a.address));
    const late = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`no answer within ${LOOKUP_MS} ms`)), LOOKUP_MS).unref();
    });
    return Promise.race([answer, late]);
  };
  const whitelist = new Whitelist(entries, resolve);
  for (const p of await whitelist.refresh()) say(`whitelist ${p.source}: ${p.entry}: ${p.message}`);
  return whitelist;
}

function contains(net: Network, addr: string, kind: 4 | 6): boolean {
  const one = new NetworkSet();
  one.add(net);
  return net.kind === kind && one.has(addr, kind);
}

function allowedBy(entries: AllowEntry[], addr: string, kind: 4 | 6): AllowEntry | null {
  return entries.find((e) => contains(e.net, addr, kind)) ?? null;
}

/** Whether the store's daemon said, in its status row, that it runs (or ran last) as a dry run. */
function daemonDryRun(store: Store): boolean {
  const row = store.db.prepare("SELECT json_extract(state, '$.dryRun') AS dry FROM daemon_status WHERE id = 1").get() as { dry: number | null } | undefined;
  return row?.dry === 1;
}

/** What the store knows of the address; null when it has no file yet. Throws a StoreError when it cannot be read. */
function storeFacts(path: string, addr: string, kind: 4 | 6) {
  if (!existsSync(path)) return null;
  const store = Store.open(path);
  try {
    const q = new AddressQueries(store);
    return {
      blocks: q.blocksCovering(addr, kind),
      offenders: q.offendersCovering(addr, kind),
      evidence: q.evidenceOf(addr, null).rows,
      lastTrust: q.lastTrust(addr),
      allowed: allowedBy(store.allowList(), addr, kind),
      fleet: store.fleet.decisions().filter((d) => contains(d.net, addr, kind)),
      dryRun: daemonDryRun(store),
    };
  } finally {
    // closed without Store.close(): a reader has nothing to write, and must not checkpoint the daemon's WAL
    store.db.close();
  }
}

export const explainCommand: Command = {
  name: 'explain',
  aliases: ['why'],
  describe: 'Who blocks this address, and why: verdict, blocks, score, evidence, and every matching rule in the live firewall',
  positionals: [{ name: 'address', required: true, describe: 'An IPv4 or IPv6 address' }],
  handler: async (raw: Args) => {
    const args = raw as unknown as ExplainArgs;
    const ip = canonicalIP(args.address);
    if (!ip) throw new UsageError(`${JSON.stringify(args.address)} is not an IP address${args.address.includes('/') ? ' (explain takes one address, not a CIDR)' : ''}`);
    const { addr, kind } = ip;
    const { policy } = policyFromArgs(args);
    const whitelist = await whitelistOf(args);
    const dbPath = args.db ?? defaultPaths().db;
    let stored: ReturnType<typeof storeFacts> = null;
    let storeProblem: string | null = null;
    try {
      stored = storeFacts(dbPath, addr, kind);
    } catch (error) {
      storeProblem = (error as Error).message;
      say(`the store could not be read, so what logwarden recorded is not shown: ${storeProblem}`);
    }
    const firewall = await inspectFirewall(addr, kind, { fwName: args['fw-name'] });
    const prefix = ['logwarden', ...(['db', 'backend', 'fw-name'] as const).filter((o) => args._given.has(o)).map((o) => `--${o} ${String(args[o])}`)];
    const files = args.whitelist.filter(isWhitelistFile);
    const facts: ExplainFacts = {
      addr,
      kind,
      now: Date.now(),
      policy,
      db: stored === null ? null : dbPath,
      whitelisted: whitelist.entryFor(addr, kind),
      allowed: stored?.allowed ?? null,
      blocks: stored?.blocks ?? [],
      offenders: stored?.offenders ?? [],
      evidence: stored?.evidence ?? [],
      evidenceLimit: args.all ? null : EVIDENCE_SHOWN,
      lastTrust: stored?.lastTrust ?? null,
      fleet: stored?.fleet ?? [],
      dryRun: stored?.dryRun ?? false,
      firewall,
      commandPrefix: prefix.join(' '),
      whitelistFile: files[0] ?? defaultPaths().whitelist,
    };
    const answer = explainAddress(facts);
    process.stdout.write(args.json ? `${JSON.stringify({ ...answer, storeProblem })}\n` : renderExplanation(answer));
    process.exitCode = answer.blocked ? 1 : storeProblem !== null ? 3 : 0;
  },
};
