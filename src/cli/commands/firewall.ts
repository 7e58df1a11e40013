/**
 * block, unblock and flush: they work with or without the daemon, change the store and the kernel
 * themselves, and the daemon picks the store's change up (the store is the channel between them).
 */
import { lookup } from 'node:dns/promises';
import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../../config/errors.js';
import { whitelistFromArgs } from '../../config/policy.js';
import { backendNamed } from '../../firewall/backends.js';
import { FirewallError } from '../../firewall/executor.js';
import { Firewall } from '../../firewall/firewall.js';
import { blockByHand, type BlockingContext, covers, coveringBlocks, RefusedError, unblockByHand } from '../../control/blocking.js';
import { ownerAddresses } from '../../daemon/owner.js';
import { Applier } from '../../firewall/applier.js';
import { plainLogger } from '../../log/logger.js';
import { type Network, networkText, parseNetwork, width } from '../../policy/network.js';
import { Whitelist } from '../../policy/whitelist.js';
import { defaultPaths } from '../../config/paths.js';
import { type BlockRow, Store, StoreError } from '../../store/store.js';
import type { Args, Command } from '../args.js';
import { UsageError } from '../args.js';

interface FirewallArgs {
  target?: string;
  backend: string;
  'fw-name': string;
  hook: string;
  priority: number;
  db?: string;
  whitelist: string[];
  for?: string;
  reason?: string;
  yes?: boolean;
  force?: boolean;
}

const say = (message: string) => process.stderr.write(`logwarden: ${message}\n`);

/** The backend validates its name and options here, before anything is opened or run. */
function firewallOf(args: FirewallArgs): Firewall {
  const hooks = args.hook.split(',') as ('input' | 'forward')[];
  if (!Number.isInteger(args.priority)) throw new ConfigError(`--priority: expected a whole number, got ${args.priority}`);
  try {
    return new Firewall(backendNamed(args.backend), { name: args['fw-name'], hooks, priority: args.priority }, plainLogger('info'));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

async function whitelistOf(args: FirewallArgs): Promise<Whitelist> {
  const entries = whitelistFromArgs(args);
  for (const p of entries.problems) say(`whitelist ${p.source}${p.line ? `:${p.line}` : ''}: ${JSON.stringify(p.entry)} skipped: ${p.message}`);
  const whitelist = new Whitelist(entries, async (name) => (await lookup(name, { all: true })).map((a) => a.address));
  for (const p of await whitelist.refresh()) say(`whitelist ${p.source}: ${p.entry}: ${p.message}`);
  return whitelist;
}

function targetOf(args: FirewallArgs): Network {
  const net = parseNetwork(args.target ?? '');
  if (!net) throw new UsageError(`${JSON.stringify(args.target)} is not an IP address or CIDR`);
  return net;
}

function durationOf(text: string | undefined): number | null {
  if (text === undefined || text === 'forever') return null;
  if (!/^\d{1,10}$/.test(text) || Number(text) === 0) throw new UsageError(`--for: expected a number of seconds or forever, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Everything is checked (target, options, backend) before the store is opened or a command is run. */
async function contextOf(args: FirewallArgs): Promise<{ ctx: BlockingContext; whitelist: Whitelist }> {
  const firewall = firewallOf(args);
  const whitelist = await whitelistOf(args);
  const store = Store.open(args.db ?? defaultPaths().db);
  const applier = new Applier(firewall, plainLogger('warn'), () => ({ blocks: [], allow: [] }));
  const stored = store.allowList();
  const allow = new Map<string, Network>();
  for (const net of [...stored.map((e) => e.net), ...whitelist.list()]) allow.set(networkText(net), net);
  const ctx: BlockingContext = {
    store,
    applier,
    whitelistedBy: (net) => {
      if (whitelist.has(net.addr, net.kind)) return whitelist.reason(net.addr, net.kind);
      const entry = stored.find((e) => covers(e.net, net));
      return entry ? `${entry.origin} ${entry.detail}` : null;
    },
    allow: [...allow.values()],
    ownAllow: whitelist.entries.networks.filter((n) => n.source === '-w').map((n) => n.net),
    owner: await ownerAddresses(),
    force: args.force === true,
    now: Date.now(),
  };
  return { ctx, whitelist };
}

/** What went wrong, in one line, exit 1: the command changed neither the store nor the kernel. */
function refused(error: unknown): void {
  if (error instanceof RefusedError) say(error.message);
  else if (error instanceof FirewallError && error.missing) say(`${error.message}; nothing was changed`);
  else if (error instanceof FirewallError) say(`the firewall refused, nothing was changed: ${error.message}`);
  else if (error instanceof StoreError) say(`the store could not be written, the firewall change was undone: ${error.message}`);
  else throw error;
  process.exitCode = 1;
}

export const blockCommand: Command = {
  name: 'block',
  describe: 'Block an address (exactly that address) or a CIDR, in the store and in the kernel',
  positionals: [{ name: 'target', required: true, describe: 'An IPv4/IPv6 address or a CIDR' }],
  handler: async (raw: Args) => {
    const args = raw as unknown as FirewallArgs;
    const net = targetOf(args);
    const duration = durationOf(args.for);
    const { ctx, whitelist } = await contextOf(args);
    const text = networkText(net);
    try {
      await blockByHand(ctx, net, duration, args.reason ?? 'blocked by hand');
    } catch (error) {
      refused(error);
      return;
    } finally {
      ctx.store.close();
    }
    const capped = ctx.applier.cappedNotice({ net, timeout: duration });
    if (capped) say(capped);
    if (duration !== null && !ctx.applier.firewall.backend.kernelExpiry) {
      say(`${args.backend} has no timeouts: the block stays in the kernel until the daemon lifts it or you run unblock`);
    }
    const inside = net.cidr !== width(net.kind) && whitelist.overlaps(net) ? ' (whitelisted addresses inside it stay reachable)' : '';
    process.stdout.write(`blocked ${text} ${duration === null ? 'until unblocked' : `for ${duration}s`}${inside}\n`);
  },
};

export const unblockCommand: Command = {
  name: 'unblock',
  describe: 'Lift the block of an address or CIDR, in the store and in the kernel',
  positionals: [{ name: 'target', required: true, describe: 'An IPv4/IPv6 address or a CIDR, as it was blocked' }],
  handler: async (raw: Args) => {
    const args = raw as unknown as FirewallArgs;
    const net = targetOf(args);
    const text = networkText(net);
    const { ctx } = await contextOf(args);
    let wasActive: boolean;
    let stillActive: BlockRow[] = [];
    try {
      wasActive = await unblockByHand(ctx, net);
      stillActive = ctx.store.activeBlocks();
    } catch (error) {
      refused(error);
      return;
    } finally {
      ctx.store.close();
    }
    process.stdout.write(wasActive ? `unblocked ${text}\n` : `${text} was not blocked in the store; removed from the firewall if it was there\n`);
    const still = coveringBlocks(stillActive, net);
    for (const b of still) {
      say(`${text} is still blocked as part of ${b.key} (${b.expires === null ? 'permanently' : `until ${new Date(b.expires).toISOString()}`}): to lift that, logwarden unblock ${b.key}`);
    }
    if (still.length > 0) process.exitCode = 1;
  },
};

export const flushCommand: Command = {
  name: 'flush',
  describe: 'Remove every firewall object logwarden created (blocks stay recorded in the store)',
  positionals: [],
  handler: async (raw: Args) => {
    const args = raw as unknown as FirewallArgs;
    const firewall = firewallOf(args);
    if (process.stdin.isTTY && process.stdout.isTTY && !args.yes) {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(`Remove every ${args.backend} object named ${args['fw-name']}? Nothing will be blocked until they are set up again. [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        process.stdout.write('nothing changed\n');
        return;
      }
    }
    try {
      await firewall.teardown();
    } catch (error) {
      if (!(error instanceof FirewallError) || error.missing) {
        refused(error);
        return;
      }
      // a removal is several commands: the first ones may have taken effect (chains flushed, jumps gone)
      say(`the firewall refused part of the removal; what ran before it stays removed, and a running daemon's next sync restores its objects: ${error.message}`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`removed the ${args.backend} objects named ${args['fw-name']}\n`);
  },
};
