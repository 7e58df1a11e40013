/**
 * The firewall as the commands and the daemon use it: one backend, its options, and the executor.
 * With the null backend nothing runs; each operation is reported instead.
 */
import type { Logger } from '../log/logger.js';
import type { Network } from '../policy/network.js';
import { networkText } from '../policy/network.js';
import type { Backend, FirewallOptions, Invocation, KernelState, Operation } from './backend.js';
import { execute, type ExecuteOptions } from './executor.js';
import { OperationBatcher } from './batcher.js';
import { NftSession } from './session.js';

/** Larger batches go to the kernel as one `nft -f -` transaction (about 90 ms for 5,000 elements) */
const INTERACTIVE_MAX = 32;

export class Firewall {
  /** A long-lived interactive process for low-latency batches (nft -i), when enabled */
  private session: NftSession | null = null;
  /** What the kernel took: each successful apply is one batch (one transaction, one restore) */
  readonly sent = { batches: 0, operations: 0 };
  /** Operations that arrive within a few milliseconds go to the kernel as one batch */
  private readonly batcher = new OperationBatcher((ops) => this.apply(ops));

  constructor(
    readonly backend: Backend,
    readonly options: FirewallOptions,
    private readonly log: Logger,
    private readonly exec: ExecuteOptions = {},
  ) {
    backend.validate(options);
  }

  /** For a long-running process: later batches go through one kept-open `nft -i` (falling back to `nft -f -`). */
  keepSessionOpen(): void {
    if (this.backend.interactive && this.session === null) this.session = new NftSession(this.exec);
  }

  close(): void {
    this.session?.close();
    this.session = null;
  }

  private async run(invocations: Invocation[]): Promise<string[]> {
    return execute(invocations, this.exec);
  }

  async setup(allow: Network[]): Promise<void> {
    if (this.backend.name === 'null') {
      this.log.info({ allow: allow.length }, `null backend: would set up ${this.options.name} with ${allow.length} whitelisted networks`);
      return;
    }
    await this.run(this.backend.setup(this.options, allow));
  }

  async apply(ops: Operation[], current?: KernelState): Promise<void> {
    if (ops.length === 0) return;
    if (this.backend.name === 'null') {
      for (const op of ops) this.log.info({}, `null backend: would ${describeOperation(op)}`);
      return;
    }
    // A reconciliation (the kernel's state known; thousands of elements at a restore) and a burst are one
    // `nft -f -` transaction: through `nft -i` every element would be a transaction of its own, 20,000 of them
    // taking seconds. `nft -i` is for the few blocks of a moment, where it saves starting a process.
    if (this.session && this.backend.interactive && current === undefined && ops.length <= INTERACTIVE_MAX) {
      try {
        await this.session.run(this.backend.interactive(this.options, ops));
        this.counted(ops);
        return;
      } catch (error) {
        // each line is its own transaction: the fallback batch re-applies all, which is idempotent
        this.log.warn({}, `nft -i failed (${(error as Error).message.trim()}); applying the batch with nft -f -`);
      }
    }
    // Not knowing what the kernel holds, nft must add, delete and re-add every element, which costs time
    // quadratic in the batch in an interval set (a burst of 42,000 /64 prefixes: minutes). Reading the
    // kernel's state first (about 0.3 s with 50,000 elements) makes it one add of what is missing.
    if (current === undefined && ops.length > INTERACTIVE_MAX && this.backend.name === 'nft') current = await this.state();
    await this.run(this.backend.apply(this.options, ops, current));
    this.counted(ops);
  }

  private counted(ops: Operation[]): void {
    this.sent.batches++;
    this.sent.operations += ops.length;
  }

  /** Queues one operation; resolves once its batch is in the kernel. */
  submit(op: Operation): Promise<void> {
    return this.batcher.submit(op);
  }

  async state(): Promise<KernelState> {
    if (this.backend.name === 'null') return { present: false, blocks: [], allow: [] };
    return this.backend.parseList(this.options, await this.run(this.backend.list(this.options)));
  }

  async teardown(): Promise<void> {
    if (this.backend.name === 'null') {
      this.log.info({}, `null backend: would remove every firewall object named ${this.options.name}`);
      return;
    }
    // iptables and ipset remove one jump per `-D`: their listing says how many there are
    const current = this.backend.name === 'nft' ? undefined : await this.state();
    await this.run(this.backend.teardown(this.options, current));
  }
}

export function describeOperation(op: Operation): string {
  if (op.op === 'unblock') return `unblock ${networkText(op.net)}`;
  const { net, timeout } = op.entry;
  return `block ${networkText(net)} ${timeout === null ? 'permanently' : `for ${timeout}s`}`;
}
