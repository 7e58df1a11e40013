// Log injection, long version (npm run test:stress; the short one is test/hostile/injection.test.ts): every
// template with every injection in every position, and 5,000 random mixes, through the whole engine.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fills, INJECTIONS, injectionProblems, type Mode, Run, TEMPLATES } from '../hostile/injection.js';

describe('log injection through the engine, long', () => {
  it('every template, every injection, every position, from a file and from journald', () => {
    let scenarios = 0;
    const problems: string[] = [];
    for (const mode of ['file', 'journal'] as Mode[]) {
      for (const t of TEMPLATES) {
        const run = new Run();
        for (const injection of INJECTIONS) {
          for (const user of fills(injection, true)) {
            scenarios++;
            const found = injectionProblems(t, user, mode, run);
            if (found.length > 0) problems.push(`${mode} ${t.rule} ${JSON.stringify(user)}: ${found.join(', ')}`);
          }
        }
        run.finish();
      }
    }
    console.log(`${scenarios} scenarios, ${problems.length} problems`);
    expect(problems).toEqual([]);
  });

  it('5,000 random mixes of injections and text', () => {
    const text = fc.array(fc.oneof(fc.constantFrom(...INJECTIONS), fc.string({ unit: 'binary', maxLength: 16 })), { minLength: 1, maxLength: 8 }).map((p) => p.join(''));
    fc.assert(
      fc.property(fc.constantFrom(...TEMPLATES), text, fc.constantFrom<Mode>('file', 'journal'), (t, user, mode) => {
        const run = new Run();
        const problems = injectionProblems(t, user, mode, run);
        run.finish();
        expect(problems).toEqual([]);
      }),
      { numRuns: 5000 },
    );
  });
});
