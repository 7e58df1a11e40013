/**
 * Log lines are the client's words, up to 16 KiB: in the daemon's own log records they are cut, so that a record
 * stays one small write (with --user two processes share stdout, and journald splits a stdout line longer than its
 * LineMax into several, which no longer parse as JSON). The whole line is kept in the store's evidence (`explain`).
 */
export const EXCERPT_CHARS = 300;

export function excerpt(text: string, max = EXCERPT_CHARS): string {
  if (text.length <= max) return text;
  // never half of a surrogate pair
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length} characters; the whole line: logwarden explain ADDR)`;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
