import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS, optionsFor, optionsMarkdown } from '../../src/config/options.js';

describe('option table', () => {
  it('docs/options.md is generated from the table (run `npm run docs:options` after a change)', () => {
    expect(readFileSync(new URL('../../docs/options.md', import.meta.url), 'utf8')).toBe(optionsMarkdown());
  });

  it('derives each command’s options from the one table', () => {
    const parse = optionsFor('parse');
    expect(Object.keys(parse).sort()).toEqual(['all', 'danger', 'disable-rule', 'every-line', 'format', 'help', 'rules-dir', 'stats']);
    expect(parse.format).toMatchObject({ type: 'string', default: 'sshguard', choices: ['sshguard', 'json', 'text'] });
  });

  it('gives every policy option of design.md a flag, and sshguard.conf keys where sshguard has them', () => {
    const audit = optionsFor('audit');
    for (const [flag, key] of [
      ['threshold', 'THRESHOLD'],
      ['block-time', 'BLOCK_TIME'],
      ['detection-time', 'DETECTION_TIME'],
      ['block-time-multiplier', 'BLOCK_TIME_MULTIPLIER'],
      ['blacklist', 'BLACKLIST_FILE'],
      ['ipv4-subnet', 'IPV4_SUBNET'],
      ['ipv6-subnet', 'IPV6_SUBNET'],
      ['whitelist', 'WHITELIST_FILE'],
    ]) {
      expect(audit[flag]?.sshguardKey, flag).toBe(key);
    }
    for (const flag of ['trust-time', 'penalty-half-life', 'max-block-time', 'untrusted-users']) expect(audit[flag], flag).toBeDefined();
    expect(Object.fromEntries(Object.entries(audit).filter(([, s]) => s.alias).map(([n, s]) => [s.alias, n]))).toMatchObject({
      a: 'threshold', p: 'block-time', s: 'detection-time', m: 'block-time-multiplier', b: 'blacklist', n: 'ipv4-subnet', N: 'ipv6-subnet', w: 'whitelist',
    });
  });

  it('documents every option', () => {
    for (const [name, spec] of Object.entries(OPTIONS)) expect(spec.describe.length, name).toBeGreaterThan(10);
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = new Map(
    doc
      .split('\n')
      .filter((l) => /^\| [A-Z][A-Z0-9_]+ \|/.test(l))
      .map((l) => [l.split('|')[1].trim(), l]),
  );

  it('documents every sshguard key of the option table, with its flag', () => {
    for (const [name, spec] of Object.entries(OPTIONS) as [string, { sshguardKey?: string; alias?: string }][]) {
      if (!spec.sshguardKey) continue;
      const row = rows.get(spec.sshguardKey);
      expect(row, spec.sshguardKey).toBeDefined();
      expect(row, spec.sshguardKey).toContain(`\`--${name}\``);
      if (spec.alias) expect(row, spec.sshguardKey).toContain(`\`-${spec.alias}\``);
    }
  });

  it('documents no sshguard key the table lacks', () => {
    const keys = new Set(Object.values(OPTIONS).map((s) => (s as { sshguardKey?: string }).sshguardKey));
    for (const key of rows.keys()) expect(keys.has(key), key).toBe(true);
  });
});
