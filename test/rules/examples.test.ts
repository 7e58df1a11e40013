// Every rule file carries its own example lines; this runs all of them through the whole parser.
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
