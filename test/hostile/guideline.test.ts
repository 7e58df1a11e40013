// The rule loader refuses patterns that break the cost guideline (docs/rules.md), for local rules given with
// --rules-dir, with a message that names the file, the rule and the problem; every bundled rule passes. Each
// refused shape is also shown to be slow for real on a crafted line, so the check refuses what it should.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { guidelineProblem } from '../../src/parse/guideline.js';
import { expandMacros, loadRules, loadRuleSet, RuleError } from '../../src/parse/rules.js';

function localRule(pattern: string, id = 'my-rule'): string {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-guideline-'));
  const file = {
    service: 900,
    name: 'Mine',
    programs: ['myd'],
    rules: [{ id, description: 'test', startsWith: 'bad ', pattern, origin: 'logwarden', examples: { match: [{ line: 'myd[1]: bad 192.0.2.1', addr: '192.0.2.1' }], ignore: [] } }],
  };
  writeFileSync(join(dir, 'mine.json'), JSON.stringify(file, null, 2));
  return dir;
}

const problemOf = (pattern: string) => {
  const re = new RegExp(expandMacros(pattern), 's');
  return guidelineProblem(re.source, re.flags);
};

/** Milliseconds to run the pattern on a line that fails only at its end */
function slowness(pattern: string, line: string): number {
  const re = new RegExp(expandMacros(pattern), 's');
  const t0 = performance.now();
  re.exec(line);
  return performance.now() - t0;
}

const BAD: [string, string, RegExp, string][] = [
  ['nested quantifiers', '^bad (?:a+)+ %ADDR%$', /nested quantifiers: \(\?:a\+\)\+ repeats a\+/, `bad ${'a'.repeat(22)}!`],
  ['a repeated free field', '^bad (?:.*)* %ADDR%$', /nested quantifiers/, ''],
  ['blank-then-word runs repeated', '^bad (?:\\s*\\S+)* from %ADDR%$', /nested quantifiers: .* repeats \\s\*/, `bad ${'x'.repeat(22)}`],
  ['two adjacent runs over the same characters', '^bad \\w+\\d+ %ADDR%$', /\\w\+ is right before \\d\+/, `bad ${'1'.repeat(8000)}`],
  ['a free field right before the capture', '^bad .*%ADDR%$', /\.\* is right before \(\?<addr>/, `bad ${'a'.repeat(16000)}!`],
  ['two free fields with only text between', "^bad (?<user>.*)'. Reason: .* from %ADDR%$", /\(\?<user>\.\*\) and \.\* are unbounded/, `bad ${"'. Reason: ".repeat(1400)}`],
  ['repeated alternatives that start alike', '^bad (?:a|ab)+ %ADDR%$', /alternatives that can start with the same character/, ''],
];

describe('the cost guideline, checked by the loader', () => {
  it('every bundled rule passes', () => {
    const rules = loadRules();
    for (const r of rules) expect(guidelineProblem(r.regex.source, r.regex.flags), r.id).toBeNull();
  });

  it.each(BAD)('refuses %s, naming the file, the rule and the problem', (_what, pattern, problem) => {
    const dir = localRule(pattern);
    let error: unknown;
    try {
      loadRuleSet({ localDir: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuleError);
    const message = (error as Error).message;
    expect(message).toContain(join(dir, 'mine.json'));
    expect(message).toContain('rules[0] (my-rule).pattern');
    expect(message).toContain('breaks the cost guideline');
    expect(message).toMatch(problem);
  });

  it('the refused shapes are slow for real; their fixed versions are not, and pass', () => {
    for (const [what, pattern, , line] of BAD) if (line) expect(slowness(pattern, line), what).toBeGreaterThan(2);
    const fixed = ['^bad (?:a{1,10} ){0,5}%ADDR%$', '^bad \\S{1,100}(?: \\S{1,100}){0,10} from %ADDR%$', '^bad [a-z]{1,20}\\d{1,5} %ADDR%$',
      "^bad (?<user>.{0,100})'. Reason: [^']{0,200} from %ADDR%$", '^bad .{0,400} from %ADDR% port %PORT%$', '^bad (?:a|b)+ %ADDR%$'];
    for (const pattern of fixed) {
      expect(problemOf(pattern), pattern).toBeNull();
      // linear: well under a millisecond; the bound leaves room for a loaded CI machine
      expect(slowness(pattern, `bad ${'a'.repeat(16_000)}`), pattern).toBeLessThan(50);
    }
  });

  it('keeps lookarounds, back-references, classes with ] and escapes apart', () => {
    expect(problemOf('^bad (?=x)(?<w>[\\]\\w]{1,9}) \\k<w> %ADDR%$')).toBeNull();
    expect(problemOf('^bad (?!(?:a+)+)x %ADDR%$')).toMatch(/nested quantifiers/);
    // a run that cannot cross the text between is no trade: `\s*` stops at every `)`
    expect(problemOf('^bad \\(.*\\)\\s*%ADDR%$')).toBeNull();
    expect(problemOf('^bad \\(.*\\).*%ADDR%$')).toMatch(/unbounded over the same characters/);
  });
});

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
describe.skipIf(!existsSync(CLI))(`logwarden with such a local rule${existsSync(CLI) ? '' : ' (skipped: dist/ not built)'}`, () => {
  it('rules list --rules-dir refuses it with the message, exit code 2 or 1, nothing on stdout', () => {
    const dir = localRule('^bad (?:a+)+ %ADDR%$', 'slow-rule');
    const r = spawnSync(process.execPath, [CLI, 'rules', 'list', '--rules-dir', dir], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${join(dir, 'mine.json')}: rules[0] (slow-rule).pattern: breaks the cost guideline`);
  });
});
