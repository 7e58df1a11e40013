/**
 * Address validation and canonical forms. Only what passes here can ever reach a firewall command,
 * so the parsers are strict and hand-written (no regex, no DNS).
 */

export type AddressKind = 4 | 6;

export type ParsedAddress =
  | { addr: string; kind: AddressKind }
  | { hostname: string };

/** Parses dotted-quad IPv4 without leading zeros (which some tools read as octal). */
export function parseIPv4Octets(s: string, start = 0, end = s.length): number[] | null {
  const octets: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 46; // a virtual '.' closes the last octet
    if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return null;
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return null;
    } else if (c === 46) {
      if (digits === 0 || octets.length === 4) return null;
      octets.push(value);
      value = 0;
      digits = 0;
    } else {
      return null;
    }
  }
  return octets.length === 4 ? octets : null;
}

/** Parses an IPv6 address into eight 16-bit groups (embedded IPv4 tail allowed). */
export function parseIPv6Groups(s: string): number[] | null {
  if (s.length < 2 || s.length > 45) return null;
  const head: number[] = [];
  const tail: number[] = [];
  let current = head;
  let seenDoubleColon = false;
  let i = 0;
  if (s.startsWith('::')) {
    seenDoubleColon = true;
    current = tail;
    i = 2;
    if (s.length === 2) return [0, 0, 0, 0, 0, 0, 0, 0];
  } else if (s.charCodeAt(0) === 58) {
    return null;
  }
  while (i < s.length) {
    let j = i;
    let value = 0;
    while (j < s.length && j - i < 5) {
      const c = s.charCodeAt(j);
      const h = hexValue(c);
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    const groupLength = j - i;
    if (j < s.length && s.charCodeAt(j) === 46) {
      // dotted IPv4 tail: only as the last element
      const octets = parseIPv4Octets(s, i, s.length);
      if (!octets) return null;
      current.push((octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]);
      i = s.length;
      break;
    }
    if (groupLength === 0 || groupLength > 4) return null;
    current.push(value);
    if (j === s.length) {
      i = j;
      break;
    }
    if (s.charCodeAt(j) !== 58) return null;
    if (j + 1 < s.length && s.charCodeAt(j + 1) === 58) {
      if (seenDoubleColon) return null;
      seenDoubleColon = true;
      current = tail;
      i = j + 2;
      if (i === s.length) break;
    } else {
      i = j + 1;
      if (i === s.length) return null; // trailing single colon
    }
  }
  const total = head.length + tail.length;
  if (seenDoubleColon) {
    if (total > 7) return null;
    return [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  }
  return total === 8 ? head : null;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero groups as '::'. */
export function formatIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

function isIPv4Mapped(groups: number[]): boolean {
  return (
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff
  );
}

const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function isHostname(s: string): boolean {
  if (s.length > 253) return false;
  const labels = (s.endsWith('.') ? s.slice(0, -1) : s).split('.');
  for (const label of labels) if (!HOSTNAME_LABEL.test(label)) return false;
  // an all-numeric last label is a broken address, not a name
  return /[a-z]/.test(labels[labels.length - 1]);
}

/**
 * Canonicalises an address as it appears in a log: IPv4, IPv6 (with or without brackets and %zone),
 * IPv4-mapped IPv6 (reported as IPv4), or a hostname (reported as such, never resolved here).
 */
export function parseAddress(text: string): ParsedAddress | null {
  let s = text;
  if (s.length === 0 || s.length > 255) return null;
  if (s.charCodeAt(0) === 91 && s.charCodeAt(s.length - 1) === 93) s = s.slice(1, -1);
  const first = s.charCodeAt(0);
  if (first >= 48 && first <= 57 && s.indexOf(':') < 0) {
    // a fresh string: a slice of the log line would keep the whole read chunk alive as long as the address
    const o = parseIPv4Octets(s);
    if (o) return { addr: `${o[0]}.${o[1]}.${o[2]}.${o[3]}`, kind: 4 };
  }
  if (s.indexOf(':') >= 0) {
    const zone = s.indexOf('%');
    if (zone >= 0) s = s.slice(0, zone);
    const groups = parseIPv6Groups(s);
    if (!groups) return null;
    if (isIPv4Mapped(groups)) {
      return { addr: `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`, kind: 4 };
    }
    return { addr: formatIPv6(groups), kind: 6 };
  }
  const lower = s.toLowerCase();
  return isHostname(lower) ? { hostname: lower.endsWith('.') ? lower.slice(0, -1) : lower } : null;
}

/** The canonical form of an IP address, or null when `text` is not exactly one address. */
export function canonicalIP(text: string): { addr: string; kind: AddressKind } | null {
  const parsed = parseAddress(text);
  return parsed && 'addr' in parsed ? parsed : null;
}
