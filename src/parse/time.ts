import { type Banner, TimeFormat, monthAt } from './banner.js';

/** How to read timestamps that lack a year or a zone. */
export interface TimeContext {
  /** Reference "now" (ms); a yearless date more than a day after it belongs to the previous year. */
  now: number;
  /** Forces the year of yearless (BSD) timestamps. */
  year?: number;
  /** IANA zone of timestamps that carry none; default: the process's local zone */
  timezone?: string;
}

const DAY_MS = 86_400_000;
// TAI64 labels count from 2^62, and TAI runs 10 s ahead of the UTC epoch in the daemontools convention
const TAI64_EPOCH = 2n ** 62n + 10n;

function num(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
}

/** The number of the two digits at `at` (a loop over them costs as much again, on every event) */
function twoDigits(s: string, at: number): number {
  return (s.charCodeAt(at) - 48) * 10 + (s.charCodeAt(at + 1) - 48);
}

/** Milliseconds of a `.ffffff` fraction at pos (any number of digits), 0 when there is none. */
function fractionMs(s: string, pos: number): number {
  const c = s.charCodeAt(pos);
  if (c !== 46 && c !== 44) return 0;
  let ms = 0;
  let n = 0;
  for (let d = s.charCodeAt(pos + 1); n < 3 && d >= 48 && d <= 57; d = s.charCodeAt(pos + 1 + n)) {
    ms = ms * 10 + (d - 48);
    n++;
  }
  for (; n < 3; n++) ms *= 10;
  return ms;
}

/** Where a `.ffffff` fraction at pos ends (pos when there is none). */
function fractionEnd(s: string, pos: number): number {
  const c = s.charCodeAt(pos);
  if (c !== 46 && c !== 44) return pos;
  let end = pos + 1;
  while (end < s.length && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end++;
  return end;
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
      const ms = fractionMs(t, dayEnd + 9);
      if (ctx.year !== undefined) return wallTime(ctx.timezone, ctx.year, month, day, h, m, sec, ms);
      const year = new Date(ctx.now).getFullYear();
      const time = wallTime(ctx.timezone, year, month, day, h, m, sec, ms);
      return time > ctx.now + DAY_MS ? wallTime(ctx.timezone, year - 1, month, day, h, m, sec, ms) : time;
    }
    case TimeFormat.Iso:
      return isoTime(t, ctx.timezone);
    case TimeFormat.Tai64n: {
      const seconds = BigInt(`0x${t.slice(1, 17)}`) - TAI64_EPOCH;
      const nanos = parseInt(t.slice(17, 25), 16);
      return Number(seconds) * 1000 + Math.floor(nanos / 1e6);
    }
    case TimeFormat.Ctime: {
      // Www Mmm dd hh:mm:ss yyyy
      const month = monthAt(t, 4);
      let p = 8;
      if (t.charCodeAt(p) === 32) p++;
      const dayEnd = t.indexOf(' ', p);
      const ms = fractionMs(t, dayEnd + 9);
      const clockEnd = fractionEnd(t, dayEnd + 9);
      const year = num(t, clockEnd + 1, clockEnd + 5);
      return wallTime(ctx.timezone, year, month, num(t, p, dayEnd), num(t, dayEnd + 1, dayEnd + 3), num(t, dayEnd + 4, dayEnd + 6), num(t, dayEnd + 7, dayEnd + 9), ms);
    }
    case TimeFormat.Given:
      return banner.givenTime;
    case TimeFormat.Bind: {
      // dd-Mmm-yyyy hh:mm:ss[.mmm]
      const ms = fractionMs(t, 20);
      return wallTime(ctx.timezone, num(t, 7, 11), monthAt(t, 3), num(t, 0, 2), num(t, 12, 14), num(t, 15, 17), num(t, 18, 20), ms);
    }
    default:
      return clfTime(banner.msg);
  }
}

/** Common Log Format's `[01/May/2026:10:00:05 +0000]`, for web access logs that have no syslog banner. */
export function clfTime(msg: string): number | null {
  const open = msg.indexOf(' [');
  if (open < 0 || open > 600) return null;
  const p = open + 2;
  const t = msg;
  if (t.charCodeAt(p + 2) !== 47 || t.charCodeAt(p + 6) !== 47 || t.charCodeAt(p + 11) !== 58 || t.charCodeAt(p + 20) !== 32) return null;
  const month = monthAt(t, p + 3);
  const sign = t.charCodeAt(p + 21);
  if (month < 0 || (sign !== 43 && sign !== 45) || t.charCodeAt(p + 26) !== 93) return null;
  for (const at of [p, p + 1, p + 7, p + 8, p + 9, p + 10, p + 12, p + 13, p + 15, p + 16, p + 18, p + 19, p + 22, p + 23, p + 24, p + 25]) {
    const c = t.charCodeAt(at);
    if (c < 48 || c > 57) return null;
  }
  const utc = Date.UTC(num(t, p + 7, p + 11), month, num(t, p, p + 2), num(t, p + 12, p + 14), num(t, p + 15, p + 17), num(t, p + 18, p + 20));
  const offset = (num(t, p + 22, p + 24) * 60 + num(t, p + 24, p + 26)) * 60_000;
  return sign === 45 ? utc + offset : utc - offset;
}

/** ISO 8601 as the banner scanner accepted it; without a zone it is in `timezone` (default local). */
export function isoTime(t: string, timezone?: string): number {
  const year = num(t, 0, 4);
  const month = num(t, 5, 7) - 1;
  const day = num(t, 8, 10);
  const h = num(t, 11, 13);
  const m = num(t, 14, 16);
  const sec = num(t, 17, 19);
  const ms = fractionMs(t, 19);
  const end = fractionEnd(t, 19);
  const z = t.charCodeAt(end);
  if (end >= t.length) return wallTime(timezone, year, month, day, h, m, sec, ms);
  const utc = Date.UTC(year, month, day, h, m, sec, ms);
  if (z === 90) return utc;
  const sign = z === 45 ? -1 : 1;
  const oh = num(t, end + 1, end + 3);
  const om = t.charCodeAt(end + 3) === 58 ? num(t, end + 4, end + 6) : end + 5 <= t.length ? num(t, end + 3, end + 5) : 0;
  return utc - sign * (oh * 60 + om) * 60_000;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

const zoneOffsets = new Map<string, number>();
/** Zone offsets change only at quarter hours: cache them per 15 minutes (bounded). */
const OFFSET_BUCKET_MS = 15 * 60_000;

/** Offset (ms) of `timezone` from UTC at the instant `utc`. */
function zoneOffset(timezone: string, utc: number): number {
  const bucketKey = `${timezone} ${Math.floor(utc / OFFSET_BUCKET_MS)}`;
  const cached = zoneOffsets.get(bucketKey);
  if (cached !== undefined) return cached;
  if (zoneOffsets.size > 100_000) zoneOffsets.clear();
  const offset = computeZoneOffset(timezone, Math.floor(utc / OFFSET_BUCKET_MS) * OFFSET_BUCKET_MS);
  zoneOffsets.set(bucketKey, offset);
  return offset;
}

function computeZoneOffset(timezone: string, utc: number): number {
  let format = zoneFormats.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zoneFormats.set(timezone, format);
  }
  const parts: Record<string, number> = {};
  for (const { type, value } of format.formatToParts(utc)) parts[type] = Number(value);
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return asUtc - Math.floor(utc / 1000) * 1000;
}

/** Throws a clear error for an unknown zone name. */
export function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new Error(`unknown time zone ${JSON.stringify(timezone)} (expected an IANA name such as Europe/Paris, or UTC)`);
  }
}

/** The instant of a wall-clock time in `timezone` (local when undefined). */
export function wallTime(
  timezone: string | undefined,
  year: number,
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
  ms: number,
): number {
  if (timezone === undefined) return new Date(year, month, day, h, m, s, ms).getTime();
  const guess = Date.UTC(year, month, day, h, m, s, ms);
  const first = guess - zoneOffset(timezone, guess);
  return guess - zoneOffset(timezone, first);
}

/**
 * Event times for correlation, cheaply: lines of one quarter of an hour share the reading of their timestamp
 * (BSD `Mmm dd hh:` and ISO `yyyy-mm-ddThh:` with the quarter of their minutes, and with the ISO zone, are read
 * once a quarter; the minutes into the quarter, the seconds and their fraction are added); other formats are read
 * per distinct timestamp. A quarter, not a minute: reading a yearless or zoneless time is a local-time conversion
 * (tens of thousands of instructions), and zones change their offset only at quarter hours (as zoneOffset assumes).
 */
export class EventClock {
  /**
   * The last quarter read, per time format: logs that interleave formats (several hosts' syslogs, each with
   * its own) would otherwise read every timestamp in full.
   */
  private readonly hour: string[] = [];
  private readonly quarter: number[] = [];
  private readonly zone: string[] = [];
  private readonly base: number[] = [];
  /** The year a yearless quarter was read in (undefined: by the context's rule) */
  private readonly year: (number | undefined)[] = [];

  constructor(private readonly context: TimeContext) {
    for (let f = 0; f <= TimeFormat.Given; f++) {
      this.hour.push('');
      this.quarter.push(-1);
      this.zone.push('');
      this.base.push(0);
      this.year.push(undefined);
    }
  }

  /** `year`: the year of a yearless (BSD) timestamp, as TimeContext.year, when the caller has settled it */
  time(banner: Banner, year?: number): number | null {
    const format = banner.timeFormat;
    if (format === TimeFormat.Given) return Number.isFinite(banner.givenTime) ? banner.givenTime : null;
    if (format === TimeFormat.None) {
      // no time in the banner: a web log's own (Common Log Format), or none at all
      const at = bannerTime(banner, this.context);
      return at !== null && Number.isFinite(at) ? at : null;
    }
    const { line, timeStart, timeEnd } = banner;
    let hourEnd = timeEnd;
    let zoneStart = timeEnd;
    let quarter = -1;
    let offset = 0;
    if (format === TimeFormat.Bsd && line.charCodeAt(timeEnd - 3) === 58) {
      // `Mmm dd hh:mm:ss`, no fraction
      hourEnd = timeEnd - 5;
      const minutes = twoDigits(line, hourEnd);
      quarter = (minutes / 15) | 0;
      offset = ((minutes - quarter * 15) * 60 + twoDigits(line, timeEnd - 2)) * 1000;
    } else if (format === TimeFormat.Iso && timeEnd - timeStart >= 19 && line.charCodeAt(timeStart + 16) === 58) {
      // `yyyy-mm-ddThh:mm:ss[.frac][zone]`
      hourEnd = timeStart + 14;
      const minutes = twoDigits(line, hourEnd);
      quarter = (minutes / 15) | 0;
      zoneStart = fractionEnd(line, timeStart + 19);
      offset = ((minutes - quarter * 15) * 60 + twoDigits(line, timeStart + 17)) * 1000 + fractionMs(line, timeStart + 19);
    }
    const hour = this.hour[format];
    const zone = this.zone[format];
    const same =
      quarter === this.quarter[format] &&
      year === this.year[format] &&
      hourEnd - timeStart === hour.length &&
      timeEnd - zoneStart === zone.length &&
      line.startsWith(hour, timeStart) &&
      line.startsWith(zone, zoneStart);
    if (!same) {
      const at = bannerTime(banner, year === undefined ? this.context : { ...this.context, year });
      if (at === null || !Number.isFinite(at)) return null;
      this.year[format] = year;
      this.hour[format] = line.slice(timeStart, hourEnd);
      this.quarter[format] = quarter;
      this.zone[format] = line.slice(zoneStart, timeEnd);
      this.base[format] = at - offset;
    }
    return this.base[format] + offset;
  }
}
