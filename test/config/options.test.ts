import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS, optionsFor, optionsMarkdown } from '../../src/config/options.js';

describe('option table', () => {
  it('docs/options.md is generated from the table (run `npm run docs:options` after a change)', () => {
    expect(readFileSync(new URL('../../docs/options.md', import.meta.url), 'utf8')).toBe(optionsMarkdown());
  });

  it('derives each command’s yargs options from the one table', () => {
    const parse = optionsFor('parse');
    expect(Object.keys(parse).sort()).toEqual(['all', 'format', 'rules-dir', 'stats']);
    expect(parse.format).toMatchObject({ type: 'string', default: 'sshguard', choices: ['sshguard', 'json', 'text'] });
  });

  it('documents every option', () => {
    for (const [name, spec] of Object.entries(OPTIONS)) expect(spec.describe.length, name).toBeGreaterThan(10);
  });
});
