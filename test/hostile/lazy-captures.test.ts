// A rule may capture a client field lazily (`.{0,400}?`) only where that picks the same split as greedy would:
// the text after the field is strict and anchored at the end, so one split alone reaches the end of the line,
// and the lazy scan just finds it from the left (cheaper). This checks it for every rule with a lazy field: its
// hostile templates filled with injections and random mixes of the fields' own delimiters must give the very
// same match, groups and all, under the pattern and under its greedy twin.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBanner } from '../../src/parse/banner.js';
import { INJECTIONS } from './injection.js';
import { rules } from './fuzz.js';

/** The pattern with every lazy bounded quantifier made greedy (`{m,n}?` → `{m,n}`), outside character classes */
function greedyTwin(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      out += c + source[++i];
      continue;
    }
    if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '{') {
      const quantifier = /^\{\d+(?:,\d*)?\}/.exec(source.slice(i));
      if (quantifier !== null) {
        out += quantifier[0];
        i += quantifier[0].length - 1;
        if (source[i + 1] === '?') i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/**
 * Rules whose lazy field is meant to take the first split, as client text follows it too (docs/rules.md: client
 * text on both sides); their own negative lookaheads keep a second candidate split from existing at all
 */
const LAZY_BY_DESIGN = new Set([
  'mssql-login-failed', // the database name, after the user, is the client's too
  'proxmox-auth-failure', 'proxmox-backup-auth-failure', // the free `msg=` after the user
  'roundcube-imap-login-failed', // X-Real-IP and the request, after the address
  'web-lighttpd-auth', // `,?` before ` IP:`: the comma goes to the user under greedy
]);

const lazyRules = rules.filter((r) => greedyTwin(r.regex.source) !== r.regex.source && !LAZY_BY_DESIGN.has(r.id));

/** Pieces of the delimiters that the bundled lazy fields stop at, and of the tails after them */
const PIECES = [' from ', ' port ', ' ', '22', '51006', ' ssh2', ': ', '>, ', '>', 'user=<', 'rip=', ', ', '[preauth]', ' [preauth]',
  'invalid user ', '198.51.100.9', '2001:db8::9', 'x', 'from', 'port', ': ruser ', 'session=<a>', ', TLS'];

function same(a: RegExpExecArray | null, b: RegExpExecArray | null): boolean {
  if (a === null || b === null) return a === b;
  return a.index === b.index && a.length === b.length && a.every((g, k) => g === b[k]);
}

describe('lazy client fields', () => {
  it('are found in the bundled rules (the check below sees something)', () => {
    expect(lazyRules.map((r) => r.id)).toEqual(expect.arrayContaining(['ssh-failed-password', 'ssh-invalid-user', 'dovecot-login']));
  });

  it('greedyTwin turns lazy bounded quantifiers greedy, and nothing else', () => {
    expect(greedyTwin('a(.{0,4}?) b{1,2}? c{3}? [x{1}?] \\{0,1}? \\\\{2}? (?:c)??')).toBe('a(.{0,4}) b{1,2} c{3} [x{1}?] \\{0,1}? \\\\{2} (?:c)??');
  });

  describe.each(lazyRules.map((r) => [r.id, r] as const))('%s', (_id, rule) => {
    const lazy = new RegExp(rule.regex.source, rule.regex.flags);
    const greedy = new RegExp(greedyTwin(rule.regex.source), rule.regex.flags);
    // the message after the syslog banner, as the rule sees it
    const messages = (rule.examples.hostile ?? []).map((h) => parseBanner(h.line).msg);

    it('splits filled templates as its greedy twin does', () => {
      for (const message of messages) {
        for (const text of INJECTIONS) {
          for (const filled of [text, `admin${text}`, `${text}admin`]) {
            const line = message.replaceAll('%U%', filled);
            expect(same(lazy.exec(line), greedy.exec(line)), line).toBe(true);
          }
        }
      }
    });

    it('splits random mixes of delimiters as its greedy twin does', () => {
      fc.assert(
        fc.property(fc.constantFrom(...messages), fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }), (message, pieces) => {
          const line = message.replaceAll('%U%', pieces.join(''));
          return same(lazy.exec(line), greedy.exec(line));
        }),
        { numRuns: 2000 },
      );
    });
  });
});
