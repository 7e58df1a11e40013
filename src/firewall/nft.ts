/**
 * The nftables backend: one table `inet <name>` holding
 * - `blocked4`/`blocked6` (flags timeout): single addresses, each with its own kernel-expired timeout;
 * - `blockednet4`/`blockednet6` (flags interval, timeout): prefixes. Kept apart from single addresses because an
 *   interval set refuses an element that overlaps one it holds, and auto-merge would fuse their timeouts;
 * - `allow4`/`allow6` (flags interval): the whitelist, checked first so it wins even inside a blocked prefix;
 * - one base chain per hook (input, optionally forward): return for allowed sources, drop blocked ones.
 * Every change is one `nft -f -` transaction: atomic, and idempotent by construction (`add` of what exists is a
 * no-op; add + delete removes whatever may or may not be there, so neither a re-block nor an unblock of a
 * missing element fails the batch, and a re-block gets exactly its new timeout on every kernel).
 * Only canonical networks are rendered: anything else throws, no other text is ever interpolated.
 */
import { canonicalIP } from '../parse/address.js';
import { addressToBigInt, bigIntToAddress, isCanonicalNetwork, type Network, networkOf, width } from '../policy/network.js';
import type { Backend, BlockEntry, FirewallOptions, Invocation, KernelState, Operation } from './backend.js';

const HOOKS = ['input', 'forward'] as const;
/** The kernel refuses timeouts somewhere between 200,000 and 1,000,000 days: longer blocks are capped here. */
export const NFT_MAX_TIMEOUT = 100_000 * 86_400;

type SetName = 'blocked4' | 'blocked6' | 'blockednet4' | 'blockednet6' | 'allow4' | 'allow6';
const BLOCK_SETS: SetName[] = ['blocked4', 'blocked6', 'blockednet4', 'blockednet6'];
const ALL_SETS: SetName[] = [...BLOCK_SETS, 'allow4', 'allow6'];
/** Each base chain's rules, in order: setup renders them, and a listing must show exactly these */
const CHAIN_RULES = [
  'ip saddr @allow4 return',
  'ip6 saddr @allow6 return',
  'ip saddr @blocked4 drop',
  'ip saddr @blockednet4 drop',
  'ip6 saddr @blocked6 drop',
  'ip6 saddr @blockednet6 drop',
];


function checkOptions(options: FirewallOptions): string {
  const { name, hooks, priority } = options;
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(name)) {
    throw new Error(`nft: invalid firewall name ${JSON.stringify(name)} (letters, digits and _, at most 32)`);
  }
  if (!Number.isSafeInteger(priority) || Math.abs(priority) > 1_000_000) throw new Error(`nft: invalid priority ${String(priority)}`);
  if (!Array.isArray(hooks) || hooks.length === 0 || hooks.some((h) => !HOOKS.includes(h)) || new Set(hooks).size !== hooks.length) {
    throw new Error(`nft: invalid hooks ${JSON.stringify(hooks)} (input and/or forward)`);
  }
  return name;
}

/** The element text of a network (`ADDR` or `ADDR/LEN`); throws unless the network is canonical. */
export function nftElement(net: Network): string {
  if (!isCanonicalNetwork(net)) throw new Error(`nft: refusing a non-canonical network ${JSON.stringify(net)}`);
  return net.cidr === width(net.kind) ? net.addr : `${net.addr}/${net.cidr}`;
}

function blockSet(net: Network): SetName {
  const single = net.cidr === width(net.kind);
  return `${single ? 'blocked' : 'blockednet'}${net.kind}` as SetName;
}

/** `timeout Ns` for a timeout in seconds (at least 1 s, capped at NFT_MAX_TIMEOUT); '' for permanent. */
export function nftTimeout(timeout: number | null): string {
  if (timeout === null) return '';
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new Error(`nft: invalid timeout ${String(timeout)}`);
  const s = Math.min(NFT_MAX_TIMEOUT, Math.max(1, Math.ceil(timeout)));
  // nft 1.0.6 reads at most 8 digits in a `NNNs` time: longer ones in days + seconds
  return s < 100_000_000 ? ` timeout ${s}s` : ` timeout ${Math.floor(s / 86_400)}d${s % 86_400}s`;
}

/** The final state each network of the batch must reach, in order of first appearance (last op wins). */
function finalStates(ops: Operation[]): Map<string, { net: Network; block: BlockEntry | null }> {
  const out = new Map<string, { net: Network; block: BlockEntry | null }>();
  for (const op of ops) {
    const net = op.op === 'block' ? op.entry.net : op.op === 'unblock' ? op.net : null;
    if (!net) throw new Error(`nft: unknown operation ${JSON.stringify(op)}`);
    const key = nftElement(net);
    const state = { net, block: op.op === 'block' ? op.entry : null };
    if (state.block) nftTimeout(state.block.timeout); // validate now
    if (out.has(key)) out.get(key)!.block = state.block;
    else out.set(key, state);
  }
  return out;
}

/** The statements that make each network of one operation reach its state, atomically (add, delete, re-add). */
function opStatements(table: string, net: Network, block: BlockEntry | null): string[] {
  const set = blockSet(net);
  const el = nftElement(net);
  const lines = [`add element inet ${table} ${set} { ${el} }`, `delete element inet ${table} ${set} { ${el} }`];
  if (block) lines.push(`add element inet ${table} ${set} { ${el}${nftTimeout(block.timeout)} }`);
  return lines;
}

/**
 * The `nft -f -` text of a batch: per set, one add (creates what is missing), one delete, one re-add of blocks.
 * With the kernel's state known (`current`), elements it does not hold are only added: nft takes time quadratic
 * in the batch for an add + delete in an interval set (4,000 /64 prefixes: 2.3 s, against 23 ms for the add).
 */
export function nftApplyText(options: FirewallOptions, ops: Operation[], current?: KernelState): string {
  const table = checkOptions(options);
  const states = finalStates(ops);
  const held = current?.present ? new Set(current.blocks.map((b) => nftElement(b.net))) : null;
  const lines: string[] = [];
  for (const set of BLOCK_SETS) {
    const here = [...states.values()].filter((s) => blockSet(s.net) === set);
    if (here.length === 0) continue;
    const maybeHeld = held === null ? here : here.filter((s) => held.has(nftElement(s.net)));
    const all = maybeHeld.map((s) => nftElement(s.net)).join(', ');
    if (maybeHeld.length > 0) lines.push(`add element inet ${table} ${set} { ${all} }`, `delete element inet ${table} ${set} { ${all} }`);
    const blocks = here.filter((s) => s.block).map((s) => `${nftElement(s.net)}${nftTimeout(s.block!.timeout)}`);
    if (blocks.length > 0) lines.push(`add element inet ${table} ${set} { ${blocks.join(', ')} }`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * For a long-lived `nft -i` process: one line per operation, its statements joined by `; ` so that `nft -i`
 * applies the line as one transaction (measured: a line whose second statement fails changes nothing).
 * `nft -i` reports errors on its stderr only and goes on with the next line.
 */
export function nftInteractiveLines(options: FirewallOptions, ops: Operation[]): string[] {
  const table = checkOptions(options);
  return ops.map((op) => {
    const net = op.op === 'block' ? op.entry.net : op.op === 'unblock' ? op.net : null;
    if (!net) throw new Error(`nft: unknown operation ${JSON.stringify(op)}`);
    return opStatements(table, net, op.op === 'block' ? op.entry : null).join('; ');
  });
}

/** Drops networks contained in another one of the list (an interval set refuses overlaps) and duplicates. */
function withoutContained(nets: Network[]): Network[] {
  const range = (n: Network) => {
    const start = addressToBigInt(n.addr, n.kind);
    return { start, end: start + (1n << BigInt(width(n.kind) - n.cidr)) - 1n };
  };
  const sorted = [...nets].sort((a, b) => a.cidr - b.cidr);
  const kept: { net: Network; start: bigint; end: bigint }[] = [];
  for (const net of sorted) {
    const r = range(net);
    if (kept.some((k) => k.net.kind === net.kind && k.start <= r.start && r.end <= k.end)) continue;
    kept.push({ net, ...r });
  }
  // keep the caller's order for a stable text
  return nets.filter((n) => kept.some((k) => k.net === n));
}

export function nftSetupText(options: FirewallOptions, allow: Network[]): string {
  const t = checkOptions(options);
  for (const net of allow) nftElement(net);
  const lines = [
    `add table inet ${t}`,
    `add set inet ${t} blocked4 { type ipv4_addr; flags timeout; }`,
    `add set inet ${t} blocked6 { type ipv6_addr; flags timeout; }`,
    `add set inet ${t} blockednet4 { type ipv4_addr; flags interval, timeout; }`,
    `add set inet ${t} blockednet6 { type ipv6_addr; flags interval, timeout; }`,
    `add set inet ${t} allow4 { type ipv4_addr; flags interval; }`,
    `add set inet ${t} allow6 { type ipv6_addr; flags interval; }`,
    `flush set inet ${t} allow4`,
    `flush set inet ${t} allow6`,
  ];
  const kept = withoutContained(allow);
  for (const kind of [4, 6] as const) {
    const els = kept.filter((n) => n.kind === kind).map(nftElement);
    if (els.length > 0) lines.push(`add element inet ${t} allow${kind} { ${els.join(', ')} }`);
  }
  // every chain logwarden may own goes (whatever its old hook or priority), then the wanted ones come back
  for (const hook of HOOKS) lines.push(`add chain inet ${t} ${hook}`, `flush chain inet ${t} ${hook}`, `delete chain inet ${t} ${hook}`);
  for (const hook of options.hooks) {
    lines.push(`add chain inet ${t} ${hook} { type filter hook ${hook} priority ${options.priority}; policy accept; }`);
    for (const rule of CHAIN_RULES) lines.push(`add rule inet ${t} ${hook} ${rule}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- reading `nft -j list table inet NAME` ----

/** The prefixes covering [start, end] exactly (for `range` elements, which nft prints for merged intervals). */
function rangeToNetworks(start: bigint, end: bigint, kind: 4 | 6): Network[] {
  const out: Network[] = [];
  const w = width(kind);
  while (start <= end) {
    let len = w;
    while (len > 0) {
      const size = 1n << BigInt(w - len + 1);
      if (start % size !== 0n || start + size - 1n > end) break;
      len--;
    }
    out.push({ addr: bigIntToAddress(start, kind), cidr: len, kind });
    start += 1n << BigInt(w - len);
  }
  return out;
}

function readValue(val: unknown, kind: 4 | 6): Network[] {
  const ip = (text: unknown) => {
    const c = typeof text === 'string' ? canonicalIP(text) : null;
    if (!c || c.kind !== kind) throw new Error(`nft: unexpected address in the kernel's answer: ${JSON.stringify(text)}`);
    return c.addr;
  };
  if (typeof val === 'string') return [{ addr: ip(val), cidr: width(kind), kind }];
  if (val && typeof val === 'object') {
    const v = val as { prefix?: { addr: unknown; len: unknown }; range?: unknown[] };
    if (v.prefix && typeof v.prefix.len === 'number') return [networkOf(ip(v.prefix.addr), kind, v.prefix.len)];
    if (Array.isArray(v.range) && v.range.length === 2) {
      return rangeToNetworks(addressToBigInt(ip(v.range[0]), kind), addressToBigInt(ip(v.range[1]), kind), kind);
    }
  }
  throw new Error(`nft: unexpected set element in the kernel's answer: ${JSON.stringify(val)}`);
}

function readElement(el: unknown, kind: 4 | 6): BlockEntry[] {
  if (el && typeof el === 'object' && 'elem' in el) {
    const e = (el as { elem: { val: unknown; timeout?: number; expires?: number } }).elem;
    const left = typeof e.expires === 'number' ? e.expires : typeof e.timeout === 'number' ? e.timeout : null;
    return readValue(e.val, kind).map((net) => ({ net, timeout: left }));
  }
  return readValue(el, kind).map((net) => ({ net, timeout: null }));
}

/** A rule of the listing in the text setup gives it (`ip saddr @blocked4 drop`), or null for any other rule. */
function ruleText(expr: unknown): string | null {
  if (!Array.isArray(expr) || expr.length !== 2) return null;
  const m = (expr[0] as { match?: { op?: unknown; left?: { payload?: { protocol?: unknown; field?: unknown } }; right?: unknown } }).match;
  const p = m?.left?.payload;
  const verdict = Object.keys((expr[1] ?? {}) as object);
  if (!m || m.op !== '==' || !p || p.field !== 'saddr' || typeof p.protocol !== 'string' || typeof m.right !== 'string' || verdict.length !== 1) return null;
  return `${p.protocol} saddr ${m.right} ${verdict[0]}`;
}

/** What differs between our table's sets and chains and what setup makes, or null when nothing does. */
function alteration(options: FirewallOptions, sets: Set<string>, chains: Map<string, { hook?: unknown; prio?: unknown; policy?: unknown }>, rules: Map<string, string[]>): string | null {
  const missing = ALL_SETS.filter((s) => !sets.has(s));
  if (missing.length > 0) return `set(s) ${missing.join(', ')} missing`;
  for (const hook of options.hooks) {
    const chain = chains.get(hook);
    if (!chain) return `chain ${hook} missing`;
    if (chain.hook !== hook || chain.prio !== options.priority || chain.policy !== 'accept') {
      return `chain ${hook} has hook ${String(chain.hook)}, priority ${String(chain.prio)}, policy ${String(chain.policy)}`;
    }
    const got = rules.get(hook) ?? [];
    if (got.length !== CHAIN_RULES.length || got.some((r, i) => r !== CHAIN_RULES[i])) return `chain ${hook} holds other rules: ${got.join('; ')}`;
  }
  return null;
}

export function nftParseList(options: FirewallOptions, outputs: string[]): KernelState {
  const table = checkOptions(options);
  const text = (outputs[0] ?? '').trim();
  const state: KernelState = { present: false, blocks: [], allow: [] };
  if (text === '') return state; // no such table (nft exits 1, accepted by list's okCodes)
  const doc = JSON.parse(text) as { nftables?: Record<string, unknown>[] };
  const sets = new Set<string>();
  const chains = new Map<string, { hook?: unknown; prio?: unknown; policy?: unknown }>();
  const rules = new Map<string, string[]>();
  for (const item of doc.nftables ?? []) {
    const t = item.table as { family?: string; name?: string } | undefined;
    if (t && t.family === 'inet' && t.name === table) state.present = true;
    const c = item.chain as { family?: string; table?: string; name?: string; hook?: unknown; prio?: unknown; policy?: unknown } | undefined;
    if (c && c.family === 'inet' && c.table === table && typeof c.name === 'string') chains.set(c.name, c);
    const r = item.rule as { family?: string; table?: string; chain?: string; expr?: unknown } | undefined;
    if (r && r.family === 'inet' && r.table === table && typeof r.chain === 'string') {
      rules.set(r.chain, [...(rules.get(r.chain) ?? []), ruleText(r.expr) ?? 'a foreign rule']);
    }
    const s = item.set as { family?: string; table?: string; name?: string; elem?: unknown[] } | undefined;
    if (!s || s.family !== 'inet' || s.table !== table) continue;
    if (typeof s.name === 'string') sets.add(s.name);
    const m = /^(blocked|blockednet|allow)([46])$/.exec(s.name ?? '');
    if (!m) continue;
    const kind = Number(m[2]) as 4 | 6;
    for (const el of s.elem ?? []) {
      const entries = readElement(el, kind);
      if (m[1] === 'allow') state.allow.push(...entries.map((e) => e.net));
      else state.blocks.push(...entries);
    }
  }
  const altered = state.present ? alteration(options, sets, chains, rules) : null;
  if (altered !== null) state.altered = altered;
  return state;
}

export const nftBackend: Backend = {
  name: 'nft',
  kernelExpiry: true,
  maxTimeout: NFT_MAX_TIMEOUT,
  validate: (options) => {
    checkOptions(options);
  },
  setup: (options, allow): Invocation[] => [{ argv: ['nft', '-f', '-'], stdin: nftSetupText(options, allow) }],
  apply: (options, ops, current): Invocation[] => {
    const stdin = nftApplyText(options, ops, current);
    return stdin === '' ? [] : [{ argv: ['nft', '-f', '-'], stdin }];
  },
  interactive: nftInteractiveLines,
  // a missing table makes nft exit 1 with nothing on stdout: parseList then says present: false
  list: (options): Invocation[] => [{ argv: ['nft', '-j', 'list', 'table', 'inet', checkOptions(options)], okCodes: [1] }],
  parseList: nftParseList,
  // add + delete: no error when the table is already gone, while any real failure still fails
  teardown: (options): Invocation[] => {
    const t = checkOptions(options);
    return [{ argv: ['nft', '-f', '-'], stdin: `add table inet ${t}\ndelete table inet ${t}\n` }];
  },
};
