/**
 * Coalesces firewall operations that arrive within a few milliseconds into one batch (one nft transaction,
 * one iptables-restore), so a burst of blocks costs one command, while a lone block waits only `delayMs`.
 */
import type { Operation } from './backend.js';

export class OperationBatcher {
  private pending: Operation[] = [];
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly apply: (ops: Operation[]) => Promise<void>,
    private readonly delayMs = 5,
    private readonly maxBatch = 10_000,
  ) {}

  /** Queues an operation; resolves when its batch is in the kernel, rejects with the batch's error. */
  submit(op: Operation): Promise<void> {
    this.pending.push(op);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.pending.length >= this.maxBatch) this.flush();
    else if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.delayMs);
    return done;
  }

  /** Sends what is queued now (batches run one after another, in order). */
  flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return this.running;
    const ops = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    this.running = this.running.then(async () => {
      try {
        await this.apply(ops);
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error as Error);
      }
    });
    return this.running;
  }
}
