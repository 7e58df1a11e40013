/**
 * The iptables backend (iptables and ip6tables, filter table), for systems without nft sets or ipset:
 * - chain `<name>`, jumped to from INPUT (and FORWARD when asked): one `-s NET -j RETURN` rule per whitelisted
 *   network, then `-j <name>-blk`;
 * - chain `<name>-blk`: one `-s NET -j DROP` rule per block.
 * iptables has no timeouts: kernelExpiry is false and logwarden unblocks expired blocks itself.
 * list reads each family's filter table at once (iptables-save): a hook chain that no longer jumps to ours is
 * seen by the sync.
 *
 * Why two chains: setup must make the RETURN rules exactly the allow list while keeping every DROP rule (a restart
 * must not unblock anyone), and backends are pure, so setup cannot know which RETURN rules are there. With the
 * blocks in their own chain, setup rebuilds `<name>` wholesale and atomically: in `iptables-restore --noflush`, a
 * `:CHAIN` line creates the chain or flushes it, and `<name>-blk` is only ever created (`-N`, "already exists" is
 * fine), never flushed. The whitelist still comes first: `<name>` returns for allowed sources before it reaches
 * the jump to the blocks.
 *
 * Re-blocks and unblocks. `-D` of a missing rule fails the whole iptables-restore batch, `-A` of a present rule
 * duplicates it, and no fixed sequence of -A/-D lines in one batch reaches "exactly one rule" from an unknown
 * count. So without knowing the kernel's state, every source of a batch is first removed by its own
 * `iptables -w -D <name>-blk -s NET -j DROP` (exit 1 = "no such rule", not an error), then all blocks are
 * appended by one iptables-restore per family. Correct whatever is there, but one process per operation (and
 * iptables-nft reads the whole ruleset on each: ~50 ms per process with 10,000 rules). When the caller passes the
 * kernel state it knows (apply's optional third argument, e.g. right after list, as Firewall.sync does), the
 * batch is exact: `-D` only for unblocked sources that are present, `-A` only for blocked sources that are
 * absent (a present source is already blocked: iptables rules have no timeout to refresh), all in one
 * iptables-restore per family.
 *
 * Only canonical networks are rendered: anything else throws, no other text is ever interpolated.
 */
import { isCanonicalNetwork, type Network, parseNetwork } from '../policy/network.js';
import type { Backend, BlockEntry, FirewallOptions, HookJump, Invocation, KernelState, Operation } from './backend.js';

export interface Family {
  kind: 4 | 6;
  cmd: 'iptables' | 'ip6tables';
  restore: 'iptables-restore' | 'ip6tables-restore';
  save: 'iptables-save' | 'ip6tables-save';
}

export const FAMILIES: Family[] = [
  { kind: 4, cmd: 'iptables', restore: 'iptables-restore', save: 'iptables-save' },
  { kind: 6, cmd: 'ip6tables', restore: 'ip6tables-restore', save: 'ip6tables-save' },
];

const HOOK_CHAINS = { input: 'INPUT', forward: 'FORWARD' } as const;

/**
 * Checks the options and returns the hook chains to jump from. Names: a letter, then letters, digits, - and _,
 * at most 24 (iptables chain names are under 29 characters: `<name>-blk`; ipset names under 32: `<name>-block4`).
 */
export function checkXtOptions(options: FirewallOptions, who: string): ('INPUT' | 'FORWARD')[] {
  const { name, hooks } = options;
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,23}$/.test(name)) {
    throw new Error(`${who}: invalid firewall name ${JSON.stringify(name)} (a letter, then letters, digits, - and _; at most 24)`);
  }
  if (!Array.isArray(hooks) || hooks.length === 0 || hooks.some((h) => !(h in HOOK_CHAINS)) || new Set(hooks).size !== hooks.length) {
    throw new Error(`${who}: invalid hooks ${JSON.stringify(hooks)} (input and/or forward)`);
  }
  return hooks.map((h) => HOOK_CHAINS[h]);
}

/** Throws unless `net` is a canonical Network (canonical address, host bits clear, prefix in range). */
export function checkNetwork(net: Network, who: string): Network {
  if (!isCanonicalNetwork(net)) throw new Error(`${who}: refusing a non-canonical network ${JSON.stringify(net)}`);
  return net;
}

/** `ADDR/LEN`, always with the length: the form `iptables -S` prints. */
export function iptablesSource(net: Network): string {
  checkNetwork(net, 'iptables');
  return `${net.addr}/${net.cidr}`;
}

const keyOf = (net: Network) => `${net.addr}/${net.cidr}`;

/** The final state each network of the batch must reach, in order of first appearance (the last op wins). */
export function finalStates(ops: Operation[], who: string): Map<string, { net: Network; block: BlockEntry | null }> {
  if (!Array.isArray(ops)) throw new Error(`${who}: operations must be an array`);
  const out = new Map<string, { net: Network; block: BlockEntry | null }>();
  for (const op of ops) {
    const net = op?.op === 'block' ? op.entry?.net : op?.op === 'unblock' ? op.net : undefined;
    if (!net) throw new Error(`${who}: unknown operation ${JSON.stringify(op)}`);
    checkNetwork(net, who);
    const block = op.op === 'block' ? op.entry : null;
    if (block && block.timeout !== null && (typeof block.timeout !== 'number' || Number.isNaN(block.timeout))) {
      throw new Error(`${who}: invalid timeout ${String(block.timeout)}`);
    }
    const key = keyOf(net);
    if (out.has(key)) out.get(key)!.block = block;
    else out.set(key, { net, block });
  }
  return out;
}

/**
 * Jumps from the hook chains to `chain`, each inserted first and only when missing (`-C` checks); a FORWARD jump
 * left by an earlier setup with the forward hook is removed when forward is no longer asked for.
 */
export function jumpInvocations(fam: Family, chain: string, hooks: ('INPUT' | 'FORWARD')[]): Invocation[] {
  const out: Invocation[] = [];
  for (const hook of hooks) {
    out.push({ argv: [fam.cmd, '-w', '-I', hook, '-j', chain], unless: { argv: [fam.cmd, '-w', '-C', hook, '-j', chain] } });
  }
  if (!hooks.includes('FORWARD')) out.push({ argv: [fam.cmd, '-w', '-D', 'FORWARD', '-j', chain], okCodes: [1] });
  return out;
}

/**
 * A family's filter table in one read: the kernel hands iptables-save the table as one snapshot, while one `-S`
 * per chain could see a change made between two of them half done (our jump gone but our chain still there)
 * and report the wrong drift. iptables-save takes no `-w`: it only reads.
 */
export function saveInvocation(fam: Family): Invocation {
  return { argv: [fam.save, '-t', 'filter'] };
}

/**
 * The `-S CHAIN` listing cut from iptables-save output: `-N CHAIN` (`-P CHAIN POLICY` for a built-in chain),
 * then its rules; '' when the table has no such chain.
 */
export function chainListing(save: string, chain: string): string {
  const out: string[] = [];
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line.startsWith(`:${chain} `)) {
      const policy = line.split(/\s+/)[1];
      out.unshift(policy === '-' ? `-N ${chain}` : `-P ${chain} ${policy}`);
    } else if (line.startsWith(`-A ${chain} `)) out.push(line);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/**
 * How a hook chain's `-S` listing reaches `chain`: only the exact rule setup inserts (`-A HOOK -j CHAIN`) counts,
 * a jump with conditions (an interface, a port) is someone else's choice and not ours.
 */
export function hookJumpOf(text: string, fam: Family, hook: 'INPUT' | 'FORWARD', chain: string): HookJump {
  const rules = text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(`-A ${hook} `));
  const ours = `-A ${hook} -j ${chain}`;
  const first = rules.indexOf(ours);
  return { family: fam.kind, hook, jumps: rules.filter((r) => r === ours).length, above: first < 0 ? [] : rules.slice(0, first) };
}

/**
 * Removes `chains` (the first is the one the hooks jump to) without failing when they are missing: one restore
 * creates or flushes them (which also drops the references between them), the jumps go (1 = "no such rule"),
 * then a second restore deletes them. A jump left elsewhere makes the deletion fail loudly.
 */
/**
 * Flushes our chains, removes every jump to the first one and deletes them. `-D` removes one jump at a time, so
 * with the kernel's state known each jump it listed is removed: a doubled jump made `-X` fail half-way.
 */
export function removeChainsInvocations(fam: Family, chains: string[], current?: KernelState): Invocation[] {
  const restore = (lines: string[]): Invocation => ({
    argv: [fam.restore, '--noflush', '-w'],
    stdin: ['*filter', ...lines, 'COMMIT', ''].join('\n'),
  });
  const jumps = (hook: 'INPUT' | 'FORWARD') => Math.max(1, current?.hooks?.find((h) => h.family === fam.kind && h.hook === hook)?.jumps ?? 0);
  const unhook = (hook: 'INPUT' | 'FORWARD'): Invocation[] =>
    Array.from({ length: jumps(hook) }, () => ({ argv: [fam.cmd, '-w', '-D', hook, '-j', chains[0]], okCodes: [1] }));
  return [restore(chains.map((c) => `:${c} - [0:0]`)), ...unhook('INPUT'), ...unhook('FORWARD'), restore(chains.map((c) => `-X ${c}`))];
}

function chains(options: FirewallOptions): { entry: string; blk: string; hooks: ('INPUT' | 'FORWARD')[] } {
  const hooks = checkXtOptions(options, 'iptables');
  return { entry: options.name, blk: `${options.name}-blk`, hooks };
}

function restoreInvocation(fam: Family, lines: string[]): Invocation {
  return { argv: [fam.restore, '--noflush', '-w'], stdin: ['*filter', ...lines, 'COMMIT', ''].join('\n') };
}

function setup(options: FirewallOptions, allow: Network[]): Invocation[] {
  const { entry, blk, hooks } = chains(options);
  if (!Array.isArray(allow)) throw new Error('iptables: the allow list must be an array');
  const sources = allow.map((n) => ({ kind: n?.kind, src: iptablesSource(n) }));
  const out: Invocation[] = [];
  for (const fam of FAMILIES) {
    // the block chain is only created, never flushed: existing blocks survive a restart (1 = already exists)
    out.push({ argv: [fam.cmd, '-w', '-N', blk], okCodes: [1] });
    // the entry chain is rebuilt atomically: `:CHAIN` creates it or flushes it
    const lines = [`:${entry} - [0:0]`];
    for (const s of sources) if (s.kind === fam.kind) lines.push(`-A ${entry} -s ${s.src} -j RETURN`);
    lines.push(`-A ${entry} -j ${blk}`);
    out.push(restoreInvocation(fam, lines));
    out.push(...jumpInvocations(fam, entry, hooks));
  }
  return out;
}

function apply(options: FirewallOptions, ops: Operation[], current?: KernelState): Invocation[] {
  const { blk } = chains(options);
  const final = finalStates(ops, 'iptables');
  const present = current ? new Set(current.blocks.map((b) => keyOf(b.net))) : null;
  const rule = (net: Network) => `-s ${iptablesSource(net)} -j DROP`;
  const out: Invocation[] = [];
  for (const fam of FAMILIES) {
    const mine = [...final.values()].filter((s) => s.net.kind === fam.kind);
    if (mine.length === 0) continue;
    if (present) {
      const lines: string[] = [];
      for (const { net, block } of mine) {
        const has = present.has(keyOf(net));
        if (!block && has) lines.push(`-D ${blk} ${rule(net)}`);
        if (block && !has) lines.push(`-A ${blk} ${rule(net)}`);
      }
      if (lines.length > 0) out.push(restoreInvocation(fam, lines));
      continue;
    }
    for (const { net } of mine) out.push({ argv: [fam.cmd, '-w', '-D', blk, '-s', iptablesSource(net), '-j', 'DROP'], okCodes: [1] });
    const appends = mine.filter((s) => s.block).map((s) => `-A ${blk} ${rule(s.net)}`);
    if (appends.length > 0) out.push(restoreInvocation(fam, appends));
  }
  return out;
}

function list(options: FirewallOptions): Invocation[] {
  chains(options); // validates the options, as every render does
  return FAMILIES.map(saveInvocation);
}

/** The `-s NET` of a rule line `-A CHAIN -s NET -j TARGET` of the given family, or null for any other line. */
function ruleSource(line: string, chain: string, target: string, kind: 4 | 6): Network | null {
  const words = line.trim().split(/\s+/);
  if (words.length !== 6 || words[0] !== '-A' || words[1] !== chain || words[2] !== '-s' || words[4] !== '-j' || words[5] !== target) return null;
  const net = parseNetwork(words[3]);
  return net && net.kind === kind ? net : null;
}

function parseList(options: FirewallOptions, outputs: string[]): KernelState {
  const { entry, blk, hooks } = chains(options);
  if (!Array.isArray(outputs) || outputs.length !== FAMILIES.length) {
    throw new Error(`iptables: expected ${FAMILIES.length} listings, got ${outputs?.length}`);
  }
  const state: KernelState = { present: true, blocks: [], allow: [], hooks: [] };
  FAMILIES.forEach((fam, i) => {
    const [entryText, blkText] = [chainListing(outputs[i], entry), chainListing(outputs[i], blk)];
    hooks.forEach((hook) => state.hooks!.push(hookJumpOf(chainListing(outputs[i], hook), fam, hook, entry)));
    const entryLines = entryText.split('\n');
    const blkLines = blkText.split('\n');
    if (!entryLines.some((l) => l.trim() === `-N ${entry}`) || !blkLines.some((l) => l.trim() === `-N ${blk}`)) state.present = false;
    for (const line of entryLines) {
      const net = ruleSource(line, entry, 'RETURN', fam.kind);
      if (net) state.allow.push(net);
    }
    for (const line of blkLines) {
      const net = ruleSource(line, blk, 'DROP', fam.kind);
      if (net) state.blocks.push({ net, timeout: null });
    }
  });
  return state;
}

function teardown(options: FirewallOptions, current?: KernelState): Invocation[] {
  const { entry, blk } = chains(options);
  return FAMILIES.flatMap((fam) => removeChainsInvocations(fam, [entry, blk], current));
}

export const iptablesBackend: Backend = {
  name: 'iptables',
  kernelExpiry: false,
  validate: (options) => {
    checkXtOptions(options, 'iptables');
  },
  setup,
  apply,
  list,
  parseList,
  teardown,
};
