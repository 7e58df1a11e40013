/**
 * Says when the daemon cannot keep up with a log: a source with more than BEHIND_BYTES written and not read yet,
 * for WARN_AFTER_MS on end, is logged at warn once (and once more when it has caught up). Nothing is shed: lines
 * are read in order and none is dropped, so a lag only delays blocks; the lag is in the metrics meanwhile.
 */
import type { Logger } from '../log/logger.js';
import type { SourceStatus } from '../sources/source.js';

/** About 8,000 syslog lines: less is the normal jitter of a busy log read in chunks */
export const BEHIND_BYTES = 1 << 20;
export const WARN_AFTER_MS = 5000;

export class LagWatch {
  /** Since when each source has been behind */
  private readonly behindSince = new Map<string, number>();
  private readonly warned = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Seconds `source` has been more than BEHIND_BYTES behind, 0 when it is not. */
  seconds(source: string, now: number): number {
    const since = this.behindSince.get(source);
    return since === undefined ? 0 : (now - since) / 1000;
  }

  check(sources: readonly SourceStatus[], now: number): void {
    for (const s of sources) {
      const lag = s.lagBytes ?? 0;
      const since = this.behindSince.get(s.name);
      if (lag > BEHIND_BYTES) {
        if (since === undefined) this.behindSince.set(s.name, now);
        else if (now - since >= WARN_AFTER_MS && !this.warned.has(s.name)) {
          this.warned.add(s.name);
          const seconds = Math.round((now - since) / 1000);
          this.log.warn(
            { source: s.name, lagBytes: lag, lagSeconds: seconds },
            `falling behind ${s.name}: ${(lag / 1e6).toFixed(1)} MB unread, behind for ${seconds} s; every line is still read, in order, so blocks come late`,
          );
        }
      } else if (since !== undefined) {
        this.behindSince.delete(s.name);
        if (this.warned.delete(s.name)) {
          this.log.info({ source: s.name, lagSeconds: Math.round((now - since) / 1000) }, `caught up with ${s.name} after ${Math.round((now - since) / 1000)} s`);
        }
      }
    }
  }
}
