/**
 * `whitelist add|remove|list`: edits the whitelist file the daemon reads (and watches), and brings the kernel
 * and the store along at once, whether the daemon runs or not: `add` lifts the blocks the entry covers and puts
 * it in the kernel's allow set; `remove` takes it out of the allow set.
 */
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultPaths } from '../../config/paths.js';
import { type BlockingContext, covers, unblockByHand } from '../../control/blocking.js';
import { Applier } from '../../firewall/applier.js';
import { backendNamed } from '../../firewall/backends.js';
import { FirewallError } from '../../firewall/executor.js';
import { Firewall } from '../../firewall/firewall.js';
import { plainLogger } from '../../log/logger.js';
import { type Network, networkText, parseNetwork } from '../../policy/network.js';
import { isWhitelistFile } from '../../policy/whitelist.js';
import {
  findEntry,
  parseWhitelistEntry,
  readWhitelistText,
  type WhitelistEntry,
  WhitelistEntryError,
  whitelistLines,
  withEntry,
  withoutEntry,
  writeFileAtomically,
} from '../../policy/whitelist-file.js';
import { ConfigError } from '../../config/errors.js';
import { Store, StoreError } from '../../store/store.js';
import type { Args, Command } from '../args.js';
import { UsageError } from '../args.js';

interface WhitelistArgs {
  action: 'add' | 'remove' | 'list';
  entry?: string;
  whitelist: string[];
  backend: string;
  'fw-name': string;
  hook: string;
  priority: number;
  db?: string;
  json: boolean;
  _origins: Record<string, string[]>;
}

const say = (message: string) => process.stderr.write(`logwarden: ${message}\n`);
const LOOKUP_MS = 3000;

/** The file to edit: the one --whitelist names, else the configuration's first WHITELIST_FILE, else the default. */
function fileToEdit(args: WhitelistArgs): string {
  const origins = args._origins.whitelist ?? [];
  const given = args.whitelist.filter((_, i) => origins[i]?.startsWith('-'));
  if (given.length > 1) throw new UsageError('give one --whitelist FILE to edit');
  if (given.length === 1) return resolve(given[0]);
  const configured = args.whitelist.find((value, i) => !origins[i]?.startsWith('-') && isWhitelistFile(value));
  return resolve(configured ?? defaultPaths().whitelist);
}

async function addresses(name: string): Promise<string[]> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer in 3 s')), LOOKUP_MS).unref());
  return (await Promise.race([lookup(name, { all: true }), timeout])).map((a) => a.address);
}

/** The networks an entry stands for now (a hostname: what it resolves to). */
async function networksOf(entry: WhitelistEntry): Promise<Network[]> {
  if (entry.kind === 'network') return [entry.net];
  try {
    return (await addresses(entry.name)).map((a) => parseNetwork(a)).filter((n): n is Network => n !== null);
  } catch (error) {
    say(`${entry.name} does not resolve now (${(error as Error).message}): no block lifted; the daemon resolves it again later`);
    return [];
  }
}

function firewallOf(args: WhitelistArgs): Firewall {
  try {
    return new Firewall(backendNamed(args.backend), { name: args['fw-name'], hooks: args.hook.split(',') as ('input' | 'forward')[], priority: args.priority }, plainLogger('info'));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}


/**
 * The store's allow rows of the whitelist files (origin `config`, detail the file, as the daemon records
 * them) with `nets` added or removed, and the whole allow list the kernel must then hold.
 */
function allowWith(store: Store, file: string, nets: Network[], op: 'add' | 'remove'): { config: { net: Network; detail: string }[]; all: Network[] } {
  const rows = store.allowList();
  const keys = new Set(nets.map(networkText));
  let config = rows.filter((e) => e.origin === 'config').map((e) => ({ net: e.net, detail: e.detail }));
  if (op === 'add') config.push(...nets.filter((n) => !config.some((c) => networkText(c.net) === networkText(n))).map((net) => ({ net, detail: file })));
  else config = config.filter((c) => !(keys.has(networkText(c.net)) && c.detail === file));
  const all = new Map<string, Network>();
  for (const net of [...rows.filter((e) => e.origin !== 'config').map((e) => e.net), ...config.map((c) => c.net)]) all.set(networkText(net), net);
  return { config, all: [...all.values()] };
}

/** Brings kernel and store along with the file: blocks inside the entry lifted, the allow set changed. */
async function apply(args: WhitelistArgs, file: string, nets: Network[], op: 'add' | 'remove'): Promise<void> {
  const firewall = firewallOf(args);
  const store = Store.open(args.db ?? defaultPaths().db);
  try {
    const now = Date.now();
    const allow = allowWith(store, file, nets, op);
    const applier = new Applier(firewall, plainLogger('warn'), () => ({ blocks: [], allow: [] }));
    if (op === 'add') {
      const covered = store.activeBlocks().filter((b) => nets.some((n) => covers(n, b)));
      const ctx: BlockingContext = { store, applier, whitelistedBy: () => null, allow: allow.all, ownAllow: [], owner: [], force: false, now };
      // the allow set first: a prefix block around the entry stops dropping it at once
      await applier.change([], allow.all);
      for (const b of covered) {
        await unblockByHand(ctx, { addr: b.addr, cidr: b.cidr, kind: b.kind });
        process.stdout.write(`unblocked ${b.key}\n`);
      }
      for (const b of store.activeBlocks().filter((b) => nets.some((n) => covers(b, n) && b.key !== networkText(n)))) {
        process.stdout.write(`${b.key} stays blocked; the whitelisted addresses inside it are let through\n`);
      }
    } else {
      await applier.change([], allow.all);
    }
    store.replaceAllow('config', allow.config);
  } finally {
    store.close();
  }
}

function failed(error: unknown, changedFile: string): void {
  if (error instanceof FirewallError) say(`${changedFile} was changed, but the firewall refused: ${error.message} (the daemon applies the file when it reads it)`);
  else if (error instanceof StoreError) say(`${changedFile} was changed, but the store could not be written: ${error.message}`);
  else throw error;
  process.exitCode = 1;
}

async function add(args: WhitelistArgs, entry: WhitelistEntry): Promise<void> {
  const file = fileToEdit(args);
  const isNew = !existsSync(file);
  const text = readWhitelistText(file);
  const already = findEntry(text, entry);
  if (already.length > 0) {
    process.stdout.write(`${entry.text} is already in ${file}:${already[0]}\n`);
  } else {
    writeFileAtomically(file, withEntry(text, entry));
    process.stdout.write(`added ${entry.text} to ${file}${isNew ? ' (a new file)' : ''}\n`);
  }
  try {
    await apply(args, file, await networksOf(entry), 'add');
  } catch (error) {
    failed(error, file);
  }
}

async function remove(args: WhitelistArgs, entry: WhitelistEntry): Promise<void> {
  const file = fileToEdit(args);
  const text = readWhitelistText(file);
  const lines = findEntry(text, entry);
  if (lines.length === 0) {
    say(`${entry.text} is not in ${file}${existsSync(file) ? '' : ' (there is no such file)'}`);
    process.exitCode = 1;
    return;
  }
  writeFileAtomically(file, withoutEntry(text, entry));
  process.stdout.write(`removed ${entry.text} from ${file} (line${lines.length > 1 ? 's' : ''} ${lines.join(', ')})\n`);
  if (entry.kind === 'hostname') return; // its addresses are the daemon's to drop when it reloads
  try {
    await apply(args, file, [entry.net], 'remove');
  } catch (error) {
    failed(error, file);
  }
}

interface Listed {
  entry: string;
  kind: 'address' | 'network' | 'hostname';
  source: string;
  line: number | null;
  resolves: string[] | null;
  error?: string;
}

async function list(args: WhitelistArgs): Promise<void> {
  const origins = args._origins.whitelist ?? [];
  const files: string[] = [];
  const fromFiles: Listed[] = [];
  const given: Listed[] = [];
  const problems: string[] = [];
  const defaultFile = defaultPaths().whitelist;
  if (existsSync(defaultFile)) files.push(defaultFile);
  args.whitelist.forEach((value, i) => {
    if (isWhitelistFile(value)) {
      if (!files.includes(resolve(value))) files.push(resolve(value));
      return;
    }
    try {
      const entry = parseWhitelistEntry(value);
      given.push(describe(entry, origins[i] ?? '-w', null));
    } catch (error) {
      problems.push(`${origins[i] ?? '-w'}: ${(error as Error).message}`);
    }
  });
  for (const file of files) {
    let text: string;
    try {
      text = readWhitelistText(file);
    } catch (error) {
      problems.push(`${file}: cannot read: ${(error as Error).message}`);
      continue;
    }
    for (const l of whitelistLines(text)) {
      if (l.entry) fromFiles.push(describe(l.entry, file, l.line));
      else problems.push(`${file}:${l.line}: ${l.problem} (ignored)`);
    }
  }
  const listed = [...fromFiles, ...given];
  await Promise.all(
    listed
      .filter((l) => l.kind === 'hostname')
      .map(async (l) => {
        try {
          l.resolves = await addresses(l.entry);
        } catch (error) {
          l.error = (error as Error).message;
        }
      }),
  );
  for (const p of problems) say(p);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ entries: listed, problems })}\n`);
    return;
  }
  if (listed.length === 0) process.stdout.write(`no whitelist entries${files.length === 0 ? ` (no whitelist file: ${defaultFile} does not exist)` : ''}; loopback is always whitelisted\n`);
  for (const l of listed) {
    const where = l.line === null ? l.source : `${l.source}:${l.line}`;
    const resolved = l.kind !== 'hostname' ? '' : l.resolves ? ` -> ${l.resolves.join(', ') || '(no address)'}` : ` -> does not resolve: ${l.error}`;
    process.stdout.write(`${l.entry.padEnd(24)} ${where}${resolved}\n`);
  }
}

function describe(entry: WhitelistEntry, source: string, line: number | null): Listed {
  const kind = entry.kind === 'hostname' ? 'hostname' : entry.net.cidr === (entry.net.kind === 4 ? 32 : 128) ? 'address' : 'network';
  return { entry: entry.text, kind, source, line, resolves: null };
}

export const whitelistCommand: Command = {
  name: 'whitelist',
  describe: 'Add an entry to the whitelist file (lifting the blocks it covers at once), remove one, or list them all',
  positionals: [
    { name: 'action', required: true, choices: ['add', 'remove', 'list'], describe: 'add, remove or list' },
    { name: 'entry', describe: 'add, remove: an address, CIDR or hostname' },
  ],
  handler: async (raw: Args) => {
    const args = raw as unknown as WhitelistArgs;
    if (args.action === 'list') {
      if (args.entry !== undefined) throw new UsageError('whitelist list takes no ENTRY');
      await list(args);
      return;
    }
    if (args.entry === undefined) throw new UsageError(`whitelist ${args.action} needs an ENTRY (an address, CIDR or hostname)`);
    let entry: WhitelistEntry;
    try {
      entry = parseWhitelistEntry(args.entry);
    } catch (error) {
      if (error instanceof WhitelistEntryError) throw new UsageError(error.message);
      throw error;
    }
    await (args.action === 'add' ? add(args, entry) : remove(args, entry));
  },
};
