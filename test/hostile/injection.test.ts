// Log injection, short version (the long one is test/stress/hostile-injection.test.ts): every hostile template of
// every rule, filled with each injection, through the parser, correlation and policy, from a file and from
// journald: nobody but the real client is ever blocked or trusted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Parser } from '../../src/parse/parser.js';
import { loadRules, matcherOf } from '../../src/parse/rules.js';
import { rules } from './fuzz.js';
import { FAKE, fills, INJECTIONS, injectionProblems, type Mode, Run, TEMPLATES } from './injection.js';

const services = (ids: string[]) => new Set(ids.map((id) => rules.find((r) => r.id === id)!.serviceName));

describe('log injection through the engine', () => {
  it('covers every service whose lines carry client text (all but OpenVPN and SSHGuard, whose lines have none)', () => {
    const all = new Set(rules.map((r) => r.serviceName));
    const covered = services(TEMPLATES.map((t) => t.rule));
    expect([...all].filter((s) => !covered.has(s)).sort()).toEqual(['OpenVPN', 'OpenVPN port-share', 'SSHGuard']);
  });

  describe.each(['file', 'journal'] as Mode[])('from %s', (mode) => {
    it.each(TEMPLATES.map((t) => [t.rule, t.line, t] as const))('%s: %s', (_rule, _line, template) => {
      const run = new Run();
      const problems: string[] = [];
      for (const injection of INJECTIONS) {
        for (const user of fills(injection)) for (const p of injectionProblems(template, user, mode, run)) problems.push(`${JSON.stringify(user)}: ${p}`);
      }
      run.finish();
      expect(problems).toEqual([]);
    });
  });

  it('the plain templates do block or trust their client (the suite sees what it checks)', () => {
    let blocked = 0;
    let trusted = 0;
    for (const t of TEMPLATES) {
      const run = new Run();
      injectionProblems(t, 'root', 'journal', run);
      if (run.blocks.some((n) => n.addr === t.addr || t.addr.startsWith(n.addr.replace(/::$/, '')))) blocked++;
      if (run.trusted().includes(t.addr)) trusted++;
      run.finish();
    }
    console.log(`${TEMPLATES.length} templates: ${blocked} blocked their client, ${trusted} trusted it`);
    expect(blocked).toBeGreaterThan(TEMPLATES.length / 2);
    expect(trusted).toBeGreaterThanOrEqual(5);
  });

  it('catches a naive rule that takes the first " from ADDR"', () => {
    const naive = loadRules().filter((r) => r.id === 'ssh-failed-password').map((r) => ({ ...r, id: 'naive', ...matcherOf(/^Failed password for (?<user>.*?) from (?<addr>[0-9A-Za-z_.:%-]{1,253})/s) }));
    const run = new Run(new Parser(naive));
    const template = { rule: 'naive', line: 'May  1 10:00:00 web sshd[903]: Failed password for %U% from 203.0.113.8 port 51001 ssh2', addr: '203.0.113.8' };
    expect(injectionProblems(template, `root from ${FAKE} port 22 ssh2`, 'file', run, naive[0])).toEqual([`blocked ${FAKE}`]);
  });

  it('random mixes of injections keep the blame on the real client', () => {
    const text = fc.array(fc.oneof(fc.constantFrom(...INJECTIONS), fc.string({ unit: 'grapheme-ascii', maxLength: 10 })), { minLength: 1, maxLength: 5 }).map((p) => p.join(''));
    fc.assert(
      fc.property(fc.constantFrom(...TEMPLATES), text, fc.constantFrom<Mode>('file', 'journal'), (t, user, mode) => {
        const run = new Run();
        const problems = injectionProblems(t, user, mode, run);
        run.finish();
        expect(problems).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
