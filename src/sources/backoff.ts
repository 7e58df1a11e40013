/**
 * Restart delays for a process that keeps exiting: doubling up to a ceiling, back to the start once a run has been
 * healthy for a while, so a flapping reader is retried forever without spinning.
 */
export interface BackoffOptions {
  /** ms, the first delay */
  initialMs: number;
  /** ms, the ceiling */
  maxMs: number;
  /** ms, a run at least this long resets the delay */
  healthyMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, healthyMs: 60_000 };

export class Backoff {
  private delay: number;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {
    this.delay = options.initialMs;
  }

  /** The delay before the next start, given how long the run that just ended lasted. */
  next(ranMs: number): number {
    if (ranMs >= this.options.healthyMs) this.delay = this.options.initialMs;
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, this.options.maxMs);
    return delay;
  }
}
