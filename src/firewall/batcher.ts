/**
 * Coalesces firewall operations that arrive together into one batch (one nft transaction, one
 * iptables-restore), so a burst of blocks costs one command. By default a batch is sent right after the current
 * turn of the event loop (every block decided from one read of the log is in it), so a lone block waits for no
 * timer; `delayMs` > 0 also gathers what arrives within that time.
 */
import type { Operation } from './backend.js';

export class OperationBatcher {
  private pending: Operation[] = [];
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private cancel: (() => void) | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly apply: (ops: Operation[]) => Promise<void>,
    private readonly delayMs = 0,
    private readonly maxBatch = 10_000,
  ) {}

  /** Queues an operation; resolves when its batch is in the kernel, rejects with the batch's error. */
  submit(op: Operation): Promise<void> {
    this.pending.push(op);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.pending.length >= this.maxBatch) this.flush();
    else if (this.cancel === null) this.cancel = this.schedule(() => this.flush());
    return done;
  }

  private schedule(run: () => void): () => void {
    if (this.delayMs > 0) {
      const timer = setTimeout(run, this.delayMs);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(run);
    return () => clearImmediate(immediate);
  }

  /** Sends what is queued now (batches run one after another, in order). */
  flush(): Promise<void> {
    this.cancel?.();
    this.cancel = null;
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
