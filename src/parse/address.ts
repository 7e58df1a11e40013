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
  const groups = [0, 0, 0, 0, 0, 0, 0, 0];
  return readIPv6(s, groups) ? groups : null;
}

/**
 * Reads IPv6 text into `groups` (eight zeros on entry): the groups before a `::` go to the front, those after
 * it are shifted to the back at the end. False when the text is no IPv6 address.
 */
function readIPv6(s: string, groups: number[]): boolean {
  const n = s.length;
  if (n < 2 || n > 45) return false;
  let count = 0;
  /** Where `::` stands among the groups read, -1 when none */
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    if (n === 2) return true;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let j = i;
    let value = 0;
    while (j < n && j - i < 5) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    if (j < n && s.charCodeAt(j) === 46) {
      // dotted IPv4 tail: only as the last element
      const octets = parseIPv4Octets(s, i, n);
      if (!octets || count > 6) return false;
      groups[count++] = (octets[0] << 8) | octets[1];
      groups[count++] = (octets[2] << 8) | octets[3];
      break;
    }
    const groupLength = j - i;
    if (groupLength === 0 || groupLength > 4 || count === 8) return false;
    groups[count++] = value;
    if (j === n) break;
    if (s.charCodeAt(j) !== 58) return false;
    if (j + 1 < n && s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === n) return false; // trailing single colon
    }
  }
  if (gap < 0) return count === 8;
  if (count > 7) return false;
  // move the groups after `::` to the end, zeros in between
  const shift = 8 - count;
  for (let k = count - 1; k >= gap; k--) {
    groups[k + shift] = groups[k];
    groups[k] = 0;
  }
  return true;
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
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (text.length > 0 && i !== bestStart + bestLength) text += ':';
    text += groups[i].toString(16);
  }
  return text;
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
    const groups = [0, 0, 0, 0, 0, 0, 0, 0];
    if (!readIPv6(s, groups)) return null;
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
