/**
 * Pushing local blocks and releases to the LAPI without ever delaying local blocking: each is put in the
 * store's outbox (one transaction per turn of the event loop) and sent from there in order, one at a time. While
 * the LAPI is unreachable the outbox waits and is retried with backoff; a restart resumes from it. The outbox is
 * bounded: beyond it the oldest pushes are dropped, and that is logged.
 */
import type { Logger } from '../log/logger.js';
import { networkText } from '../policy/network.js';
import type { OutboxKind, OutboxRow, Store } from '../store/store.js';
import { alertOf, type PushedBlock } from './alert.js';
import { type LapiClient, LapiError, LapiUnreachable } from './client.js';

export interface PusherOptions {
  client: LapiClient;
  store: Store;
  log: Logger;
  /** Pushes kept while the LAPI is away (default 10,000) */
  bound?: number;
  /** First retry after a failure (ms, default 1 s), doubling up to maxRetryMs (default 60 s) */
  retryMs?: number;
  maxRetryMs?: number;
  now?: () => number;
}

export interface PusherStats {
  sent: number;
  released: number;
  dropped: number;
  /** Pushes the LAPI refused outright (4xx other than 401): logged and skipped, not retried */
  rejected: number;
  queued: number;
  /** Attempts that failed (LAPI unreachable or failing): each is retried */
  failures: number;
  /** ms: the last push or release the LAPI took; null: none yet */
  lastSentAt: number | null;
  /** ms since the LAPI is unreachable; null while it answers */
  failingSince: number | null;
  lastError: string | null;
}

interface Pending {
  kind: OutboxKind;
  key: string;
  payload: string;
}

export class FleetPusher {
  readonly stats: PusherStats = { sent: 0, released: 0, dropped: 0, rejected: 0, queued: 0, failures: 0, lastSentAt: null, failingSince: null, lastError: null };
  private buffer: Pending[] = [];
  private flushScheduled = false;
  private draining: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private stopped = false;
  private readonly now: () => number;
  private readonly bound: number;

  constructor(private readonly options: PusherOptions) {
    this.now = options.now ?? Date.now;
    this.retryDelay = options.retryMs ?? 1000;
    this.bound = options.bound ?? 10_000;
  }

  /** Sends what a previous run left in the outbox. */
  start(): void {
    this.stats.queued = this.options.store.fleet.outboxSize();
    if (this.stats.queued > 0) this.options.log.info({ queued: this.stats.queued }, `fleet: ${this.stats.queued} push(es) left from before are sent to ${this.options.client.url}`);
    this.drain();
  }

  /** A block made now: queued for the LAPI (returns at once). */
  block(b: PushedBlock): void {
    this.add({ kind: 'block', key: networkText(b.net), payload: JSON.stringify(b) });
  }

  /** A block lifted before its time (unblock, whitelisting): its decisions are deleted from the LAPI. */
  release(key: string): void {
    this.add({ kind: 'release', key, payload: '{}' });
  }

  private add(p: Pending): void {
    if (this.stopped) return;
    this.buffer.push(p);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushBuffer());
  }

  /** The buffer to the outbox in one transaction, then sending. */
  private flushBuffer(): void {
    this.flushScheduled = false;
    if (this.buffer.length === 0) return;
    const rows = this.buffer.map((p) => ({ ...p, queuedAt: this.now() }));
    this.buffer = [];
    try {
      const dropped = this.options.store.fleet.enqueue(rows, this.bound);
      // told now: while the LAPI is away the outbox grows without a send to count it
      this.stats.queued = this.options.store.fleet.outboxSize();
      if (dropped > 0) {
        this.stats.dropped += dropped;
        this.options.log.warn(
          { dropped, bound: this.bound, total: this.stats.dropped },
          `fleet: the outbox is full (${this.bound} pushes waiting for ${this.options.client.url}): dropped the ${dropped} oldest (${this.stats.dropped} so far)`,
        );
      }
    } catch (error) {
      this.stats.dropped += rows.length;
      this.options.log.error({ lost: rows.length }, `fleet: cannot write ${rows.length} push(es) to the store's outbox, they are lost: ${(error as Error).message}`);
    }
    this.drain();
  }

  /** Sends the outbox in order until it is empty or the LAPI fails (then retries later). */
  private drain(): void {
    if (this.draining || this.stopped || this.retryTimer) return;
    this.draining = this.sendAll().finally(() => {
      this.draining = null;
    });
  }

  private async sendAll(): Promise<void> {
    const { store, log, client } = this.options;
    for (;;) {
      if (this.stopped) return;
      const [row] = store.fleet.outbox(1);
      this.stats.queued = store.fleet.outboxSize();
      if (!row) return;
      try {
        await this.send(row);
        this.stats.lastSentAt = this.now();
      } catch (error) {
        if (error instanceof LapiError && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 403) {
          // the LAPI will never take this one: retrying it would block every push behind it
          this.stats.rejected++;
          store.fleet.drop(row.id);
          log.error({ key: row.key, kind: row.kind }, `fleet: the LAPI refused the ${row.kind} of ${row.key}, skipped: ${error.message}`);
          continue;
        }
        store.fleet.failedAttempt(row.id);
        this.failed(error as Error);
        return;
      }
      if (this.stats.failingSince !== null) {
        log.info({ url: client.url }, `fleet: the LAPI ${client.url} answers again after ${Math.round((this.now() - this.stats.failingSince) / 1000)} s; sending the ${this.stats.queued} queued push(es)`);
        this.stats.failingSince = null;
        this.stats.lastError = null;
        this.retryDelay = this.options.retryMs ?? 1000;
      }
    }
  }

  private async send(row: OutboxRow): Promise<void> {
    const { store, client, log } = this.options;
    if (row.kind === 'release') {
      for (const id of store.fleet.pushedIdsOf(row.key)) await client.deleteDecision(id);
      store.fleet.released(row.id, row.key);
      this.stats.released++;
      return;
    }
    const b = JSON.parse(row.payload) as PushedBlock;
    const alert = alertOf(b, this.now());
    if (alert === null) {
      log.info({ key: row.key }, `fleet: the block of ${row.key} was over before the LAPI could take it: not pushed`);
      store.fleet.drop(row.id);
      return;
    }
    const [alertId] = await client.pushAlerts([alert]);
    // the decision ids let a release delete exactly ours, and the stream's echo be recognised
    const decisions = alertId === undefined ? [] : await client.alertDecisions(alertId);
    store.fleet.sent(row.id, row.key, decisions.map((d) => d.id), this.now());
    this.stats.sent++;
  }

  private failed(error: Error): void {
    const { log, client } = this.options;
    const first = this.stats.failingSince === null;
    this.stats.failures++;
    this.stats.failingSince ??= this.now();
    this.stats.lastError = error.message;
    const what = error instanceof LapiUnreachable ? 'unreachable' : 'failing';
    if (first) log.warn({ url: client.url, queued: this.stats.queued }, `fleet: the LAPI is ${what} (${error.message}); local blocking goes on, pushes wait in the store's outbox`);
    const delay = this.retryDelay;
    this.retryDelay = Math.min(delay * 2, this.options.maxRetryMs ?? 60_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.drain();
    }, delay);
  }

  /** Writes what is buffered to the outbox (what is not sent yet stays there for the next start) and stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.flushBuffer();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.draining;
  }

  /** Resolves once the outbox is empty or sending failed (for tests and a clean stop). */
  async settled(): Promise<void> {
    while (this.flushScheduled || this.draining) {
      await new Promise((r) => setImmediate(r));
      await this.draining;
    }
  }
}
