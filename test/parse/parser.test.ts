import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Parser, probePosition } from '../../src/parse/parser.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRules } from '../../src/parse/rules.js';

const rules = loadRules();
const parser = new Parser(rules);
const REAL = '203.0.113.5';
const FAKE = '198.51.100.9';

function ruleFile(service: number, programs: string[], rule: Record<string, unknown>) {
  return { service, name: `s${service}`, programs, rules: [{ description: 'test', origin: 'logwarden', examples: { match: [{ line: 'x', addr: '192.0.2.1' }], ignore: [] }, ...rule }] };
}

describe('routing by program tag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-rules-'));
  writeFileSync(join(dir, 'a.json'), JSON.stringify(ruleFile(200, ['imapd'], { id: 'a-login', startsWith: 'Login failed ', pattern: '^Login failed \\[%ADDR%\\]$' })));
  writeFileSync(join(dir, 'b.json'), JSON.stringify(ruleFile(220, ['cyrus/*'], { id: 'b-badlogin', startsWith: 'badlogin: ', pattern: '^badlogin: \\[%ADDR%\\]$' })));
  writeFileSync(join(dir, 'c.json'), JSON.stringify(ruleFile(990, ['*'], { id: 'c-generic', startsWith: 'pam(', pattern: '^pam\\((?<service>\\w+)\\) rhost=%ADDR%$', serviceCodes: { imap: 200 } })));
  writeFileSync(join(dir, 'd.json'), JSON.stringify(ruleFile(100, ['sshd'], { id: 'd-shared', startsWith: 'auth failure ', pattern: '^auth failure %ADDR%$', ownProgramsOnly: true })));
  const p = new Parser(loadRules(dir));

  it('tries rules for every program (`*`) after a known program\'s own, with the service the message names', () => {
    expect(p.parse('May  1 10:00:00 web imapd[1]: pam(imap) rhost=192.0.2.7')).toMatchObject({ rule: 'c-generic', service: 200 });
    expect(p.parse('May  1 10:00:00 web imapd[1]: pam(smtp) rhost=192.0.2.7')).toMatchObject({ rule: 'c-generic', service: 990 });
    expect(p.parse('May  1 10:00:00 web imapd[1]: Login failed [192.0.2.7]')?.rule).toBe('a-login');
    expect(p.parse('May  1 10:00:00 web imapd[1]: badlogin: [192.0.2.7]')).toBeNull();
    expect(p.parse('May  1 10:00:00 web cyrus/imap[1]: badlogin: [192.0.2.7]')?.rule).toBe('b-badlogin');
  });

  it('keeps a rule of shared wording to its own programs: an unknown or missing tag is not blamed on it', () => {
    expect(p.parse('May  1 10:00:00 web sshd[1]: auth failure 192.0.2.7')?.rule).toBe('d-shared');
    expect(p.parse('May  1 10:00:00 web myapp[1]: auth failure 192.0.2.7')).toBeNull();
    expect(p.parse('auth failure 192.0.2.7')).toBeNull();
  });
});

describe('routing', () => {
  it('gives lines of quiet programs no rule at all', () => {
    expect(parser.route('kernel')).toEqual([]);
    expect(parser.parse('May  1 10:00:00 web CRON[9]: Invalid user admin from 203.0.113.5 port 22')).toBeNull();
  });

  it('tries every rule for unknown programs and untagged lines', () => {
    expect(parser.route('my-sshd-wrapper')).toBeNull();
    expect(parser.parse('May  1 10:00:00 web my-sshd-wrapper[9]: Invalid user admin from 203.0.113.5 port 22')?.rule).toBe('ssh-invalid-user');
    expect(parser.parse('Invalid user admin from 203.0.113.5 port 22')?.rule).toBe('ssh-invalid-user');
  });

  it('reads `WORD WORD: text` without time or pid as a bare message unless WORD is a known program', () => {
    const event = parser.parse('error: PAM: Authentication failure for root from 203.0.113.5');
    expect(event?.rule).toBe('ssh-pam-error');
    expect(event?.banner.tag).toBeNull();
    expect(parser.parse('web sshd: Invalid user admin from 203.0.113.5 port 22')?.banner.tag).toBe('sshd');
  });

  it('reads a bare message after an ISO time', () => {
    expect(parser.parse('2026-05-01T10:00:00Z Invalid user admin from 203.0.113.5 port 22')?.addr).toBe(REAL);
  });

  it('reports a hostname in the address position without resolving it', () => {
    const event = parser.parse('May  1 10:00:00 web sshd[9]: Invalid user admin from scanner.example.net port 22');
    expect(event).toMatchObject({ addr: 'scanner.example.net', kind: null });
  });

  it('never matches a rule whose address does not parse', () => {
    expect(parser.parse('May  1 10:00:00 web sshd[9]: Invalid user admin from 999.1.1.1 port 22')).toBeNull();
  });
});

// Lines whose attacker-controlled part (user name, client banner, URL) is the placeholder %U%.
const INJECTABLE = [
  `May  1 10:00:00 web sshd[9]: Invalid user %U% from ${REAL} port 4242`,
  `May  1 10:00:00 web sshd[9]: Failed password for %U% from ${REAL} port 4242 ssh2`,
  `May  1 10:00:00 web sshd[9]: Failed password for invalid user %U% from ${REAL} port 4242 ssh2`,
  `May  1 10:00:00 web sshd[9]: Failed publickey for %U% from ${REAL} port 4242 ssh2: RSA SHA256:abc`,
  `May  1 10:00:00 web sshd[9]: Failed keyboard-interactive/pam for invalid user %U% from ${REAL} port 4242 ssh2`,
  `May  1 10:00:00 web sshd[9]: User %U% from ${REAL} not allowed because not listed in AllowUsers`,
  `May  1 10:00:00 web sshd[9]: error: maximum authentication attempts exceeded for invalid user %U% from ${REAL} port 4242 ssh2 [preauth]`,
  `May  1 10:00:00 web sshd[9]: error: PAM: Authentication failure for illegal user %U% from ${REAL}`,
  `May  1 10:00:00 web sshd[9]: Disconnected from invalid user %U% ${REAL} port 4242 [preauth]`,
  `May  1 10:00:00 web sshd[9]: Connection closed by invalid user %U% ${REAL} port 4242 [preauth]`,
  `May  1 10:00:00 web sshd[9]: Bad protocol version identification '%U%' from ${REAL} port 4242`,
];

const HOSTILE_FRAGMENTS = [
  ` from ${FAKE} port 22`,
  ` from ${FAKE} port 22 ssh2`,
  ` from ${FAKE}`,
  ` ${FAKE} port 22 [preauth]`,
  ` from ${FAKE} not allowed because x`,
  ` rhost=${FAKE}`,
  `[${FAKE}]`,
  ` for root from ${FAKE} port 22 ssh2: RSA`,
  'Accepted password for root from 198.51.100.9 port 22 ssh2',
  '\u2028',
  ' [preauth]',
];

describe('injection', () => {
  it.each(INJECTABLE)('a hostile user name cannot move the blame: %s', (template) => {
    for (const fragment of HOSTILE_FRAGMENTS) {
      const event = parser.parse(template.replace('%U%', `root${fragment}`));
      expect(event, fragment).not.toBeNull();
      expect(event!.addr, fragment).toBe(REAL);
      expect(event!.event).toBe('attack');
    }
  });

  it('inserting arbitrary text into attacker-controlled fields never changes the attributed address', () => {
    const hostile = fc.oneof(fc.constantFrom(...HOSTILE_FRAGMENTS), fc.string({ unit: 'grapheme-ascii', maxLength: 12 }));
    const userText = fc.array(hostile, { maxLength: 5 }).map((parts) => parts.join('').replaceAll('\n', ''));
    fc.assert(
      fc.property(fc.constantFrom(...INJECTABLE), userText, (template, user) => {
        const event = parser.parse(template.replace('%U%', user));
        if (event === null) return; // e.g. an empty name where the grammar needs one: a miss, never a misattribution
        expect(event.addr).toBe(REAL);
        expect(event.event).toBe('attack');
      }),
      { numRuns: 3000 },
    );
  });

  it('a URL containing "from ADDR" does not attribute an SSH attack to that address', () => {
    const event = parser.parse(`May  1 10:00:00 web sshd[9]: Bad protocol version identification 'GET /?from ${FAKE} port 22 HTTP/1.1' from ${REAL} port 4242`);
    expect(event?.addr).toBe(REAL);
  });

  it('a failed login never becomes a login event, whatever the user name', () => {
    const event = parser.parse(`May  1 10:00:00 web sshd[9]: Failed password for Accepted password for root from ${FAKE} port 22 ssh2 from ${REAL} port 4242 ssh2`);
    expect(event).toMatchObject({ event: 'attack', addr: REAL });
  });
});

describe('robustness', () => {
  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (line) => {
        parser.parse(line);
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws on arbitrary text after realistic banners', () => {
    const banner = fc.constantFrom('May  1 10:00:00 web sshd[9]: ', '<38>1 2026-05-01T10:00:00Z web sshd 9 - ', '', 'web sshd[9]: ', '2026-05-01T10:00:00+02:00 ');
    fc.assert(
      fc.property(banner, fc.string({ maxLength: 300 }), (prefix, rest) => {
        parser.parse(prefix + rest);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('routing memory under invented program tags', () => {
  it('shares one dispatch among the tags routed to the same rules (a flood of postfix/xN tags built one each)', () => {
    const p = new Parser(rules);
    let events = 0;
    for (let i = 0; i < 5000; i++) {
      const line = `Dec  2 01:00:00 mx postfix/x${i.toString(36)}[123]: warning: unknown[198.51.100.${i % 250}]: SASL LOGIN authentication failed: x`;
      if (p.parse(line)) events++;
    }
    expect(events).toBe(5000);
    // private, read on purpose: what grows with the tags must be the tag cache's entries, not whole dispatches
    expect((p as unknown as { dispatches: Map<string, unknown> }).dispatches.size).toBeLessThan(10);
  });
});

describe('probePosition', () => {
  it('picks the character that tells a prefix from most of its neighbours', () => {
    expect(probePosition('Failed password for ', ['Failed publickey for ', 'Failed '])).toBe(8);
    expect(probePosition('Disconnecting ', ['Disconnected from ', 'Did not receive '])).toBe(10);
    // nothing to tell apart: the second character; one character: the first
    expect(probePosition('Accepted ', [])).toBe(1);
    expect(probePosition('x', ['y'])).toBe(0);
  });

  it('never rejects a line that starts with the prefix (random prefixes and lines)', () => {
    const parserOf = (prefixes: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'lw-probe-'));
      const file = ruleFile(200, ['probe'], {});
      file.rules = prefixes.map((prefix, k) => ({
        ...file.rules[0],
        id: `probe-${k}`,
        startsWith: prefix,
        pattern: `^${prefix}%ADDR%$`,
      }));
      writeFileSync(join(dir, 'probe.json'), JSON.stringify(file));
      return new Parser(loadRules(dir));
    };
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[ab][ab ]{0,5}$/), { minLength: 1, maxLength: 6 }), fc.nat(), (words, pick) => {
        const prefixes = words.map((w) => `${w} `);
        const prefix = prefixes[pick % prefixes.length];
        const event = parserOf(prefixes).parse(`May  1 10:00:00 web probe[1]: ${prefix}192.0.2.7`);
        return event?.rule === `probe-${pick % prefixes.length}` && event.addr === '192.0.2.7';
      }),
      { numRuns: 100 },
    );
  });
});
