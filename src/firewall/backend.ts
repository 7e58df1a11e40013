/**
 * What every firewall backend provides. Backends are pure: they render commands as data (argument arrays and
 * stdin text, never a shell line) and read command output; the executor (executor.ts) runs them.
 */
import type { Network } from '../policy/network.js';

/** One command to run, with its arguments as an array: nothing is ever interpreted by a shell. */
export interface Invocation {
  argv: string[];
  /** Text written to the command's standard input (nft -f -, iptables-restore, ipset restore) */
  stdin?: string;
  /** Skip this command when `unless` exits 0 (e.g. an iptables -C check before an insert) */
  unless?: Invocation;
  /** Exit codes that are not errors (e.g. deleting what is already gone) */
  okCodes?: number[];
}

export interface BlockEntry {
  net: Network;
  /** Seconds left; null = permanent */
  timeout: number | null;
}

export type Operation = { op: 'block'; entry: BlockEntry } | { op: 'unblock'; net: Network };

export interface FirewallOptions {
  /** Prefix of every object logwarden creates: table, chains, sets */
  name: string;
  /** Hooks to filter on: input, and forward for container-published ports */
  hooks: ('input' | 'forward')[];
  /** nft base chain priority */
  priority: number;
}

export const DEFAULT_FIREWALL: FirewallOptions = { name: 'logwarden', hooks: ['input'], priority: -10 };

/** A hook chain the iptables and ipset backends jump from (INPUT, FORWARD), in one family, as listed. */
export interface HookJump {
  family: 4 | 6;
  hook: 'INPUT' | 'FORWARD';
  /** How many `-A HOOK -j <name>` rules it holds: 1 as setup makes it; 0 = nothing of that hook reaches our chain */
  jumps: number;
  /** The hook's rules before our first jump, as `iptables -S` prints them (empty: ours is first, or missing) */
  above: string[];
}

/** What a backend found in the kernel. */
export interface KernelState {
  /** Whether logwarden's objects exist at all */
  present: boolean;
  blocks: BlockEntry[];
  allow: Network[];
  /**
   * Set when our objects are there but not as setup makes them (a set or chain missing, a rule inserted into
   * our chain, its hook, priority or policy changed): what differs. Setup is run again to rebuild them.
   */
  altered?: string;
  /** iptables and ipset: each configured hook chain of both families (nft's base chains are its own objects) */
  hooks?: HookJump[];
}

export interface Backend {
  readonly name: 'nft' | 'iptables' | 'ipset' | 'null';
  /** Whether the kernel expires blocks by itself (set timeouts); otherwise logwarden removes them */
  readonly kernelExpiry: boolean;
  /** The longest timeout (s) the kernel takes for an element; a longer block is renewed by the sync */
  readonly maxTimeout?: number;
  /** Throws, naming what is wrong, unless every option can be rendered: called before anything is run */
  validate(options: FirewallOptions): void;
  /** Creates the objects if missing (idempotent: safe after a crash) and makes the allow list exactly `allow` */
  setup(options: FirewallOptions, allow: Network[]): Invocation[];
  /**
   * Applies a batch of blocks and unblocks. `current`, when the caller has just listed the kernel, lets a
   * backend without idempotent commands (iptables) render exactly the changes needed.
   */
  apply(options: FirewallOptions, ops: Operation[], current?: KernelState): Invocation[];
  /**
   * For backends with a long-lived interactive command (nft -i): the batch as lines for it, one transaction
   * per line. Absent: every batch goes through apply.
   */
  interactive?(options: FirewallOptions, ops: Operation[]): string[];
  /** Commands whose standard outputs, in order, parseList reads */
  list(options: FirewallOptions): Invocation[];
  parseList(options: FirewallOptions, outputs: string[]): KernelState;
  /** Removes exactly what setup created, nothing else (with the kernel's state, when known, every copy of it) */
  teardown(options: FirewallOptions, current?: KernelState): Invocation[];
}

/**
 * A kernel timeout this much shorter than the store's remaining time is refreshed by a sync (a block re-made by
 * hand with a shorter time, or restored from an older state); smaller differences are the time since rendering.
 */
export const TIMEOUT_SLACK_S = 30;

/**
 * The operations that make the kernel's blocks match the store's active blocks. With `kernelExpiry`, an element
 * whose kernel timeout ends well before the store's block is re-added with the store's remaining time.
 */
export function syncOperations(desired: BlockEntry[], current: KernelState, kernelExpiry = false, maxTimeout = Infinity): Operation[] {
  const key = (n: Network) => `${n.addr}/${n.cidr}`;
  const have = new Map(current.blocks.map((b) => [key(b.net), b]));
  const want = new Map(desired.map((b) => [key(b.net), b]));
  const ops: Operation[] = [];
  for (const [k, entry] of want) {
    const found = have.get(k);
    // missing, or permanent in the store but expiring in the kernel: (re)block with the right remaining time
    // a block longer than the kernel can hold is renewed once half of the capped time is gone
    const capped = entry.timeout !== null && entry.timeout > maxTimeout;
    const short =
      kernelExpiry &&
      found !== undefined &&
      found.timeout !== null &&
      (capped ? found.timeout < maxTimeout / 2 : entry.timeout === null || found.timeout < entry.timeout - TIMEOUT_SLACK_S);
    if (!found || short || (entry.timeout === null && found.timeout !== null)) ops.push({ op: 'block', entry });
  }
  for (const [k, found] of have) if (!want.has(k)) ops.push({ op: 'unblock', net: found.net });
  return ops;
}
