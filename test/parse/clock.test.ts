// EventClock reads a timestamp once a minute and adds the seconds: it must give what bannerTime gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBanner } from '../../src/parse/banner.js';
import { bannerTime, EventClock } from '../../src/parse/time.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

const stamp = fc.oneof(
  fc.record({ mo: fc.integer({ min: 0, max: 11 }), d: fc.integer({ min: 1, max: 28 }), h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 2 }), s: fc.integer({ min: 0, max: 59 }), f: fc.constantFrom('', '.5', '.123456') })
    .map(({ mo, d, h, m, s, f }) => `${MONTHS[mo]} ${String(d).padStart(2, ' ')} ${pad(h)}:${pad(m)}:${pad(s)}${f}`),
  fc.record({ d: fc.integer({ min: 1, max: 28 }), h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 2 }), s: fc.integer({ min: 0, max: 59 }), f: fc.constantFrom('', '.5', ',25', '.123456'), z: fc.constantFrom('', 'Z', '+02:00', '-05:30') })
    .map(({ d, h, m, s, f, z }) => `2026-05-${pad(d)}T${pad(h)}:${pad(m)}:${pad(s)}${f}${z}`),
);

describe('EventClock', () => {
  it('gives the time bannerTime gives, for runs of BSD and ISO timestamps in any order', () => {
    const ctx = { now: Date.UTC(2026, 5, 1) };
    fc.assert(
      fc.property(fc.array(stamp, { minLength: 1, maxLength: 30 }), (stamps) => {
        const clock = new EventClock(ctx);
        for (const s of stamps) {
          const banner = parseBanner(`${s} web sshd[1]: Failed password for root from 203.0.113.5 port 22 ssh2`);
          expect(clock.time(banner)).toBe(bannerTime(banner, ctx));
        }
      }),
      { numRuns: 500 },
    );
  });
});
