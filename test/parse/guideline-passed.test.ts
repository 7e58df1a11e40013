// The table of patterns known to pass the cost guideline (src/parse/guideline-passed.ts) lets the rule loader
// skip the check for them: every entry must pass the guideline as it is now, and the table is exactly the
// bundled rules' patterns, so it is neither stale nor a way in for a pattern that never met the check.
// After a change to rules/ or to the guideline: LOGWARDEN_UPDATE_GUIDELINE_PASSED=1 npx vitest run test/parse/guideline-passed.test.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { guidelineProblem } from '../../src/parse/guideline.js';
import { GUIDELINE_PASSED, guidelineKey } from '../../src/parse/guideline-passed.js';
import { loadRules } from '../../src/parse/rules.js';

const FILE = fileURLToPath(new URL('../../src/parse/guideline-passed.ts', import.meta.url));

/** The module's text for a list of keys: everything before the list is kept as it is */
function moduleText(keys: string[]): string {
  const text = readFileSync(FILE, 'utf8');
  const start = text.indexOf('new Set([\n') + 'new Set([\n'.length;
  const end = text.indexOf(']);\n', start);
  return text.slice(0, start) + keys.map((k) => `  ${JSON.stringify(k)},\n`).join('') + text.slice(end);
}

describe('patterns known to pass the cost guideline', () => {
  const bundled = [...new Set(loadRules().map((r) => guidelineKey(r.regex.source, r.regex.flags)))].sort();

  if (process.env.LOGWARDEN_UPDATE_GUIDELINE_PASSED === '1') {
    const passing = bundled.filter((k) => {
      const slash = k.indexOf('/');
      return guidelineProblem(k.slice(slash + 1), k.slice(0, slash)) === null;
    });
    writeFileSync(FILE, moduleText(passing));
  }

  it('holds only patterns the guideline accepts', () => {
    expect(GUIDELINE_PASSED.size).toBeGreaterThan(100);
    for (const key of GUIDELINE_PASSED) {
      const slash = key.indexOf('/');
      expect(guidelineProblem(key.slice(slash + 1), key.slice(0, slash)), key).toBeNull();
    }
  });

  it('is exactly the bundled rules\' patterns (regenerate it as the header says)', () => {
    expect([...GUIDELINE_PASSED].sort()).toEqual(bundled);
  });

  it('keys a pattern by its flags and source, so the same source with other flags is checked again', () => {
    const [key] = GUIDELINE_PASSED;
    const slash = key.indexOf('/');
    expect(GUIDELINE_PASSED.has(guidelineKey(key.slice(slash + 1), `${key.slice(0, slash)}i`))).toBe(false);
    expect(GUIDELINE_PASSED.has(guidelineKey(key.slice(slash + 1), key.slice(0, slash)))).toBe(true);
  });
});
