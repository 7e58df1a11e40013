/**
 * The ipset backend:
 * - sets `<name>-block4`/`<name>-block6` (`hash:net ... timeout 0 maxelem 1048576`): each element carries its own
 *   timeout and the kernel expires it (timeout 0 = permanent). maxelem is raised from ipset's default 65,536;
 * - sets `<name>-allow4`/`<name>-allow6` (`hash:net`): the whitelist;
 * - an iptables/ip6tables chain `<name>`, jumped to from INPUT (and FORWARD when asked), returning for sources in
 *   the allow set before dropping sources in the block set: whitelisted addresses stay reachable even inside a
 *   blocked prefix.
 * Every batch of blocks is one `ipset restore -exist`: with -exist, re-adding an element refreshes its timeout
 * (checked on Linux 6.18: timed → permanent and permanent → timed both take), and deleting a missing one is fine.
 * setup is idempotent: the sets are created with -exist (never flushed: blocks survive a restart), the allow sets
 * are flushed and refilled, the chain is rebuilt atomically by iptables-restore (`:CHAIN` creates or flushes).
 * list reads the sets, then our chain (other rules than setup's = altered) and each hook chain (is our jump there)
 * from one iptables-save per family.
 * Only canonical networks are rendered: anything else throws, no other text is ever interpolated.
 */
import { type Network, parseNetwork, width } from '../policy/network.js';
import type { Backend, FirewallOptions, Invocation, KernelState, Operation } from './backend.js';
import { chainListing, checkNetwork, checkXtOptions, type Family, FAMILIES, finalStates, hookJumpOf, jumpInvocations, removeChainsInvocations, saveInvocation } from './iptables.js';

/** ipset refuses timeouts above this (seconds, ~24.8 days): longer blocks are capped, see ipsetTimeout. */
export const IPSET_MAX_TIMEOUT = 2_147_483;
export const IPSET_MAXELEM = 1_048_576;


interface Sets {
  chain: string;
  block: Record<4 | 6, string>;
  allow: Record<4 | 6, string>;
  hooks: ('INPUT' | 'FORWARD')[];
}

function names(options: FirewallOptions): Sets {
  const hooks = checkXtOptions(options, 'ipset');
  const n = options.name;
  return { chain: n, block: { 4: `${n}-block4`, 6: `${n}-block6` }, allow: { 4: `${n}-allow4`, 6: `${n}-allow6` }, hooks };
}

/** The element text (`ADDR` or `ADDR/LEN`, as `ipset save` prints it); throws unless canonical. hash:net has no /0. */
export function ipsetElement(net: Network): string {
  checkNetwork(net, 'ipset');
  if (net.cidr === 0) throw new Error(`ipset: hash:net cannot hold a /0 network (${net.addr}/0)`);
  return net.cidr === width(net.kind) ? net.addr : `${net.addr}/${net.cidr}`;
}

/**
 * The timeout option of an element: 0 (permanent) for null, else whole seconds, at least 1, at most
 * IPSET_MAX_TIMEOUT. A longer block is cut to ~24.8 days in the kernel: a later sync adds it again.
 */
export function ipsetTimeout(timeout: number | null): number {
  if (timeout === null) return 0;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new Error(`ipset: invalid timeout ${String(timeout)}`);
  return Math.min(IPSET_MAX_TIMEOUT, Math.max(1, Math.ceil(timeout)));
}

const familyName = (kind: 4 | 6) => (kind === 4 ? 'inet' : 'inet6');

function createLines(s: Sets): string[] {
  return [4, 6].flatMap((k) => {
    const kind = k as 4 | 6;
    return [
      `create ${s.block[kind]} hash:net family ${familyName(kind)} timeout 0 maxelem ${IPSET_MAXELEM}`,
      `create ${s.allow[kind]} hash:net family ${familyName(kind)}`,
    ];
  });
}

/** Our chain's rules in one family, as setup writes them and `iptables -S` prints them. */
function chainRules(s: Sets, fam: Family): string[] {
  return [`-A ${s.chain} -m set --match-set ${s.allow[fam.kind]} src -j RETURN`, `-A ${s.chain} -m set --match-set ${s.block[fam.kind]} src -j DROP`];
}

const ipsetRestore = (lines: string[]): Invocation => ({ argv: ['ipset', 'restore', '-exist'], stdin: `${lines.join('\n')}\n` });

function setup(options: FirewallOptions, allow: Network[]): Invocation[] {
  const s = names(options);
  if (!Array.isArray(allow)) throw new Error('ipset: the allow list must be an array');
  const lines = [...createLines(s), `flush ${s.allow[4]}`, `flush ${s.allow[6]}`];
  for (const net of allow) {
    const element = ipsetElement(net);
    lines.push(`add ${s.allow[net.kind]} ${element}`);
  }
  const out: Invocation[] = [ipsetRestore(lines)];
  for (const fam of FAMILIES) {
    out.push({
      argv: [fam.restore, '--noflush', '-w'],
      stdin: ['*filter', `:${s.chain} - [0:0]`, ...chainRules(s, fam), 'COMMIT', ''].join('\n'),
    });
    out.push(...jumpInvocations(fam, s.chain, s.hooks));
  }
  return out;
}

function apply(options: FirewallOptions, ops: Operation[]): Invocation[] {
  const s = names(options);
  const lines: string[] = [];
  for (const { net, block } of finalStates(ops, 'ipset').values()) {
    const element = ipsetElement(net);
    lines.push(block ? `add ${s.block[net.kind]} ${element} timeout ${ipsetTimeout(block.timeout)}` : `del ${s.block[net.kind]} ${element}`);
  }
  return lines.length === 0 ? [] : [ipsetRestore(lines)];
}

function setOrder(s: Sets): string[] {
  return [s.block[4], s.block[6], s.allow[4], s.allow[6]];
}

/** The sets, then each family's filter table (our chain and the hook chains, read at once). */
function list(options: FirewallOptions): Invocation[] {
  const s = names(options);
  // 1 = the set does not exist: not an error, the state says present: false
  return [
    ...setOrder(s).map((set) => ({ argv: ['ipset', 'list', set, '-output', 'save'], okCodes: [1] })),
    ...FAMILIES.map(saveInvocation),
  ];
}

function parseList(options: FirewallOptions, outputs: string[]): KernelState {
  const s = names(options);
  const order = setOrder(s);
  const expected = order.length + FAMILIES.length;
  if (!Array.isArray(outputs) || outputs.length !== expected) throw new Error(`ipset: expected ${expected} listings, got ${outputs?.length}`);
  const state: KernelState = { present: true, blocks: [], allow: [], hooks: [] };
  order.forEach((set, i) => {
    const kind: 4 | 6 = i % 2 === 0 ? 4 : 6;
    const isBlock = i < 2;
    let created = false;
    for (const line of outputs[i].split('\n')) {
      const words = line.trim().split(/\s+/);
      if (words[0] === 'create' && words[1] === set) created = true;
      if (words[0] !== 'add' || words[1] !== set) continue;
      const net = parseNetwork(words[2] ?? '');
      if (!net || net.kind !== kind) continue;
      if (!isBlock) {
        state.allow.push(net);
        continue;
      }
      const t = words.indexOf('timeout');
      const seconds = t > 0 ? Number(words[t + 1]) : 0;
      state.blocks.push({ net, timeout: Number.isFinite(seconds) && seconds > 0 ? seconds : null });
    }
    if (!created) state.present = false;
  });
  FAMILIES.forEach((fam, i) => {
    const save = outputs[order.length + i];
    const lines = chainListing(save, s.chain).split('\n');
    const rules = lines.filter((l) => l.startsWith(`-A ${s.chain} `));
    const want = chainRules(s, fam);
    if (!lines.includes(`-N ${s.chain}`)) state.present = false;
    else if (state.altered === undefined && (rules.length !== want.length || rules.some((r, j) => r !== want[j]))) {
      state.altered = `chain ${s.chain} (${fam.cmd}) holds other rules: ${rules.join('; ') || 'none'}`;
    }
    s.hooks.forEach((hook) => state.hooks!.push(hookJumpOf(chainListing(save, hook), fam, hook, s.chain)));
  });
  // setup rebuilds everything when something is missing: what else changed does not matter then
  if (!state.present) delete state.altered;
  return state;
}

function teardown(options: FirewallOptions, current?: KernelState): Invocation[] {
  const s = names(options);
  const out = FAMILIES.flatMap((fam) => removeChainsInvocations(fam, [s.chain], current));
  // create-then-destroy: a missing set is no error, a set still in use by someone else's rule fails loudly
  const lines = createLines(s);
  for (const set of setOrder(s)) lines.push(`destroy ${set}`);
  out.push(ipsetRestore(lines));
  return out;
}

export const ipsetBackend: Backend = {
  name: 'ipset',
  kernelExpiry: true,
  maxTimeout: IPSET_MAX_TIMEOUT,
  validate: (options) => {
    checkXtOptions(options, 'ipset');
  },
  setup,
  apply,
  list,
  parseList,
  teardown,
};
