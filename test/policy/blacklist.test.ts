import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendBlacklist, blacklistLine, parseBlacklist, parseBlacklistOption, readBlacklist } from '../../src/policy/blacklist.js';

describe('sshguard blacklist file', () => {
  it('reads `time|service|kind|addr`, skipping comments and lines starting with whitespace', () => {
    const { entries, problems } = parseBlacklist('# from sshguard\n1700000000|100|4|192.0.2.9\n  1700000001|100|4|192.0.2.10\n1700000002|260|6|2001:DB8::1\nnot|a|line\n', 'bl');
    expect(entries).toEqual([
      { time: 1_700_000_000_000, service: 100, net: { addr: '192.0.2.9', cidr: 32, kind: 4 } },
      { time: 1_700_000_002_000, service: 260, net: { addr: '2001:db8::1', cidr: 128, kind: 6 } },
    ]);
    expect(problems).toEqual(['bl:5: not a blacklist line (time|service|kind|addr): "not|a|line"']);
  });

  it('writes lines in the same format, and a missing file is an empty list', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'logwarden-bl-')), 'sub', 'blacklist');
    expect(readBlacklist(file)).toEqual({ entries: [], problems: [] });
    appendBlacklist(file, blacklistLine(1_700_000_000_999, 100, 4, '203.0.113.5'));
    expect(readFileSync(file, 'utf8')).toBe('1700000000|100|4|203.0.113.5\n');
    expect(readBlacklist(file).entries).toHaveLength(1);
  });

  it('parses -b THRESH:FILE', () => {
    expect(parseBlacklistOption('90:/var/lib/logwarden/blacklist')).toEqual({ threshold: 90, file: '/var/lib/logwarden/blacklist' });
    expect(() => parseBlacklistOption('/var/lib/x')).toThrow(/THRESH:FILE/);
  });
});
