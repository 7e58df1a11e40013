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
import { type Network, NetworkSet, networkText, parseNetwork, width } from '../../policy/network.js';
import { Whitelist } from '../../policy/whitelist.js';
import { defaultDbPath, Store } from '../../store/store.js';
import type { Args, Command } from '../command.js';
import { UsageError } from '../command.js';

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
}

const say = (message: string) => process.stderr.write(`logwarden: ${message}\n`);

function firewallOf(args: FirewallArgs): Firewall {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,23}$/.test(args['fw-name'])) {
    throw new ConfigError(`--fw-name: letters, digits, - and _ only (at most 24), starting with a letter; got ${JSON.stringify(args['fw-name'])}`);
  }
  const hooks = args.hook.split(',') as ('input' | 'forward')[];
  if (!Number.isInteger(args.priority)) throw new ConfigError(`--priority: expected a whole number, got ${args.priority}`);
  return new Firewall(backendNamed(args.backend), { name: args['fw-name'], hooks, priority: args.priority }, say);
}

async function whitelistOf(args: FirewallArgs): Promise<Whitelist> {
  const entries = whitelistFromArgs(args);
  for (const p of entries.problems) say(`whitelist ${p.source}${p.line ? `:${p.line}` : ''}: ${JSON.stringify(p.entry)} skipped: ${p.message}`);
  const whitelist = new Whitelist(entries, async (name) => (await lookup(name, { all: true })).map((a) => a.address));
  for (const p of await whitelist.refresh()) say(`whitelist ${p.source}: ${p.entry}: ${p.message}`);
  return whitelist;
}

function overlaps(a: Network, b: Network): boolean {
  if (a.kind !== b.kind) return false;
  const one = new NetworkSet();
  one.add(a);
  return one.intersects(b);
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

/** Firewall failures are reported with what was recorded, and exit 1. */
async function applying(what: string, action: () => Promise<void>): Promise<boolean> {
  try {
    await action();
    return true;
  } catch (error) {
    if (!(error instanceof FirewallError)) throw error;
    say(`${what}: the firewall refused: ${error.message}`);
    process.exitCode = 1;
    return false;
  }
}

export const blockCommand: Command = {
  name: 'block',
  describe: 'Block an address (exactly that address) or a CIDR, in the store and in the kernel',
  positionals: [{ name: 'target', required: true, describe: 'An IPv4/IPv6 address or a CIDR' }],
  handler: async (raw: Args) => {
    const args = raw as unknown as FirewallArgs;
    const net = targetOf(args);
    const duration = durationOf(args.for);
    const whitelist = await whitelistOf(args);
    const text = networkText(net);
    const single = net.cidr === width(net.kind);
    if (single && whitelist.has(net.addr, net.kind)) {
      say(`${text} is whitelisted (${whitelist.reason(net.addr, net.kind)}): not blocked`);
      process.exitCode = 1;
      return;
    }
    const firewall = firewallOf(args);
    const now = Date.now();
    const store = Store.open(args.db ?? defaultDbPath());
    try {
      // prefixes share one kernel set, which refuses overlapping ones
      const overlapping = single ? undefined : store.activeBlocks().find((b) => b.key !== text && b.cidr < width(b.kind) && overlaps(b, net));
      if (overlapping) {
        say(`${text} overlaps the active block ${overlapping.key}: unblock that first`);
        process.exitCode = 1;
        return;
      }
      store.addBlock(net, now, duration === null ? null : now + duration * 1000, 'manual', { text: args.reason ?? 'blocked by hand' });
    } finally {
      store.close();
    }
    const ok = await applying(`${text} is recorded as blocked`, async () => {
      await firewall.setup(whitelist.list());
      await firewall.apply([{ op: 'block', entry: { net, timeout: duration } }]);
    });
    if (!ok) return;
    if (duration !== null && !firewall.backend.kernelExpiry) {
      say(`${args.backend} has no timeouts: the block stays in the kernel until the daemon lifts it or you run unblock`);
    }
    const inside = !single && whitelist.overlaps(net) ? ' (whitelisted addresses inside it stay reachable)' : '';
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
    const firewall = firewallOf(args);
    const now = Date.now();
    const store = Store.open(args.db ?? defaultDbPath());
    let wasActive: boolean;
    try {
      wasActive = store.endBlock(text, 'released', now);
      store.releaseOffender(text, now);
    } finally {
      store.close();
    }
    const ok = await applying(`${text} is recorded as released`, () => firewall.apply([{ op: 'unblock', net }]));
    if (!ok) return;
    process.stdout.write(wasActive ? `unblocked ${text}\n` : `${text} was not blocked in the store; removed from the firewall if it was there\n`);
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
    if (!(await applying('flush', () => firewall.teardown()))) return;
    process.stdout.write(`removed the ${args.backend} objects named ${args['fw-name']}\n`);
  },
};
