// Every rule file carries its own example lines; this runs all of them through the whole parser.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Parser } from '../../src/parse/parser.js';
import { loadRules } from '../../src/parse/rules.js';

const rules = loadRules();
const parser = new Parser(rules);

describe.each(rules.map((r) => [r.id, r] as const))('rule %s', (_id, rule) => {
  it.each(rule.examples.match.map((e) => [e.line, e] as const))('matches %s', (line, example) => {
    const event = parser.parse(line);
    expect(event, 'no event').not.toBeNull();
    expect(event!.rule).toBe(rule.id);
    expect(event!.event).toBe(rule.event);
    expect(event!.service).toBe(rule.service);
    expect(event!.addr).toBe(example.addr);
    if (example.user !== undefined) expect(event!.user).toBe(example.user);
    expect(event!.count).toBe(example.count ?? 1);
  });

  if (rule.examples.ignore.length > 0) {
    it.each(rule.examples.ignore)('ignores %s', (line) => {
      const event = parser.parse(line);
      expect(event, `matched as ${event?.rule}`).toBeNull();
    });
  }

  it('has plain groups that capture what its named groups do', () => {
    const groupCount = (r: RegExp) => new RegExp(`${r.source}|`, r.flags).exec('')!.length;
    expect(groupCount(rule.plain)).toBe(groupCount(rule.regex));
    for (const { line } of rule.examples.match) {
      const msg = parser.parse(line)!.banner.msg;
      const named = rule.regex.exec(msg)!;
      const plain = rule.plain.exec(msg)!;
      expect([...plain]).toEqual([...named]);
      for (const field of ['addr', 'user', 'service', 'session'] as const) {
        const number = rule.groups[field];
        expect(number === 0 ? undefined : plain[number], field).toBe(named.groups?.[field]);
      }
    }
  });

  if (rule.stickyChecksPrefixes) it('checks its prefixes in its sticky pattern as startsWith does', () => {
    for (const { line } of rule.examples.match) {
      const banner = parser.parse(line)!.banner;
      const msg = banner.msg;
      const prefix = rule.startsWith!.find((p) => msg.startsWith(p))!;
      const runInPlace = (text: string) => {
        rule.sticky!.lastIndex = 7;
        return rule.sticky!.exec(`banner ${text}`);
      };
      expect(runInPlace(msg)).not.toBeNull();
      // the same message but for the prefix's last character: no prefix, no match, whatever the pattern allows
      const last = prefix.length - 1;
      const broken = msg.slice(0, last) + (msg[last] === '~' ? '^' : '~') + msg.slice(last + 1);
      if (!rule.startsWith!.some((p) => broken.startsWith(p))) expect(runInPlace(broken)).toBeNull();
    }
  });

  it('has a pre-filter that every matching example passes', () => {
    for (const { line } of rule.examples.match) {
      const msg = parser.parse(line)!.banner.msg;
      if (rule.startsWith !== null) expect(rule.startsWith.some((p) => msg.startsWith(p))).toBe(true);
      for (const needle of rule.contains) expect(msg).toContain(needle);
    }
  });
});

describe('rule set', () => {
  it('has unique ids and a service code for every rule', () => {
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const r of rules) expect(r.service).toBeGreaterThanOrEqual(100);
  });
});

// Attacker-controlled fields (`%U%` in a rule's `examples.hostile` lines) filled with fake addresses and fake
// log text: the event keeps the real client's address and its own kind, or there is no event at all.
const FAKE = '198.51.100.9';
const FAKE6 = '2001:db8:bad::9';
const HOSTILE_FRAGMENTS = [
  ` from ${FAKE}`, ` from ${FAKE} port 22`, ` from ${FAKE} port 22 ssh2`, ` from ${FAKE} port 22 ssh2: RSA SHA256:x`,
  ` ${FAKE} port 22 [preauth]`, ` from ${FAKE} not allowed because x`, ` for root from ${FAKE} port 22 ssh2`,
  ` rhost=${FAKE}`, ` rhost=${FAKE}  user=root`, ` ruser= rhost=${FAKE} `, `[${FAKE}]`, ` [${FAKE}]`, `[${FAKE}]:22`,
  ` ${FAKE}:22`, `<${FAKE}:22>`, ` '${FAKE}'`, `'@'${FAKE}'`, ` ip=[${FAKE}]`, ` rip=${FAKE}, lip=192.0.2.1`,
  `, rip=${FAKE}`, ` host=${FAKE}`, ` address=${FAKE}`, ` client_address=${FAKE}`, ` relay=x [${FAKE}]`,
  ` (${FAKE})`, ` [CLIENT: ${FAKE}]`, `"${FAKE}"`, ` "${FAKE}" `, ` ${FAKE} - - [`, ` from: ${FAKE}`, `#${FAKE}#53`,
  ` from ${FAKE6} port 22 ssh2`, ` rhost=${FAKE6}`, `[${FAKE6}]`, ` from ::ffff:${FAKE}`,
  ` ID x from ${FAKE} port 22 ssh2: y`, ` (serial 1) CA RSA SHA256:x`, `, client user "x", client host "${FAKE}"`,
  ` client host "${FAKE}"`, 'Accepted password for root from 198.51.100.9 port 22 ssh2', ` Accepted`,
  ' [preauth]', ' port 22', ' ssh2', '"', "'", ']', ')', '>', ',', ';', ' ', '  ', '\t', '\u2028', '\r',
  'May  1 10:00:00 web sshd[1]: ', ': ', ` user=`, ` rhost=`, `\u001b[0m`, '%', '%U%',
];

const hostile = rules.flatMap((rule) => (rule.examples.hostile ?? []).map((h) => [rule.id, h.line, h.addr, rule] as const));

describe('hostile fields', () => {
  it('are given by the rules (every rule with client text carries some)', () => {
    expect(hostile.length).toBeGreaterThan(0);
  });

  it.each(hostile)('%s: %s', (id, template, addr, rule) => {
    const plain = parser.parse(template.replaceAll('%U%', 'root'));
    expect(plain?.rule, 'the template with a plain user name must match its rule').toBe(id);
    expect(plain!.addr).toBe(addr);
    for (const fragment of HOSTILE_FRAGMENTS) {
      for (const text of [`root${fragment}`, `${fragment}root`, `x${fragment}${fragment}y`, fragment]) {
        const event = parser.parse(template.replaceAll('%U%', text));
        if (event === null) continue; // a miss, never a misattribution
        expect(event.addr, `${JSON.stringify(text)} → ${event.rule}`).toBe(addr);
        expect(event.event, JSON.stringify(text)).toBe(rule.event);
      }
    }
  });

  it('any mix of hostile fragments keeps the blame on the real client', () => {
    const text = fc
      .array(fc.oneof(fc.constantFrom(...HOSTILE_FRAGMENTS), fc.string({ unit: 'grapheme-ascii', maxLength: 12 })), { maxLength: 6 })
      .map((parts) => parts.join('').replaceAll('\n', ''));
    fc.assert(
      fc.property(fc.constantFrom(...hostile), text, ([, template, addr, rule], user) => {
        const event = parser.parse(template.replaceAll('%U%', user));
        if (event === null) return;
        expect(event.addr).toBe(addr);
        expect(event.event).toBe(rule.event);
      }),
      { numRuns: 4000 },
    );
  });
});
