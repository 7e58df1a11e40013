/**
 * Splits a log line into its syslog-style banner (time, host, program tag, pid) and the message.
 * Hand-written scanning: this runs on every line, so no regex, and the banner keeps positions into the line
 * instead of cutting strings that most lines never need. A line whose bytes are at hand is read from them when
 * its banner has the commonest shape (commonBanner): a typed array's bytes cost a good deal less to read than a
 * string's characters.
 */

export const enum TimeFormat {
  None = 0,
  /** `Mmm dd hh:mm:ss[.frac]`, no year, no zone */
  Bsd = 1,
  /** `YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm|±hhmm]` (also RFC 5424 and socklog's `_` separator) */
  Iso = 2,
  /** daemontools/s6 `@` + 24 hex digits */
  Tai64n = 3,
  /** ctime `Www Mmm dd hh:mm:ss yyyy` (vsftpd's own log, OpenWrt logread) */
  Ctime = 4,
  /** BIND's `dd-Mmm-yyyy hh:mm:ss[.mmm]` */
  Bind = 5,
  /** Not in the text: given with a structured record (a journal entry's own time), in `givenTime` */
  Given = 6,
}

export class Banner {
  timeFormat = TimeFormat.None;
  timeStart = 0;
  timeEnd = 0;
  hostStart = -1;
  hostEnd = -1;
  tag: string | null = null;
  pidStart = -1;
  pidEnd = -1;
  /**
   * True when the split was a guess: a tag from a line with neither timestamp nor pid (`HOST TAG: MSG`,
   * trusted only if some rule knows the program), or `TIME WORD MSG` where WORD may be a host or the
   * message's first word. `whole` then starts where the other reading of the message starts.
   */
  guessed = false;
  wholeStart = 0;
  msgStart = 0;
  msgEnd = 0;
  /** Set by `message repeated N times: [ MSG]`: the message stands for N identical ones. */
  repeat = 1;
  /** For a structured record, whose host, pid and time are fields of their own and not in `line` */
  givenHost: string | null = null;
  givenPid: string | null = null;
  givenTime = 0;

  constructor(public line: string) {
    this.msgEnd = line.length;
  }

  /**
   * The banner of a structured record (a journal entry): `message` is the whole line, the rest is given.
   * The message is never unwrapped (`message repeated` is rsyslog's, not the program's, and could forge a count).
   */
  static ofRecord(tag: string | null, pid: number | null, host: string | null, message: string, time: number): Banner {
    const b = new Banner(message);
    b.tag = tag;
    b.givenHost = host;
    b.givenPid = pid === null ? null : String(pid);
    b.timeFormat = TimeFormat.Given;
    b.givenTime = time;
    return b;
  }

  /** Makes this banner ready to describe another line (the parser reuses one for lines without events). */
  reset(line: string): void {
    this.line = line;
    this.timeFormat = TimeFormat.None;
    this.timeStart = this.timeEnd = 0;
    this.hostStart = this.hostEnd = -1;
    this.tag = null;
    this.pidStart = this.pidEnd = -1;
    this.guessed = false;
    this.wholeStart = 0;
    this.msgStart = 0;
    this.msgEnd = line.length;
    this.repeat = 1;
    this.givenHost = this.givenPid = null;
    this.givenTime = 0;
  }

  clone(): Banner {
    const b = new Banner(this.line);
    b.timeFormat = this.timeFormat;
    b.timeStart = this.timeStart;
    b.timeEnd = this.timeEnd;
    b.hostStart = this.hostStart;
    b.hostEnd = this.hostEnd;
    b.tag = this.tag;
    b.pidStart = this.pidStart;
    b.pidEnd = this.pidEnd;
    b.guessed = this.guessed;
    b.wholeStart = this.wholeStart;
    b.msgStart = this.msgStart;
    b.msgEnd = this.msgEnd;
    b.repeat = this.repeat;
    b.givenHost = this.givenHost;
    b.givenPid = this.givenPid;
    b.givenTime = this.givenTime;
    return b;
  }

  /** The message: what follows the banner (inside `message repeated N times: [ ... ]` when so wrapped) */
  get msg(): string {
    return this.msgStart === 0 && this.msgEnd === this.line.length ? this.line : this.line.slice(this.msgStart, this.msgEnd);
  }

  /** The timestamp's text, '' when the line has none */
  get timeText(): string {
    return this.line.slice(this.timeStart, this.timeEnd);
  }

  get host(): string | null {
    return this.hostStart < 0 ? this.givenHost : this.line.slice(this.hostStart, this.hostEnd);
  }

  get pid(): string | null {
    return this.pidStart < 0 ? this.givenPid : this.line.slice(this.pidStart, this.pidEnd);
  }

  /** The message if the guessed split was wrong (see guessed) */
  get whole(): string {
    return this.line.slice(this.wholeStart);
  }

  /** Takes the other reading of a guessed line: no host, no tag, the whole rest is the message. */
  unguess(): void {
    this.tag = null;
    this.hostStart = this.hostEnd = -1;
    this.pidStart = this.pidEnd = -1;
    this.repeat = 1;
    this.guessed = false;
    setMessage(this, this.wholeStart);
  }
}

/** Month index 0..11 of the three letters at `pos`, or -1. */
export function monthAt(s: string, pos: number): number {
  const a = s.charCodeAt(pos);
  const b = s.charCodeAt(pos + 1);
  const c = s.charCodeAt(pos + 2);
  switch (a) {
    case 74: // J
      if (b === 97 && c === 110) return 0; // Jan
      if (b === 117) return c === 110 ? 5 : c === 108 ? 6 : -1; // Jun, Jul
      return -1;
    case 70: // F
      return b === 101 && c === 98 ? 1 : -1;
    case 77: // M
      return b === 97 ? (c === 114 ? 2 : c === 121 ? 4 : -1) : -1; // Mar, May
    case 65: // A
      return b === 112 && c === 114 ? 3 : b === 117 && c === 103 ? 7 : -1; // Apr, Aug
    case 83: // S
      return b === 101 && c === 112 ? 8 : -1;
    case 79: // O
      return b === 99 && c === 116 ? 9 : -1;
    case 78: // N
      return b === 111 && c === 118 ? 10 : -1;
    case 68: // D
      return b === 101 && c === 99 ? 11 : -1;
    default:
      return -1;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Whether s has two digits at pos */
function twoDigitsAt(s: string, pos: number): boolean {
  return isDigit(s.charCodeAt(pos)) && isDigit(s.charCodeAt(pos + 1));
}

/** `hh:mm:ss` followed by an optional fraction; returns the end index or -1. */
function clockEnd(s: string, pos: number): number {
  if (!twoDigitsAt(s, pos) || s.charCodeAt(pos + 2) !== 58 || !twoDigitsAt(s, pos + 3)) return -1;
  if (s.charCodeAt(pos + 5) !== 58 || !twoDigitsAt(s, pos + 6)) return -1;
  let end = pos + 8;
  if (s.charCodeAt(end) === 46 || s.charCodeAt(end) === 44) {
    let j = end + 1;
    while (j - end <= 9 && isDigit(s.charCodeAt(j))) j++;
    if (j > end + 1) end = j;
  }
  return end;
}

/** `Mmm dd hh:mm:ss` at pos (day space- or zero-padded); returns the end index or -1. */
function monthDayClockEnd(s: string, pos: number): number {
  if (monthAt(s, pos) < 0 || s.charCodeAt(pos + 3) !== 32) return -1;
  let p = pos + 4;
  if (s.charCodeAt(p) === 32) p++;
  if (!isDigit(s.charCodeAt(p))) return -1;
  p += isDigit(s.charCodeAt(p + 1)) ? 2 : 1;
  if (s.charCodeAt(p) !== 32) return -1;
  return clockEnd(s, p + 1);
}

/** End of an ISO 8601 timestamp at pos, or -1. */
export function isoEnd(s: string, pos: number): number {
  if (!twoDigitsAt(s, pos) || !twoDigitsAt(s, pos + 2) || s.charCodeAt(pos + 4) !== 45 || !twoDigitsAt(s, pos + 5)) return -1;
  if (s.charCodeAt(pos + 7) !== 45 || !twoDigitsAt(s, pos + 8)) return -1;
  const sep = s.charCodeAt(pos + 10);
  if (sep !== 84 && sep !== 32 && sep !== 95) return -1; // 'T', ' ', '_' (socklog)
  const end = clockEnd(s, pos + 11);
  if (end < 0) return -1;
  const z = s.charCodeAt(end);
  if (z === 90) return end + 1;
  if (z === 43 || z === 45) {
    if (!twoDigitsAt(s, end + 1)) return -1;
    if (s.charCodeAt(end + 3) === 58 && twoDigitsAt(s, end + 4)) return end + 6;
    if (twoDigitsAt(s, end + 3)) return end + 5;
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

/** ctime: `Www Mmm dd hh:mm:ss yyyy`. */
function ctimeEnd(s: string, pos: number): number {
  if (s.charCodeAt(pos + 3) !== 32) return -1;
  const end = monthDayClockEnd(s, pos + 4);
  if (end < 0 || s.charCodeAt(end) !== 32 || !(twoDigitsAt(s, end + 1) && twoDigitsAt(s, end + 3))) return -1;
  return end + 5;
}

/** BIND: `dd-Mmm-yyyy hh:mm:ss[.mmm]`. */
function bindEnd(s: string, pos: number): number {
  if (!twoDigitsAt(s, pos) || s.charCodeAt(pos + 2) !== 45 || monthAt(s, pos + 3) < 0 || s.charCodeAt(pos + 6) !== 45) return -1;
  if (!(twoDigitsAt(s, pos + 7) && twoDigitsAt(s, pos + 9)) || s.charCodeAt(pos + 11) !== 32) return -1;
  return clockEnd(s, pos + 12);
}

const MAX_TAG = 64;

// Results of scanTag, kept in module variables: no allocation per line
let scannedTagEnd = 0;
let scannedPidStart = -1;
let scannedPidEnd = -1;
let scannedMsgStart = 0;
let scannedTagHash = 0;

/**
 * Tags seen recently, by a hash of their characters: a line's tag is found here without cutting it out of
 * the line, and being the same string every time, it is hashed once by the parser's route cache. Entries are
 * strings of their own (a slice of a line would keep the line alive); a colliding tag replaces the entry.
 */
const TAG_SLOTS = 1024;
const internedTags: (string | undefined)[] = new Array(TAG_SLOTS).fill(undefined);

/**
 * The bytes of the interned tags, MAX_TAG a slot, for lines read from their bytes (commonBanner): 255 stands for
 * any character that is not ASCII, which no byte of such a line is.
 */
const internedTagBytes = new Uint8Array(TAG_SLOTS * MAX_TAG);

/** The tag line[start, end) whose hash scanTag computed, interned. */
function tagAt(line: string, start: number, end: number, hash: number): string {
  const slot = hash & (TAG_SLOTS - 1);
  const known = internedTags[slot];
  if (known !== undefined && known.length === end - start && line.startsWith(known, start)) return known;
  return intern(slot, line, start, end);
}

function intern(slot: number, line: string, start: number, end: number): string {
  const tag = Buffer.from(line.slice(start, end), 'utf16le').toString('utf16le');
  internedTags[slot] = tag;
  const base = slot * MAX_TAG;
  for (let k = 0; k < tag.length; k++) {
    const c = tag.charCodeAt(k);
    internedTagBytes[base + k] = c < 128 ? c : 255;
  }
  return tag;
}

/** The tag of bytes[o + start, o + end), the same characters as line[start, end), interned as tagAt does. */
function tagOfBytes(line: string, bytes: Uint8Array, o: number, start: number, end: number, hash: number): string {
  const slot = hash & (TAG_SLOTS - 1);
  const known = internedTags[slot];
  if (known !== undefined && known.length === end - start) {
    const base = slot * MAX_TAG - start;
    let k = start;
    while (k < end && internedTagBytes[base + k] === bytes[o + k]) k++;
    if (k === end) return known;
  }
  return intern(slot, line, start, end);
}

/**
 * `TAG[PID]: ` or `TAG: ` at pos (also `TAG[PID] ` without the colon, as ProFTPD writes it); TAG has no space,
 * '[' or ':'. Returns false when there is no tag there.
 */
function scanTag(s: string, pos: number): boolean {
  let i = pos;
  let hash = 0;
  const limit = Math.min(s.length, pos + MAX_TAG);
  while (i < limit) {
    const c = s.charCodeAt(i);
    if (c === 91 || c === 58 || c === 32) break;
    hash = (hash * 31 + c) | 0;
    i++;
  }
  scannedTagHash = hash;
  if (i === pos || i >= s.length) return false;
  scannedTagEnd = i;
  scannedPidStart = -1;
  scannedPidEnd = -1;
  let c = s.charCodeAt(i);
  if (c === 91) {
    // a pid is digits: `unknown[192.0.2.7]:` (Postfix's client) is not `TAG[PID]:`
    let close = i + 1;
    while (close - i <= 10 && isDigit(s.charCodeAt(close))) close++;
    if (close === i + 1 || s.charCodeAt(close) !== 93) return false;
    scannedPidStart = i + 1;
    scannedPidEnd = close;
    i = close + 1;
    c = s.charCodeAt(i);
    if (c === 32) {
      scannedMsgStart = i + 1;
      return true;
    }
  }
  if (c !== 58) return false;
  i++;
  if (s.charCodeAt(i) === 32) i++;
  else if (i < s.length) return false;
  // Solaris message ids: `[ID 800047 auth.info] `
  if (s.charCodeAt(i) === 91 && s.startsWith('[ID ', i)) {
    const close = s.indexOf('] ', i);
    if (close > 0 && close - i < 48) i = close + 2;
  }
  scannedMsgStart = i;
  return true;
}

/** socklog's `facility.level: ` prefix (`auth.info: `), returning the position after it or -1. */
function socklogPrefixEnd(s: string, pos: number, colon: boolean): number {
  let i = pos;
  let dot = -1;
  while (i < s.length && i - pos < 24) {
    const c = s.charCodeAt(i);
    if (c === 46) dot = i;
    else if (c === 58 || c === 32) break;
    else if (!(c >= 97 && c <= 122) && !isDigit(c)) return -1;
    i++;
  }
  if (dot <= pos || dot >= i - 1) return -1;
  if (colon) return s.charCodeAt(i) === 58 && s.charCodeAt(i + 1) === 32 ? i + 2 : -1;
  return s.charCodeAt(i) === 32 ? i + 1 : -1; // OpenWrt logread: `authpriv.warn TAG[PID]: `
}

// The facility and level names syslog(3) writers print (`authpriv.notice`, `local7.warn`)
const FACILITIES = new Set([
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp',
  'security', 'console', 'audit', 'mark', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
]);
const LEVELS = new Set(['emerg', 'panic', 'alert', 'crit', 'err', 'error', 'warn', 'warning', 'notice', 'info', 'debug']);

/**
 * busybox syslogd's `facility.level ` between the host and the tag, with known names only (a host's message
 * must not lose its first word to a guess); returns the position after it or -1.
 */
function facilityLevelEnd(s: string, pos: number): number {
  const end = socklogPrefixEnd(s, pos, false);
  if (end < 0) return -1;
  const dot = s.indexOf('.', pos);
  return FACILITIES.has(s.slice(pos, dot)) && LEVELS.has(s.slice(dot + 1, end - 1)) ? end : -1;
}

/** The BSD time that syslog(3) puts before the tag, kept by socklog after its `facility.level: ` (bare or in brackets) */
function innerTimeEnd(s: string, pos: number): number {
  const bracket = s.charCodeAt(pos) === 91;
  const end = monthDayClockEnd(s, bracket ? pos + 1 : pos);
  if (end < 0) return pos;
  if (bracket) return s.charCodeAt(end) === 93 && s.charCodeAt(end + 1) === 32 ? end + 2 : pos;
  return s.charCodeAt(end) === 32 ? end + 1 : pos;
}

/** Fills in the tag found by scanTag and the message after it. */
function takeTag(b: Banner, line: string, pos: number): void {
  b.tag = tagAt(line, pos, scannedTagEnd, scannedTagHash);
  b.pidStart = scannedPidStart;
  b.pidEnd = scannedPidEnd;
  setMessage(b, scannedMsgStart);
}

function setMessage(b: Banner, start: number): void {
  b.msgStart = start;
  b.msgEnd = b.line.length;
  if (b.line.charCodeAt(start) === 109) unwrapRepeat(b);
}

/** rsyslog's `message repeated N times: [ MSG]` */
function unwrapRepeat(b: Banner): void {
  const line = b.line;
  const at = b.msgStart;
  if (!line.startsWith('message repeated ', at)) return;
  let i = at + 17;
  let n = 0;
  while (isDigit(line.charCodeAt(i)) && i < at + 27) n = n * 10 + (line.charCodeAt(i++) - 48);
  if (n < 1 || !line.startsWith(' times: [', i) || line.charCodeAt(line.length - 1) !== 93) return;
  let start = i + 9;
  if (line.charCodeAt(start) === 32) start++;
  b.msgStart = start;
  b.msgEnd = line.length - 1;
  b.repeat = n;
}

/** `HOST facility.level TAG[PID]: MSG` (busybox syslogd, routers), HOST ending at `space`: true when taken. */
function takeFacilityTag(b: Banner, line: string, hostStart: number, space: number): boolean {
  const facility = facilityLevelEnd(line, space + 1);
  if (facility <= 0 || !scanTag(line, facility)) return false;
  b.hostStart = hostStart;
  b.hostEnd = space;
  takeTag(b, line, facility);
  return true;
}

/** Everything after a timestamp (and its separating space): `[<fac.lvl>] HOST TAG[PID]: MSG` and variants. */
function afterTimestamp(b: Banner, line: string, pos: number): void {
  let p = pos;
  const c = line.charCodeAt(p);
  if (c === 60) {
    // FreeBSD `syslogd -v` puts `<facility.level>` after the time
    const close = line.indexOf('> ', p);
    if (close > 0 && close - p < 32) p = close + 2;
  } else if (c === 91) {
    // metalog: `[tag] MSG`, no host (some writers put a colon after it: `[tag]: MSG`)
    const close = line.indexOf(']', p);
    const colon = line.charCodeAt(close + 1) === 58 ? 1 : 0;
    if (close > p + 1 && close - p <= MAX_TAG && line.charCodeAt(close + 1 + colon) === 32 && line.lastIndexOf(' ', close) < p) {
      b.tag = line.slice(p + 1, close);
      setMessage(b, close + 2 + colon);
      return;
    }
  }
  // OpenWrt logread: `Www Mmm dd hh:mm:ss yyyy facility.level TAG[PID]: `
  if (b.timeFormat === TimeFormat.Ctime) {
    const facility = socklogPrefixEnd(line, p, false);
    if (facility > 0 && scanTag(line, facility)) {
      takeTag(b, line, facility);
      return;
    }
  }
  // the common case first: `HOST TAG[PID]: ` (a host does not end with ':')
  const host = hostEnd(line, p);
  if (host > 0 && line.charCodeAt(host - 1) !== 58 && scanTag(line, host + 1)) {
    b.hostStart = p;
    b.hostEnd = host;
    takeTag(b, line, host + 1);
    return;
  }
  const space = host > 0 ? host : line.indexOf(' ', p);
  if (space > p && space - p <= 255 && takeFacilityTag(b, line, p, space)) return;
  const sock = socklogPrefixEnd(line, p, true);
  if (sock > 0) {
    const tag = innerTimeEnd(line, sock);
    if (scanTag(line, tag)) takeTag(b, line, tag);
    else setMessage(b, sock);
    return;
  }
  // a tag straight after the time (no host), as some syslogs and multilog write it
  if (scanTag(line, p)) {
    if (scannedPidStart >= 0 || space < 0) {
      takeTag(b, line, p);
      return;
    }
    if (b.timeFormat === TimeFormat.Tai64n) {
      // multilog lines have no host: `TAG: MSG`, unless TAG is no known program and this is a bare message
      takeTag(b, line, p);
      b.guessed = true;
      b.wholeStart = p;
      return;
    }
  }
  if (space > p && b.timeFormat !== TimeFormat.Tai64n && plausibleHost(line, p, space)) {
    // `HOST MSG` (e.g. `last message repeated 3 times`), or a bare message after the time
    b.hostStart = p;
    b.hostEnd = space;
    b.guessed = true;
    b.wholeStart = p;
    setMessage(b, space + 1);
    return;
  }
  setMessage(b, p);
}

/**
 * Whether line[from, to) can be a host name or address as syslog daemons write it (letters, digits, `.-_:%`), or
 * the zone that follows some daemons' own timestamps (Exim's `+0200`): a word such as Exim's `H=(client-text`
 * is message text, so a client's HELO cannot pass for a new banner.
 */
function plausibleHost(line: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isHostChar(line.charCodeAt(i))) return false;
  return true;
}

function isHostChar(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 45 || c === 46 || c === 95 || c === 37;
}

/**
 * The space that ends a plausible host starting at pos (at most 255 characters), or -1: plausibleHost and the
 * search for its space in one pass, since a line's host is read in any case.
 */
function hostEnd(line: string, pos: number): number {
  const limit = Math.min(line.length, pos + 256);
  for (let i = pos; i < limit; i++) {
    const c = line.charCodeAt(i);
    if (c === 32) return i > pos ? i : -1;
    if (!isHostChar(c)) return -1;
  }
  return -1;
}

function skipSpace(line: string, pos: number): number {
  return line.charCodeAt(pos) === 32 ? pos + 1 : -1;
}

/**
 * End of the SD-ELEMENT `[ID NAME="VALUE" ...]` at pos (just after its `]`), or -1. Read by the grammar, so a
 * `]` inside a quoted value (which some writers leave unescaped) does not end it; when the element does not
 * follow the grammar, it ends at the first unescaped `]`, as RFC 5424 escaping implies.
 */
function sdElementEnd(line: string, pos: number): number {
  const n = line.length;
  let i = pos + 1;
  let grammar = true;
  // SD-ID, then ` NAME="VALUE"` pairs
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 93) return i + 1;
    if (c === 32 || c === 61 || c === 34) break;
    i++;
  }
  while (grammar && i < n && line.charCodeAt(i) === 32) {
    i++;
    const name = i;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 61 || c === 32 || c === 93 || c === 34) break;
      i++;
    }
    if (i === name || line.charCodeAt(i) !== 61 || line.charCodeAt(i + 1) !== 34) {
      grammar = false;
      break;
    }
    i += 2;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (c === 92) i += 2;
      else if (c === 34) break;
      else i++;
    }
    if (i >= n) {
      grammar = false;
      break;
    }
    i++;
    const after = line.charCodeAt(i);
    if (after === 93) return i + 1;
    if (after !== 32) grammar = false;
  }
  // not the grammar: the first unescaped `]`
  i = pos + 1;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 92) i += 2;
    else if (c === 93) return i + 1;
    else i++;
  }
  return -1;
}

/** RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`, each field '-' when absent; false (b untouched) when it is not. */
function rfc5424(b: Banner, line: string, pos: number): boolean {
  // the five space-separated fields before the structured data, read in place
  const timeEnd = line.indexOf(' ', pos);
  const hostEnd = timeEnd < 0 ? -1 : line.indexOf(' ', timeEnd + 1);
  const appEnd = hostEnd < 0 ? -1 : line.indexOf(' ', hostEnd + 1);
  const procEnd = appEnd < 0 ? -1 : line.indexOf(' ', appEnd + 1);
  const msgidEnd = procEnd < 0 ? -1 : line.indexOf(' ', procEnd + 1);
  if (msgidEnd < 0) return false;
  let p = msgidEnd + 1;
  // structured data: '-' or one or more [id k="v" ...]
  if (line.charCodeAt(p) === 45) {
    p++;
  } else {
    while (line.charCodeAt(p) === 91) {
      const end = sdElementEnd(line, p);
      if (end < 0) return false;
      p = end;
    }
  }
  if (p < line.length && line.charCodeAt(p) === 32) p++;
  if (line.charCodeAt(p) === 0xfeff) p++;
  if (!isNil(line, pos, timeEnd) && isoEnd(line, pos) === timeEnd) {
    b.timeFormat = TimeFormat.Iso;
    b.timeStart = pos;
    b.timeEnd = timeEnd;
  }
  if (!isNil(line, timeEnd + 1, hostEnd)) {
    b.hostStart = timeEnd + 1;
    b.hostEnd = hostEnd;
  }
  const appStart = hostEnd + 1;
  if (appEnd - appStart > MAX_TAG) {
    b.tag = line.slice(appStart, appEnd);
  } else if (!isNil(line, appStart, appEnd)) {
    // interned as a BSD line's tag is, so routing finds it by a hash it knows
    let hash = 0;
    for (let i = appStart; i < appEnd; i++) hash = (hash * 31 + line.charCodeAt(i)) | 0;
    b.tag = tagAt(line, appStart, appEnd, hash);
  }
  if (!isNil(line, appEnd + 1, procEnd)) {
    b.pidStart = appEnd + 1;
    b.pidEnd = procEnd;
  }
  setMessage(b, p);
  return true;
}

/** Whether line[start, end) is RFC 5424's NILVALUE `-` */
function isNil(line: string, start: number, end: number): boolean {
  return end - start === 1 && line.charCodeAt(start) === 45;
}

/**
 * The banner of a line whose bytes are at hand (`bytes[offset, offset + line.length)`, the line of an ASCII
 * chunk, followed by its newline or CR), read from the bytes when it has the commonest shape, which costs a
 * good deal less than reading the characters of a string.
 */
export function parseBanner(line: string, into?: Banner, bytes?: Uint8Array, offset = 0): Banner {
  let b: Banner;
  if (into === undefined) b = new Banner(line);
  else {
    b = into;
    b.reset(line);
  }
  if (bytes !== undefined && commonBanner(b, line, bytes, offset)) return b;
  let pos = 0;
  if (line.charCodeAt(0) === 60) {
    let i = 1;
    while (i < 5 && isDigit(line.charCodeAt(i))) i++;
    if (i > 1 && line.charCodeAt(i) === 62) {
      pos = i + 1;
      if (line.charCodeAt(pos) === 49 && line.charCodeAt(pos + 1) === 32) {
        if (rfc5424(b, line, pos + 2)) return b;
      }
    }
  } else if (line.charCodeAt(0) === 49 && line.charCodeAt(1) === 32 && isoEnd(line, 2) > 0) {
    // RFC 5424 as written to files without the PRI: `1 2026-05-01T10:00:00Z HOST APP ...`
    if (rfc5424(b, line, 2)) return b;
  }
  const c = line.charCodeAt(pos);
  let end = -1;
  if (c >= 65 && c <= 90) {
    end = monthDayClockEnd(line, pos);
    if (end > 0) b.timeFormat = TimeFormat.Bsd;
    else if ((end = ctimeEnd(line, pos)) > 0) b.timeFormat = TimeFormat.Ctime;
  } else if (isDigit(c)) {
    end = isoEnd(line, pos);
    if (end > 0) b.timeFormat = TimeFormat.Iso;
    else if ((end = bindEnd(line, pos)) > 0) b.timeFormat = TimeFormat.Bind;
  } else if (c === 64) {
    end = tai64nEnd(line, pos);
    if (end > 0) b.timeFormat = TimeFormat.Tai64n;
  }
  if (end > 0) {
    const next = skipSpace(line, end);
    if (next > 0) {
      b.timeStart = pos;
      b.timeEnd = end;
      afterTimestamp(b, line, next);
      return b;
    }
    b.timeFormat = TimeFormat.None;
  }
  noTimestamp(b, line, pos);
  return b;
}

/** Lines with no timestamp: `HOST TAG[PID]: MSG`, `TAG[PID]: MSG`, socklog `fac.lvl: ...`, or a bare message. */
function noTimestamp(b: Banner, line: string, pos: number): void {
  const sock = socklogPrefixEnd(line, pos, true);
  if (sock > 0) {
    const tag = innerTimeEnd(line, sock);
    if (scanTag(line, tag)) {
      takeTag(b, line, tag);
      return;
    }
  }
  if (scanTag(line, pos) && scannedPidStart >= 0) {
    takeTag(b, line, pos);
    return;
  }
  const space = line.indexOf(' ', pos);
  if (space > pos && space - pos <= 255 && line.charCodeAt(space - 1) !== 58) {
    if (scanTag(line, space + 1)) {
      b.hostStart = pos;
      b.hostEnd = space;
      if (scannedPidStart < 0) {
        b.guessed = true;
        b.wholeStart = pos;
      }
      takeTag(b, line, space + 1);
      return;
    }
    if (takeFacilityTag(b, line, pos, space)) return;
  }
  setMessage(b, pos);
}

/** monthDayClockEnd of bytes, at the line's start, for a time without a fraction (one with is left to the text's reading) */
function bsdTimeEndOfBytes(line: string, u: Uint8Array, o: number): number {
  if (monthAt(line, 0) < 0 || u[o + 3] !== 32) return -1;
  let p = 4;
  if (u[o + p] === 32) p++;
  if (!isDigit(u[o + p])) return -1;
  p += isDigit(u[o + p + 1]) ? 2 : 1;
  if (u[o + p] !== 32) return -1;
  return clockOfBytes(u, o + p + 1) ? p + 9 : -1;
}

/** Whether the bytes at `at` are `hh:mm:ss` */
function clockOfBytes(u: Uint8Array, at: number): boolean {
  return isDigit(u[at]) && isDigit(u[at + 1]) && u[at + 2] === 58 && isDigit(u[at + 3]) && isDigit(u[at + 4]) && u[at + 5] === 58 && isDigit(u[at + 6]) && isDigit(u[at + 7]);
}

/** isoEnd of bytes, at the line's start */
function isoEndOfBytes(u: Uint8Array, o: number): number {
  const date = isDigit(u[o]) && isDigit(u[o + 1]) && isDigit(u[o + 2]) && isDigit(u[o + 3]) && u[o + 4] === 45 && isDigit(u[o + 5]) && isDigit(u[o + 6]) && u[o + 7] === 45 && isDigit(u[o + 8]) && isDigit(u[o + 9]);
  if (!date) return -1;
  const sep = u[o + 10];
  if ((sep !== 84 && sep !== 32 && sep !== 95) || !clockOfBytes(u, o + 11)) return -1; // 'T', ' ', '_' (socklog)
  let end = 19;
  const dot = u[o + end];
  if (dot === 46 || dot === 44) {
    let j = end + 1;
    while (j - end <= 9 && isDigit(u[o + j])) j++;
    if (j > end + 1) end = j;
  }
  const z = u[o + end];
  if (z === 90) return end + 1;
  if (z === 43 || z === 45) {
    if (!(isDigit(u[o + end + 1]) && isDigit(u[o + end + 2]))) return -1;
    if (u[o + end + 3] === 58 && isDigit(u[o + end + 4]) && isDigit(u[o + end + 5])) return end + 6;
    if (isDigit(u[o + end + 3]) && isDigit(u[o + end + 4])) return end + 5;
    return end + 3;
  }
  return end;
}

/**
 * A BSD or ISO time, then `HOST TAG[PID]: ` or `HOST TAG: ` (most lines of a syslog), the host, tag and pid read
 * from the line's bytes at `o` (`line` is their text): true when the banner is filled in; false, with nothing
 * written, for any other shape, which the reading of the text then takes. It accepts only what that reading makes
 * of the same line, in the same way (test/parse/banner-bytes.test.ts holds the two equal): the host by hostEnd's
 * characters, the tag and pid by scanTag's rules. The byte after the line, its newline or CR, fails every check,
 * so no read goes past it.
 */
function commonBanner(b: Banner, line: string, u: Uint8Array, o: number): boolean {
  const c0 = u[o];
  let format: TimeFormat;
  let timeEnd: number;
  if (c0 >= 65 && c0 <= 90) {
    format = TimeFormat.Bsd;
    timeEnd = bsdTimeEndOfBytes(line, u, o);
  } else if (isDigit(c0)) {
    format = TimeFormat.Iso;
    timeEnd = isoEndOfBytes(u, o);
  } else return false;
  if (timeEnd < 0 || u[o + timeEnd] !== 32) return false;
  const n = line.length;
  // `HOST ` (as hostEnd: not empty, not ending with ':', at most 256 characters)
  const hostStart = timeEnd + 1;
  const hostLimit = Math.min(n, hostStart + 256);
  let p = hostStart;
  while (p < hostLimit && isHostChar(u[o + p])) p++;
  if (p === hostStart || p === hostLimit || u[o + p] !== 32 || u[o + p - 1] === 58) return false;
  const host = p;
  // `TAG` (as scanTag, with its hash)
  const tagStart = host + 1;
  const tagLimit = Math.min(n, tagStart + MAX_TAG);
  let hash = 0;
  p = tagStart;
  while (p < tagLimit) {
    const c = u[o + p];
    if (c === 91 || c === 58 || c === 32) break;
    hash = (hash * 31 + c) | 0;
    p++;
  }
  if (p === tagStart || p >= n) return false;
  const tagEnd = p;
  let c = u[o + p];
  let pidStart = -1;
  let pidEnd = -1;
  let msgStart: number;
  if (c === 91) {
    let close = p + 1;
    while (close - p <= 10 && isDigit(u[o + close])) close++;
    if (close === p + 1 || u[o + close] !== 93) return false;
    pidStart = p + 1;
    pidEnd = close;
    p = close + 1;
    c = u[o + p];
  }
  if (c === 32 && pidStart >= 0) {
    msgStart = p + 1; // ProFTPD's `TAG[PID] MSG`
  } else {
    if (c !== 58) return false;
    p++;
    if (u[o + p] === 32) p++;
    else if (p < n) return false;
    if (u[o + p] === 91) return false; // perhaps a Solaris message id
    msgStart = p;
  }
  b.timeFormat = format;
  b.timeStart = 0;
  b.timeEnd = timeEnd;
  b.hostStart = hostStart;
  b.hostEnd = host;
  b.tag = tagOfBytes(line, u, o, tagStart, tagEnd, hash);
  b.pidStart = pidStart;
  b.pidEnd = pidEnd;
  setMessage(b, msgStart);
  return true;
}
