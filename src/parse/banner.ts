/**
 * Splits a log line into its syslog-style banner (time, host, program tag, pid) and the message.
 * Hand-written scanning with charCodeAt: this runs on every line, so no regex and few allocations.
 */

export const enum TimeFormat {
  None = 0,
  /** `Mmm dd hh:mm:ss[.frac]`, no year, no zone */
  Bsd = 1,
  /** `YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm|±hhmm]` (also RFC 5424 and socklog's `_` separator) */
  Iso = 2,
  /** daemontools/s6 `@` + 24 hex digits */
  Tai64n = 3,
}

export interface Banner {
  timeFormat: TimeFormat;
  /** The timestamp's text, '' when the line has none */
  timeText: string;
  host: string | null;
  tag: string | null;
  pid: string | null;
  /**
   * True when the split was a guess: a tag from a line with neither timestamp nor pid (`HOST TAG: MSG`,
   * trusted only if some rule knows the program), or `TIME WORD MSG` where WORD may be a host or the
   * message's first word. `whole` is then the other reading of the message.
   */
  guessed: boolean;
  msg: string;
  /** Set by `message repeated N times: [ MSG]`: the message stands for N identical ones. */
  repeat: number;
  /** The message if the guessed split was wrong (see guessed) */
  whole: string;
}

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** Month index 0..11 of the three letters at `pos`, or -1. */
export function monthAt(s: string, pos: number): number {
  const a = s.charCodeAt(pos);
  if (a < 65 || a > 90) return -1;
  const m = MONTHS.indexOf(s.slice(pos, pos + 3));
  return m >= 0 && m % 3 === 0 ? m / 3 : -1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function digitsAt(s: string, pos: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (!isDigit(s.charCodeAt(pos + i))) return false;
  return true;
}

/** `hh:mm:ss` followed by an optional fraction; returns the end index or -1. */
function clockEnd(s: string, pos: number): number {
  if (!digitsAt(s, pos, 2) || s.charCodeAt(pos + 2) !== 58 || !digitsAt(s, pos + 3, 2)) return -1;
  if (s.charCodeAt(pos + 5) !== 58 || !digitsAt(s, pos + 6, 2)) return -1;
  let end = pos + 8;
  if (s.charCodeAt(end) === 46 || s.charCodeAt(end) === 44) {
    let j = end + 1;
    while (j - end <= 9 && isDigit(s.charCodeAt(j))) j++;
    if (j > end + 1) end = j;
  }
  return end;
}

/** End of a BSD timestamp at pos (`Jan  1 00:00:00`, `Jan 01 00:00:00.123456`), or -1. */
function bsdEnd(s: string, pos: number): number {
  if (monthAt(s, pos) < 0 || s.charCodeAt(pos + 3) !== 32) return -1;
  let p = pos + 4;
  if (s.charCodeAt(p) === 32) p++;
  if (!isDigit(s.charCodeAt(p))) return -1;
  p += isDigit(s.charCodeAt(p + 1)) ? 2 : 1;
  if (s.charCodeAt(p) !== 32) return -1;
  return clockEnd(s, p + 1);
}

/** End of an ISO 8601 timestamp at pos, or -1. */
function isoEnd(s: string, pos: number): number {
  if (!digitsAt(s, pos, 4) || s.charCodeAt(pos + 4) !== 45 || !digitsAt(s, pos + 5, 2)) return -1;
  if (s.charCodeAt(pos + 7) !== 45 || !digitsAt(s, pos + 8, 2)) return -1;
  const sep = s.charCodeAt(pos + 10);
  if (sep !== 84 && sep !== 32 && sep !== 95) return -1; // 'T', ' ', '_' (socklog)
  let end = clockEnd(s, pos + 11);
  if (end < 0) return -1;
  const z = s.charCodeAt(end);
  if (z === 90) return end + 1;
  if (z === 43 || z === 45) {
    if (!digitsAt(s, end + 1, 2)) return -1;
    if (s.charCodeAt(end + 3) === 58 && digitsAt(s, end + 4, 2)) return end + 6;
    if (digitsAt(s, end + 3, 2)) return end + 5;
    return end + 3;
  }
  return end;
}

function tai64nEnd(s: string, pos: number): number {
  if (s.charCodeAt(pos) !== 64) return -1;
  for (let i = 1; i <= 24; i++) {
    const c = s.charCodeAt(pos + i);
    if (!(isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return -1;
  }
  return pos + 25;
}

interface TagScan {
  tag: string;
  pid: string | null;
  msgStart: number;
}

const MAX_TAG = 64;

/** `TAG[PID]: ` or `TAG: ` at pos; TAG has no space, '[' or ':' and may contain '/', '(', '-', '.'. */
function scanTag(s: string, pos: number): TagScan | null {
  let i = pos;
  const limit = Math.min(s.length, pos + MAX_TAG);
  while (i < limit) {
    const c = s.charCodeAt(i);
    if (c === 91 || c === 58 || c === 32) break;
    i++;
  }
  if (i === pos || i >= s.length) return null;
  const tag = s.slice(pos, i);
  let pid: string | null = null;
  let c = s.charCodeAt(i);
  if (c === 91) {
    // a pid is digits: `unknown[192.0.2.7]:` (Postfix's client) is not `TAG[PID]:`
    let close = i + 1;
    while (close - i <= 10 && isDigit(s.charCodeAt(close))) close++;
    if (close === i + 1 || s.charCodeAt(close) !== 93) return null;
    pid = s.slice(i + 1, close);
    i = close + 1;
    c = s.charCodeAt(i);
  }
  if (c !== 58) return null;
  i++;
  if (s.charCodeAt(i) === 32) i++;
  else if (i < s.length) return null;
  // Solaris message ids: `[ID 800047 auth.info] `
  if (s.startsWith('[ID ', i)) {
    const close = s.indexOf('] ', i);
    if (close > 0 && close - i < 48) i = close + 2;
  }
  return { tag, pid, msgStart: i };
}

/** socklog's `facility.level: ` prefix (`auth.info: `), returning the position after it or -1. */
function socklogPrefixEnd(s: string, pos: number): number {
  let i = pos;
  let dot = -1;
  while (i < s.length && i - pos < 24) {
    const c = s.charCodeAt(i);
    if (c === 46) dot = i;
    else if (c === 58) break;
    else if (!(c >= 97 && c <= 122) && !isDigit(c)) return -1;
    i++;
  }
  if (dot <= pos || dot >= i - 1 || s.charCodeAt(i) !== 58 || s.charCodeAt(i + 1) !== 32) return -1;
  return i + 2;
}

function makeBanner(
  line: string,
  timeFormat: TimeFormat,
  timeText: string,
  host: string | null,
  tag: string | null,
  pid: string | null,
  msgStart: number,
  whole: string | null = null,
): Banner {
  const banner: Banner = {
    timeFormat,
    timeText,
    host,
    tag,
    pid,
    guessed: whole !== null,
    msg: line.slice(msgStart),
    repeat: 1,
    whole: whole ?? '',
  };
  unwrapRepeat(banner);
  return banner;
}

/** rsyslog's `message repeated N times: [ MSG]` */
function unwrapRepeat(banner: Banner): void {
  const msg = banner.msg;
  if (msg.charCodeAt(0) !== 109 || !msg.startsWith('message repeated ')) return;
  let i = 17;
  let n = 0;
  while (isDigit(msg.charCodeAt(i)) && i < 27) n = n * 10 + (msg.charCodeAt(i++) - 48);
  if (n < 1 || !msg.startsWith(' times: [', i) || msg.charCodeAt(msg.length - 1) !== 93) return;
  let start = i + 9;
  if (msg.charCodeAt(start) === 32) start++;
  banner.msg = msg.slice(start, msg.length - 1);
  banner.repeat = n;
}

/** Everything after a timestamp (and its separating space): `[<fac.lvl>] HOST TAG[PID]: MSG` and variants. */
function afterTimestamp(line: string, pos: number, timeFormat: TimeFormat, timeText: string): Banner {
  let p = pos;
  // FreeBSD `syslogd -v` puts `<facility.level>` after the time
  if (line.charCodeAt(p) === 60) {
    const close = line.indexOf('> ', p);
    if (close > 0 && close - p < 32) p = close + 2;
  }
  // metalog: `[tag] MSG`, no host
  if (line.charCodeAt(p) === 91) {
    const close = line.indexOf('] ', p);
    if (close > p + 1 && close - p <= MAX_TAG) {
      return makeBanner(line, timeFormat, timeText, null, line.slice(p + 1, close), null, close + 2);
    }
  }
  const sock = socklogPrefixEnd(line, p);
  if (sock > 0) {
    const tag = scanTag(line, sock);
    if (tag) return makeBanner(line, timeFormat, timeText, null, tag.tag, tag.pid, tag.msgStart);
    return makeBanner(line, timeFormat, timeText, null, null, null, sock);
  }
  // a tag straight after the time (no host), as some syslogs and multilog write it
  const direct = scanTag(line, p);
  if (direct && direct.pid !== null) return makeBanner(line, timeFormat, timeText, null, direct.tag, direct.pid, direct.msgStart);
  const space = line.indexOf(' ', p);
  if (space > p) {
    const tag = scanTag(line, space + 1);
    if (tag) return makeBanner(line, timeFormat, timeText, line.slice(p, space), tag.tag, tag.pid, tag.msgStart);
    if (timeFormat !== TimeFormat.Tai64n) {
      // `HOST MSG` (e.g. `last message repeated 3 times`), or a bare message after the time
      return makeBanner(line, timeFormat, timeText, line.slice(p, space), null, null, space + 1, line.slice(p));
    }
  }
  if (direct) return makeBanner(line, timeFormat, timeText, null, direct.tag, direct.pid, direct.msgStart);
  return makeBanner(line, timeFormat, timeText, null, null, null, p);
}

function skipSpace(line: string, pos: number): number {
  return line.charCodeAt(pos) === 32 ? pos + 1 : -1;
}

/** RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`, each field '-' when absent. */
function rfc5424(line: string, pos: number): Banner | null {
  const fields: string[] = [];
  let p = pos;
  for (let k = 0; k < 5; k++) {
    const space = line.indexOf(' ', p);
    if (space < 0) return null;
    fields.push(line.slice(p, space));
    p = space + 1;
  }
  // structured data: '-' or one or more [id k="v" ...] with \] escapes
  if (line.charCodeAt(p) === 45) {
    p++;
  } else {
    while (line.charCodeAt(p) === 91) {
      let i = p + 1;
      while (i < line.length) {
        const c = line.charCodeAt(i);
        if (c === 92) i += 2;
        else if (c === 93) break;
        else i++;
      }
      if (i >= line.length) return null;
      p = i + 1;
    }
  }
  if (p < line.length && line.charCodeAt(p) === 32) p++;
  if (line.charCodeAt(p) === 0xfeff) p++;
  const [time, host, app, procid] = fields;
  const hasTime = time !== '-' && isoEnd(time, 0) === time.length;
  return makeBanner(
    line,
    hasTime ? TimeFormat.Iso : TimeFormat.None,
    hasTime ? time : '',
    host === '-' ? null : host,
    app === '-' ? null : app,
    procid === '-' ? null : procid,
    p,
  );
}

export function parseBanner(line: string): Banner {
  let pos = 0;
  if (line.charCodeAt(0) === 60) {
    let i = 1;
    while (i < 5 && isDigit(line.charCodeAt(i))) i++;
    if (i > 1 && line.charCodeAt(i) === 62) {
      pos = i + 1;
      if (line.charCodeAt(pos) === 49 && line.charCodeAt(pos + 1) === 32) {
        const parsed = rfc5424(line, pos + 2);
        if (parsed) return parsed;
      }
    }
  }
  const c = line.charCodeAt(pos);
  let end = -1;
  let format = TimeFormat.None;
  if (c >= 65 && c <= 90) {
    end = bsdEnd(line, pos);
    format = TimeFormat.Bsd;
  } else if (isDigit(c)) {
    end = isoEnd(line, pos);
    format = TimeFormat.Iso;
  } else if (c === 64) {
    end = tai64nEnd(line, pos);
    format = TimeFormat.Tai64n;
  }
  if (end > 0) {
    const next = skipSpace(line, end);
    if (next > 0) return afterTimestamp(line, next, format, line.slice(pos, end));
  }
  return noTimestamp(line, pos);
}

/** Lines with no timestamp: `HOST TAG[PID]: MSG`, `TAG[PID]: MSG`, socklog `fac.lvl: ...`, or a bare message. */
function noTimestamp(line: string, pos: number): Banner {
  const sock = socklogPrefixEnd(line, pos);
  if (sock > 0) {
    const tag = scanTag(line, sock);
    if (tag) return makeBanner(line, TimeFormat.None, '', null, tag.tag, tag.pid, tag.msgStart);
  }
  const direct = scanTag(line, pos);
  if (direct && direct.pid !== null) return makeBanner(line, TimeFormat.None, '', null, direct.tag, direct.pid, direct.msgStart);
  const space = line.indexOf(' ', pos);
  if (space > pos && space - pos <= 255) {
    const tag = scanTag(line, space + 1);
    if (tag) {
      const whole = tag.pid === null ? line.slice(pos) : null;
      return makeBanner(line, TimeFormat.None, '', line.slice(pos, space), tag.tag, tag.pid, tag.msgStart, whole);
    }
  }
  return makeBanner(line, TimeFormat.None, '', null, null, null, pos);
}
