// Differential test against sshguard's parser: our parser on test/parity/corpus.log must print what
// sshg-parser 2.4.2 printed (test/parity/sshg-parser.golden), except for the justified difference classes
// of test/parity/differences.json. Needs no sshguard: regenerate corpus and golden with
// `npm run parity:update` (see docs/parity.md).
import { createHash } from 'node:crypto';
import { describe as group, expect, it } from 'vitest';
import { canonicalIP } from '../../src/parse/address.js';
import { Parser } from '../../src/parse/parser.js';
import { loadRules } from '../../src/parse/rules.js';
// @ts-ignore: plain ESM module without type declarations, shared with report.mjs
import { compare, describe, loadFiles, validateClasses } from './compare.mjs';

const files = loadFiles();
const rules = loadRules();
const result = compare({ ...files, parser: new Parser(rules), rules, canonicalIP });

group('parity with sshg-parser', () => {
  it('has a golden file recorded from this corpus', () => {
    const digest = createHash('sha256').update(files.corpusText).digest('hex');
    expect(files.golden.headers['corpus-sha256'], 'corpus.log changed: run npm run parity:update').toBe(digest);
    expect(files.meta.length, 'corpus.meta.json does not describe corpus.log').toBe(files.corpus.length);
    expect(files.golden.lines.size, 'sshg-parser recognised nothing: a broken recording').toBeGreaterThan(0);
  });

  it('has well-formed difference classes', () => {
    expect(validateClasses(files.classes)).toEqual([]);
  });

  it('explains every difference', () => {
    const text = result.unexplained.map(describe).join('\n');
    expect(result.unexplained.length, `unexplained differences:\n${text}`).toBe(0);
  });

  it('has no stale justification (every class matches some difference)', () => {
    expect(result.stale).toEqual([]);
  });

  it('covers every loaded rule (a new rule needs npm run parity:update)', () => {
    const covered = new Set(files.meta.map((m: { rule: string | null }) => m.rule));
    const missing = rules.filter((r) => !covered.has(r.id)).map((r) => r.id);
    expect(missing, `parity corpus lacks rules ${missing.join(', ')}: run npm run parity:update`).toEqual([]);
  });
});
