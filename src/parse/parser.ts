/**
 * The per-line, stateless parser: banner → route by program tag → literal pre-filter → regex → address.
 */
import { parseAddress, type AddressKind, type ParsedAddress } from './address.js';
import { Banner, parseBanner } from './banner.js';
import type { CompiledRule, CorrelationRole, EventType } from './rules.js';

export interface ParsedEvent {
  event: EventType;
  service: number;
  rule: string;
  /** What the line takes part in when attempts are correlated (from the rule's data) */
  correlation: CorrelationRole | null;
  /** The rule's daemon forks one process per connection: host+program+pid names the connection */
  connectionPerPid: boolean;
  danger: number;
  /**
   * Canonical IP address, or a hostname when kind is null (never resolved on this path); '' for a line that
   * names only its session (the session's `connect` line gives the address)
   */
  addr: string;
  kind: AddressKind | null;
  user: string | null;
  /** The daemon's session id, for daemons that write the client's address only on a session's first line */
  session: string | null;
  /** How many identical events the line stands for (`message repeated N times`) */
  count: number;
  banner: Banner;
}

/** A log entry whose parts come as fields (journald's), not as one line of text */
export interface JournalRecord {
  /** SYSLOG_IDENTIFIER (the program tag), null when absent */
  tag: string | null;
  /** _PID */
  pid: number | null;
  /** _HOSTNAME */
  host: string | null;
  /** MESSAGE */
  message: string;
  /** The entry's time, ms since the epoch */
  time: number;
}

/**
 * Programs whose lines never report a remote peer's failure. Lines tagged with them skip every rule,
 * which keeps the bulk of a busy syslog cheap; lines of other unknown programs try all rules.
 */
const QUIET_PROGRAMS = new Set([
  'kernel', 'CRON', 'cron', 'crond', 'anacron', 'systemd', 'systemd-logind', 'systemd-journald', 'systemd-resolved',
  'systemd-timesyncd', 'systemd-networkd', 'systemd-udevd', 'rsyslogd', 'syslog-ng', 'dbus-daemon', 'dbus-broker',
  'NetworkManager', 'dhclient', 'dhcpcd', 'chronyd', 'ntpd', 'sudo', 'su', 'snapd', 'containerd', 'dockerd',
  'polkitd', 'udisksd', 'avahi-daemon', 'smartd', 'multipathd', 'irqbalance', 'thermald', 'logrotate', 'freshclam',
  'unattended-upgrade', 'apt', 'tailscaled', 'zed', 'lvm', 'mdadm', 'audit', 'auditd',
]);

/** Tags cached per routing decision; bounded because tags of untagged input can be arbitrary. */
const ROUTE_CACHE_LIMIT = 4096;
/** Canonical addresses remembered by their text: an attack names the same few addresses again and again */
const ADDRESS_CACHE_LIMIT = 4096;

/**
 * The rules of one route indexed by the first character of their `startsWith` pre-filter, so a line is
 * compared only with the rules that can match it, and only with their prefixes that start with its first
 * character. Each list keeps the file order, and `contains`-only rules (which can match whatever the first
 * character) are in every list.
 */
interface Dispatch {
  byFirstChar: (Candidate[] | undefined)[];
  anyFirstChar: Candidate[];
  /** For a route with many `contains`-only rules: which of their needles a line holds, found in one pass */
  gate: NeedleGate | null;
}

/**
 * Below this many `contains`-only rules, a route's needles are looked for one by one: measured on the benchmark
 * corpus in alternated runs, the web route (16 such rules) is faster gated (wall -5 %, 10 pairs of 12 faster),
 * though it executes 1.5 % more instructions a line; routes of 5 or 7 (dovecot, exim) were not measured gated
 */
const GATE_MIN_RULES = 8;

/**
 * One needle of each `contains`-only rule of a route, found by a single pass over the message that looks
 * up each pair of adjacent characters: a line of an unknown program meets dozens of such rules, and
 * searching the message for each needle in turn cost microseconds a line.
 */
class NeedleGate {
  readonly needles: string[] = [];
  /** Needle indexes by a hash of their first two characters */
  private readonly byPair: (number[] | undefined)[] = new Array(4096).fill(undefined);
  /** found[i] === line: needle i is in the message of the line with that serial number */
  private readonly found: Float64Array;
  private line = 0;

  constructor(needles: string[]) {
    for (const needle of needles) {
      if (this.needles.includes(needle)) continue;
      const index = this.needles.push(needle) - 1;
      const pair = pairHash(needle.charCodeAt(0), needle.charCodeAt(1));
      (this.byPair[pair] ??= []).push(index);
    }
    this.found = new Float64Array(this.needles.length);
  }

  indexOf(needle: string): number {
    return this.needles.indexOf(needle);
  }

  /** Finds which needles line[start, end) holds, for `has` until the next call. */
  scan(line: string, start: number, end: number): void {
    const serial = ++this.line;
    const { byPair, needles, found } = this;
    let previous = line.charCodeAt(start);
    for (let i = start + 1; i < end; i++) {
      const c = line.charCodeAt(i);
      const list = byPair[pairHash(previous, c)];
      previous = c;
      if (list === undefined) continue;
      for (let k = 0; k < list.length; k++) {
        const n = list[k];
        const needle = needles[n];
        if (found[n] !== serial && i - 1 + needle.length <= end && line.startsWith(needle, i - 1)) found[n] = serial;
      }
    }
  }

  has(index: number): boolean {
    return this.found[index] === this.line;
  }
}

function pairHash(a: number, b: number): number {
  return ((a & 63) << 6) | (b & 63);
}

interface Candidate {
  rule: CompiledRule;
  /** The rule's prefixes that can match here; null for a rule without any (it has `contains`) */
  prefixes: readonly string[] | null;
  /**
   * Per prefix, two positions in it and the characters there, compared before anything else: where it differs
   * from most of the other prefixes of its list (`Failed pa`ssword against `Failed pu`blickey), and its last
   * character but a space, since the other messages of a daemon share the first words of its prefixes
   * (`pam_unix(sshd:auth): check pass` against `pam_unix(sshd:auth): authentication failure;`). A line meant
   * for another rule then costs two character reads, not a regex run.
   */
  probeAt: readonly number[];
  probeChar: readonly number[];
  lastAt: readonly number[];
  lastChar: readonly number[];
  /** For a `contains`-only rule of a gated route: the index of its needle in the gate, else -1 */
  needle: number;
}

/** The probes of a rule without prefixes (most of a route's candidates): shared, never written to */
const NO_PROBES: readonly number[] = Object.freeze([]);

function buildDispatch(rules: readonly CompiledRule[]): Dispatch {
  const containsOnly = rules.filter((r) => r.startsWith === null);
  // each rule's longest needle, as the likeliest to be rare (a pair of characters must start it)
  const keyNeedle = (r: CompiledRule) => r.contains.reduce((a, b) => (b.length > a.length ? b : a));
  const gate = containsOnly.length >= GATE_MIN_RULES && containsOnly.every((r) => keyNeedle(r).length >= 2)
    ? new NeedleGate(containsOnly.map(keyNeedle))
    : null;
  // a `contains`-only rule is the same candidate in every list: made once
  const shared = new Map<CompiledRule, Candidate>();
  for (const rule of containsOnly) {
    const needle = gate !== null ? gate.indexOf(keyNeedle(rule)) : -1;
    shared.set(rule, { rule, prefixes: null, probeAt: NO_PROBES, probeChar: NO_PROBES, lastAt: NO_PROBES, lastChar: NO_PROBES, needle });
  }
  /** A rule's candidate in a list whose prefixes are `others` (a prefix compared with itself counts for none) */
  const candidate = (rule: CompiledRule, prefixes: readonly string[] | null, others: readonly string[]): Candidate => {
    if (prefixes === null) return shared.get(rule)!;
    const probeAt = prefixes.map((p) => probePosition(p, others));
    const lastAt = prefixes.map(lastPosition);
    return {
      rule,
      prefixes,
      probeAt,
      probeChar: probeAt.map((at, k) => prefixes[k].charCodeAt(at)),
      lastAt,
      lastChar: lastAt.map((at, k) => prefixes[k].charCodeAt(at)),
      needle: -1,
    };
  };
  const anyRules = rules.filter((r) => r.startsWith === null || r.startsWith.some((p) => p.charCodeAt(0) >= 128));
  const anyPrefixes = anyRules.flatMap((r) => r.startsWith ?? []);
  const anyFirstChar = anyRules.map((rule) => candidate(rule, rule.startsWith, anyPrefixes));
  // the prefixes by their first character, for the characters that start some
  const prefixesByChar = new Map<number, string[]>();
  for (const rule of rules) {
    for (const p of rule.startsWith ?? []) {
      const c = p.charCodeAt(0);
      if (c >= 128) continue;
      const list = prefixesByChar.get(c);
      if (list === undefined) prefixesByChar.set(c, [p]);
      else list.push(p);
    }
  }
  const byFirstChar: (Candidate[] | undefined)[] = new Array(128).fill(undefined);
  for (const [c, prefixes] of prefixesByChar) {
    // a line starting with c (< 128) can only meet the prefixes that start with c
    const starts = (p: string) => p.charCodeAt(0) === c;
    byFirstChar[c] = rules
      .filter((r) => r.startsWith === null || r.startsWith.some(starts))
      .map((r) => candidate(r, r.startsWith === null ? null : r.startsWith.filter(starts), prefixes));
  }
  return { byFirstChar, anyFirstChar, gate };
}

/**
 * The position in `prefix` (after its first character, which the dispatch has read already) whose character
 * differs from that of the most `others`; the first such position on a tie.
 */
export function probePosition(prefix: string, others: readonly string[]): number {
  if (prefix.length === 1) return 0;
  let best = 1;
  let bestCount = -1;
  for (let at = 1; at < prefix.length; at++) {
    const c = prefix.charCodeAt(at);
    let count = 0;
    for (const other of others) if (at < other.length && other.charCodeAt(at) !== c) count++;
    if (count > bestCount) {
      best = at;
      bestCount = count;
    }
  }
  return best;
}

/** The position of the last character of `prefix` that is not a space (its last when all are). */
function lastPosition(prefix: string): number {
  let at = prefix.length - 1;
  while (at > 0 && prefix.charCodeAt(at) === 32) at--;
  return at;
}

export class Parser {
  readonly rules: readonly CompiledRule[];
  private readonly exact = new Map<string, CompiledRule[]>();
  private readonly prefixes: { prefix: string; rules: CompiledRule[] }[] = [];
  /** Rules for every program (`*`): after a known program's own rules, so they never hide them */
  private readonly everywhere: CompiledRule[] = [];
  private readonly cache = new Map<string, Dispatch | null>();
  /**
   * One dispatch per distinct list of rules, shared by every tag routed to it: tags are the client's words on
   * untagged input and a flood of invented ones (postfix/x1, postfix/x2...) would each build one (32 MB for 20,000)
   */
  private readonly dispatches = new Map<string, Dispatch>();
  private readonly all: Dispatch;
  private readonly none: Dispatch = buildDispatch([]);
  /** Lines without an event are scanned into this one banner; an event gets a copy of its own */
  private readonly scratch = new Banner('');
  private keepBanner = true;
  private readonly addresses = new Map<string, ParsedAddress & { addr: string }>();

  constructor(rules: readonly CompiledRule[]) {
    this.rules = rules;
    // lines of unknown programs (or none) meet every rule but those that need their own program's tag
    this.all = buildDispatch(rules.filter((r) => !r.ownProgramsOnly));
    for (const rule of rules) {
      for (const program of rule.programs) {
        if (program === '*') {
          this.everywhere.push(rule);
        } else if (program.endsWith('/*')) {
          const prefix = program.slice(0, -1);
          let entry = this.prefixes.find((p) => p.prefix === prefix);
          if (!entry) this.prefixes.push((entry = { prefix, rules: [] }));
          entry.rules.push(rule);
        } else {
          const list = this.exact.get(program);
          if (list) list.push(rule);
          else this.exact.set(program, [rule]);
        }
      }
    }
  }

  /** The rules for a program tag: its own, none for quiet programs, null (= unknown program) otherwise. */
  route(tag: string): CompiledRule[] | null {
    let rules = this.exact.get(tag) ?? null;
    if (rules === null) {
      for (const { prefix, rules: list } of this.prefixes) {
        if (tag.startsWith(prefix)) rules = rules ? [...rules, ...list] : list;
      }
    }
    if (rules === null) return QUIET_PROGRAMS.has(tag) ? [] : null;
    return this.everywhere.length === 0 ? rules : [...rules, ...this.everywhere.filter((r) => !rules!.includes(r))];
  }

  private dispatchFor(tag: string): Dispatch | null {
    let dispatch = this.cache.get(tag);
    if (dispatch !== undefined) return dispatch;
    const rules = this.route(tag);
    dispatch = rules === null ? null : rules.length === 0 ? this.none : this.dispatchOf(rules);
    if (this.cache.size < ROUTE_CACHE_LIMIT) this.cache.set(tag, dispatch);
    return dispatch;
  }

  private dispatchOf(rules: readonly CompiledRule[]): Dispatch {
    const key = rules.map((r) => r.id).join(' ');
    let dispatch = this.dispatches.get(key);
    if (dispatch === undefined) {
      dispatch = buildDispatch(rules);
      this.dispatches.set(key, dispatch);
    }
    return dispatch;
  }

  /**
   * Parses one line; returns its event or null. Never throws on any input. With `keepBanner` false the
   * event's banner is the parser's own scratch one, valid only until the next call (for callers that use the
   * event at once and keep nothing: no copy to make). `bytes` and `offset`: the line's bytes, when they are at
   * hand (see parseBanner).
   */
  parse(line: string, keepBanner = true, bytes?: Uint8Array, offset?: number): ParsedEvent | null {
    this.keepBanner = keepBanner;
    const banner = parseBanner(line, this.scratch, bytes, offset);
    if (banner.tag !== null) {
      const dispatch = this.dispatchFor(banner.tag);
      if (dispatch !== null) return this.match(dispatch, banner);
      // `WORD WORD: text` with no time and no pid was a bare message after all
      if (banner.guessed) banner.unguess();
      return this.match(this.all, banner);
    }
    const event = this.match(this.all, banner);
    if (event !== null || !banner.guessed) return event;
    // `TIME WORD MSG`: WORD was not a host but the message's first word
    banner.unguess();
    return this.match(this.all, banner);
  }

  /**
   * Parses a structured entry (a journal entry's SYSLOG_IDENTIFIER, _PID, _HOSTNAME, MESSAGE and time): routed
   * by its own tag, its message matched as it is, with no banner to scan. A message is one message whatever
   * it contains: a newline in it never starts a line of its own (patterns match across it, and are anchored
   * at the message's end), so text after it cannot pass for another entry.
   */
  parseRecord(record: JournalRecord): ParsedEvent | null {
    const banner = Banner.ofRecord(record.tag, record.pid, record.host, record.message, record.time);
    // a trailing newline ends the message, as the end of a syslog line does
    const line = banner.line;
    let end = line.length;
    while (end > 0 && (line.charCodeAt(end - 1) === 10 || isBlank(line.charCodeAt(end - 1)))) end--;
    banner.msgEnd = end;
    this.keepBanner = false; // the banner is the event's own already
    const dispatch = record.tag === null ? this.all : this.dispatchFor(record.tag) ?? this.all;
    return this.match(dispatch, banner);
  }

  private match(dispatch: Dispatch, banner: Banner): ParsedEvent | null {
    if (dispatch === this.none) return null;
    // pre-filters read the line in place: the message is cut out only for a line that reaches a regex
    const { line, msgStart } = banner;
    // daemons end some lines with blanks (pam_unix's `rhost=ADDR `): patterns anchored at the end see none
    let msgEnd = banner.msgEnd;
    while (msgEnd > msgStart && isBlank(line.charCodeAt(msgEnd - 1))) msgEnd--;
    banner.msgEnd = msgEnd;
    const first = msgStart < msgEnd ? line.charCodeAt(msgStart) : 0;
    const candidates = (first < 128 ? dispatch.byFirstChar[first] : undefined) ?? dispatch.anyFirstChar;
    let msg: string | null = null;
    let scanned = false;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i];
      const { rule, prefixes, needle } = candidate;
      // a message that runs to the end of the line is matched in place, by a sticky pattern that may check the prefixes itself
      const inPlace = rule.sticky !== null && msgEnd === line.length;
      if (prefixes !== null) {
        const passes = inPlace && rule.stickyChecksPrefixes
          ? probesMatch(line, msgStart, msgEnd, prefixes, candidate)
          : startsWithAny(line, msgStart, msgEnd, prefixes, candidate);
        if (!passes) continue;
      }
      if (needle >= 0) {
        const gate = dispatch.gate!;
        if (!scanned) {
          gate.scan(line, msgStart, msgEnd);
          scanned = true;
        }
        if (!gate.has(needle)) continue;
      }
      if (rule.contains.length > 0 && !containsAll(line, msgStart, msgEnd, rule.contains)) continue;
      let m: RegExpExecArray | null;
      if (inPlace) {
        rule.sticky!.lastIndex = msgStart;
        m = rule.sticky!.exec(line);
      } else {
        if (msg === null) msg = banner.msg;
        m = rule.plain.exec(msg);
      }
      if (m === null) continue;
      const { groups } = rule;
      const addr = groups.addr === 0 ? undefined : m[groups.addr];
      const address = addr === undefined ? SESSION_ONLY : this.address(addr);
      if (address === null) continue;
      const resolved = 'addr' in address;
      return {
        event: rule.event,
        service: (rule.serviceCodes !== null && rule.serviceCodes.get(m[groups.service])) || rule.service,
        rule: rule.id,
        correlation: rule.correlation,
        connectionPerPid: rule.connectionPerPid,
        danger: rule.danger,
        addr: resolved ? address.addr : address.hostname,
        kind: resolved ? address.kind : null,
        user: (groups.user === 0 ? undefined : m[groups.user]) ?? null,
        session: (groups.session === 0 ? undefined : m[groups.session]) ?? null,
        count: banner.repeat,
        banner: this.keepBanner ? banner.clone() : banner,
      };
    }
    return null;
  }

  /** parseAddress, remembered for addresses written in their canonical form (nearly all of them). */
  private address(text: string): ParsedAddress | null {
    const known = this.addresses.get(text);
    if (known !== undefined) return known;
    const parsed = parseAddress(text);
    // the key is the canonical text, a string of its own: `text` may be a slice that keeps the line alive
    if (parsed !== null && 'addr' in parsed && parsed.addr === text) {
      if (this.addresses.size >= ADDRESS_CACHE_LIMIT) this.addresses.clear();
      this.addresses.set(parsed.addr, parsed);
    }
    return parsed;
  }
}

/**
 * A line that names its client by host name or session only, attributed to the address another line of its
 * connection gives (`by`); unchanged when there is nothing to attribute.
 */
export function attributed(event: ParsedEvent, by: { addr: string; kind: AddressKind | null } | undefined): ParsedEvent {
  if (by === undefined || event.kind !== null || by.kind === null) return event;
  return { ...event, addr: by.addr, kind: by.kind };
}

/** What a line that names only its session has for an address */
const SESSION_ONLY = { hostname: '' } as const;

/** Space, tab, CR, and the vertical blanks some writers leave */
function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}

/** Whether line[start, end) may start with the prefix `k` of a candidate: long enough, with its probed characters. */
function probed(line: string, start: number, end: number, prefix: string, probes: Candidate, k: number): boolean {
  return (
    start + prefix.length <= end &&
    line.charCodeAt(start + probes.probeAt[k]) === probes.probeChar[k] &&
    line.charCodeAt(start + probes.lastAt[k]) === probes.lastChar[k]
  );
}

/** Whether line[start, end) may start with one of the prefixes (a cheap first test; a sticky pattern checks the rest). */
function probesMatch(line: string, start: number, end: number, prefixes: readonly string[], probes: Candidate): boolean {
  for (let k = 0; k < prefixes.length; k++) if (probed(line, start, end, prefixes[k], probes, k)) return true;
  return false;
}

/** Whether line[start, end) starts with one of the prefixes. */
function startsWithAny(line: string, start: number, end: number, prefixes: readonly string[], probes: Candidate): boolean {
  for (let k = 0; k < prefixes.length; k++) {
    if (probed(line, start, end, prefixes[k], probes, k) && line.startsWith(prefixes[k], start)) return true;
  }
  return false;
}

/** Whether line[start, end) contains every needle. */
function containsAll(line: string, start: number, end: number, needles: readonly string[]): boolean {
  for (let i = 0; i < needles.length; i++) {
    const at = line.indexOf(needles[i], start);
    if (at < 0 || at + needles[i].length > end) return false;
  }
  return true;
}
