// EventClock reads a timestamp once a quarter of an hour and adds the minutes and seconds into it: it must give
// what bannerTime gives, across zone changes too.
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseBanner } from '../../src/parse/banner.js';
import { bannerTime, EventClock } from '../../src/parse/time.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

const stamp = fc.oneof(
  fc.record({ mo: fc.integer({ min: 0, max: 11 }), d: fc.integer({ min: 1, max: 28 }), h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }), f: fc.constantFrom('', '.5', '.123456') })
    .map(({ mo, d, h, m, s, f }) => `${MONTHS[mo]} ${String(d).padStart(2, ' ')} ${pad(h)}:${pad(m)}:${pad(s)}${f}`),
  fc.record({ d: fc.integer({ min: 1, max: 28 }), h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }), f: fc.constantFrom('', '.5', ',25', '.123456'), z: fc.constantFrom('', 'Z', '+02:00', '-05:30') })
    .map(({ d, h, m, s, f, z }) => `2026-05-${pad(d)}T${pad(h)}:${pad(m)}:${pad(s)}${f}${z}`),
);

describe('EventClock', () => {
  it('reads a yearless time in the year it is given, the quarter read again when the year changes', () => {
    const ctx = { now: Date.UTC(2026, 5, 1) };
    const clock = new EventClock(ctx);
    const lines = ['Dec 31 23:50:00 web sshd[1]: x', 'Dec 31 23:52:30 web sshd[1]: x', 'Jan  1 00:01:00 web sshd[1]: x'];
    for (const [line, year] of [[lines[0], 2025], [lines[1], 2025], [lines[1], 2024], [lines[1], undefined], [lines[2], 2026], [lines[2], 2027], [lines[1], 2025]] as const) {
      const banner = parseBanner(line);
      expect(clock.time(banner, year), `${line} in ${year}`).toBe(bannerTime(banner, year === undefined ? ctx : { ...ctx, year }));
    }
  });

  it('gives lines without a banner time their Common Log Format time, or none', () => {
    const ctx = { now: Date.UTC(2026, 5, 1) };
    const clock = new EventClock(ctx);
    for (const line of [
      '192.0.2.7 - - [01/May/2026:10:00:05 +0000] "GET / HTTP/1.1" 401 5',
      '192.0.2.7 - - [01/May/2026:11:20:05 +0200] "GET / HTTP/1.1" 401 5',
      'sshd[42]: Failed password for root from 192.0.2.7 port 22 ssh2',
      'May  1 10:00:00 web sshd[42]: Failed password for root from 192.0.2.7 port 22 ssh2',
      'sshd[43]: Failed password for root from 192.0.2.8 port 22 ssh2',
    ]) {
      const banner = parseBanner(line);
      expect(clock.time(banner), line).toBe(bannerTime(banner, ctx));
    }
  });

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

  // days when a zone changes its offset, and zones whose offsets are not whole hours or change by half an hour
  const CHANGES: { timezone: string; day: [number, number] }[] = [
    { timezone: 'Europe/Paris', day: [2, 29] },
    { timezone: 'Europe/Paris', day: [9, 25] },
    { timezone: 'Australia/Lord_Howe', day: [3, 5] },
    { timezone: 'Australia/Lord_Howe', day: [9, 4] },
    { timezone: 'America/St_Johns', day: [2, 8] },
    { timezone: 'Asia/Kathmandu', day: [4, 1] },
  ];

  // the zone given, or the process's own (TZ), which bannerTime reads through Date's local time
  const CASES = CHANGES.flatMap((c) => [{ ...c, local: false }, { ...c, local: true }]);

  it.each(CASES)('gives the time bannerTime gives on a day $timezone changes its offset (local: $local)', ({ timezone, day: [mo, d], local }) => {
    const saved = process.env.TZ;
    if (local) process.env.TZ = timezone;
    onTestFinished(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });
    const ctx = local ? { now: Date.UTC(2026, 11, 1) } : { now: Date.UTC(2026, 11, 1), timezone };
    const around = fc.record({ h: fc.integer({ min: 0, max: 4 }), m: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }), iso: fc.boolean() })
      .map(({ h, m, s, iso }) => (iso
        ? `2026-${pad(mo + 1)}-${pad(d)}T${pad(h)}:${pad(m)}:${pad(s)}.250`
        : `${MONTHS[mo]} ${String(d).padStart(2, ' ')} ${pad(h)}:${pad(m)}:${pad(s)}`));
    fc.assert(
      fc.property(fc.array(around, { minLength: 1, maxLength: 40 }), fc.boolean(), (stamps, sorted) => {
        const clock = new EventClock(ctx);
        for (const s of sorted ? [...stamps].sort() : stamps) {
          const banner = parseBanner(`${s} web sshd[1]: Failed password for root from 203.0.113.5 port 22 ssh2`);
          expect(clock.time(banner)).toBe(bannerTime(banner, ctx));
        }
      }),
      { numRuns: 300 },
    );
  });
});
