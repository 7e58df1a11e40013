import { type Banner, TimeFormat, monthAt } from './banner.js';

/** How to read timestamps that lack a year or a zone. */
export interface TimeContext {
  /** Reference "now" (ms); a yearless date more than a day after it belongs to the previous year. */
  now: number;
  /** Forces the year of yearless (BSD) timestamps. */
  year?: number;
}

const DAY_MS = 86_400_000;
// TAI64 labels count from 2^62, and TAI runs 10 s ahead of the UTC epoch in the daemontools convention
const TAI64_EPOCH = 2n ** 62n + 10n;

function num(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
}

/** Milliseconds of a `.ffffff` fraction at pos (any number of digits), and where it ends. */
function fraction(s: string, pos: number): [number, number] {
  const c = s.charCodeAt(pos);
  if (c !== 46 && c !== 44) return [0, pos];
  let end = pos + 1;
  while (end < s.length && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end++;
  const digits = s.slice(pos + 1, Math.min(end, pos + 4)).padEnd(3, '0');
  return [Number(digits), end];
}

/** The event time of a banner in ms since the epoch, or null when the line carries no time. */
export function bannerTime(banner: Banner, ctx: TimeContext): number | null {
  const t = banner.timeText;
  switch (banner.timeFormat) {
    case TimeFormat.Bsd: {
      const month = monthAt(t, 0);
      let p = 4;
      if (t.charCodeAt(p) === 32) p++;
      const dayEnd = t.indexOf(' ', p);
      const day = num(t, p, dayEnd);
      const h = num(t, dayEnd + 1, dayEnd + 3);
      const m = num(t, dayEnd + 4, dayEnd + 6);
      const sec = num(t, dayEnd + 7, dayEnd + 9);
      const [ms] = fraction(t, dayEnd + 9);
      if (ctx.year !== undefined) return new Date(ctx.year, month, day, h, m, sec, ms).getTime();
      const year = new Date(ctx.now).getFullYear();
      const time = new Date(year, month, day, h, m, sec, ms).getTime();
      return time > ctx.now + DAY_MS ? new Date(year - 1, month, day, h, m, sec, ms).getTime() : time;
    }
    case TimeFormat.Iso:
      return isoTime(t);
    case TimeFormat.Tai64n: {
      const seconds = BigInt(`0x${t.slice(1, 17)}`) - TAI64_EPOCH;
      const nanos = parseInt(t.slice(17, 25), 16);
      return Number(seconds) * 1000 + Math.floor(nanos / 1e6);
    }
    default:
      return null;
  }
}

/** ISO 8601 as the banner scanner accepted it; without a zone it is local time. */
export function isoTime(t: string): number {
  const year = num(t, 0, 4);
  const month = num(t, 5, 7) - 1;
  const day = num(t, 8, 10);
  const h = num(t, 11, 13);
  const m = num(t, 14, 16);
  const sec = num(t, 17, 19);
  const [ms, end] = fraction(t, 19);
  const z = t.charCodeAt(end);
  if (end >= t.length) return new Date(year, month, day, h, m, sec, ms).getTime();
  const utc = Date.UTC(year, month, day, h, m, sec, ms);
  if (z === 90) return utc;
  const sign = z === 45 ? -1 : 1;
  const oh = num(t, end + 1, end + 3);
  const om = t.charCodeAt(end + 3) === 58 ? num(t, end + 4, end + 6) : end + 5 <= t.length ? num(t, end + 3, end + 5) : 0;
  return utc - sign * (oh * 60 + om) * 60_000;
}
