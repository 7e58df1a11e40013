// Editing whitelist files: entries checked by the reader's rules, other lines kept, files replaced atomically.
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWhitelistFile } from '../../src/policy/whitelist.js';
import {
  findEntry,
  parseWhitelistEntry,
  whitelistLines,
  withEntry,
  withoutEntry,
  writeFileAtomically,
} from '../../src/policy/whitelist-file.js';

const TEXT = '# our offices\n192.0.2.10   # alice\n\n2001:DB8::/64\nbackup.example.org\n# end\n';

describe('parseWhitelistEntry', () => {
  it('accepts addresses, CIDRs and hostnames, in canonical form', () => {
    expect(parseWhitelistEntry('192.0.2.10')).toMatchObject({ kind: 'network', text: '192.0.2.10' });
    expect(parseWhitelistEntry('192.0.2.10/32')).toMatchObject({ kind: 'network', text: '192.0.2.10' });
    expect(parseWhitelistEntry('2001:DB8::0:1')).toMatchObject({ kind: 'network', text: '2001:db8::1' });
    expect(parseWhitelistEntry('198.51.100.0/24')).toMatchObject({ kind: 'network', net: { addr: '198.51.100.0', cidr: 24, kind: 4 } });
    expect(parseWhitelistEntry('Backup.Example.org')).toMatchObject({ kind: 'hostname', name: 'backup.example.org' });
  });

  it('refuses anything else with a clear error', () => {
    expect(() => parseWhitelistEntry('192.0.2.300')).toThrow('"192.0.2.300" is not an address, CIDR or hostname (an IPv4 address is four numbers 0-255');
    expect(() => parseWhitelistEntry('192.0.2.0/33')).toThrow(/is not an address, CIDR or hostname/);
    expect(() => parseWhitelistEntry('host name')).toThrow(/without blanks or #/);
    expect(() => parseWhitelistEntry('a#b')).toThrow(/without blanks or #/);
    expect(() => parseWhitelistEntry('')).toThrow(/not an entry/);
    expect(() => parseWhitelistEntry('-bad-.example')).toThrow(/not an address, CIDR or hostname/);
  });
});

describe('editing the text', () => {
  it('finds entries however they are written, with their lines', () => {
    expect(whitelistLines(TEXT).map((l) => [l.line, l.written])).toEqual([
      [2, '192.0.2.10'],
      [4, '2001:DB8::/64'],
      [5, 'backup.example.org'],
    ]);
    expect(findEntry(TEXT, parseWhitelistEntry('192.0.2.10/32'))).toEqual([2]);
    expect(findEntry(TEXT, parseWhitelistEntry('2001:db8::/64'))).toEqual([4]);
    expect(findEntry(TEXT, parseWhitelistEntry('BACKUP.example.org.'))).toEqual([5]);
    expect(findEntry(TEXT, parseWhitelistEntry('192.0.2.11'))).toEqual([]);
  });

  it('adds a line at the end and removes only the entry\'s lines, keeping comments and blank lines', () => {
    const added = withEntry(TEXT, parseWhitelistEntry('203.0.113.0/24'));
    expect(added).toBe(`${TEXT}203.0.113.0/24\n`);
    expect(withEntry('192.0.2.1', parseWhitelistEntry('192.0.2.2'))).toBe('192.0.2.1\n192.0.2.2\n');
    expect(withEntry('', parseWhitelistEntry('192.0.2.2'))).toBe('192.0.2.2\n');
    expect(withoutEntry(added, parseWhitelistEntry('192.0.2.10'))).toBe('# our offices\n\n2001:DB8::/64\nbackup.example.org\n# end\n203.0.113.0/24\n');
    // the reader agrees
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-wl-'));
    writeFileSync(join(dir, 'w'), withoutEntry(added, parseWhitelistEntry('backup.example.org')));
    const read = readWhitelistFile(join(dir, 'w'));
    expect(read.networks.map((n) => n.net.addr)).toEqual(['192.0.2.10', '2001:db8::', '203.0.113.0']);
    expect(read.hostnames).toEqual([]);
  });

  it('reports lines that are not entries, with the reason', () => {
    expect(whitelistLines('ok.example\n10.0.0.300\n')).toMatchObject([
      { line: 1, problem: null },
      { line: 2, written: '10.0.0.300', entry: null, problem: expect.stringContaining('not an address') },
    ]);
  });
});

describe('writeFileAtomically', () => {
  it('replaces the file, keeping its mode and owner, and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-wl-'));
    const file = join(dir, 'whitelist');
    writeFileSync(file, TEXT);
    chmodSync(file, 0o640);
    const root = process.getuid?.() === 0;
    if (root) chownSync(file, 1234, 4321);
    const inode = statSync(file).ino;
    writeFileAtomically(file, `${TEXT}192.0.2.99\n`);
    const after = statSync(file);
    expect(readFileSync(file, 'utf8')).toBe(`${TEXT}192.0.2.99\n`);
    expect(after.mode & 0o777).toBe(0o640);
    expect(after.ino).not.toBe(inode); // a new file renamed over the old one
    if (root) expect([after.uid, after.gid]).toEqual([1234, 4321]);
    expect(readdirSync(dir)).toEqual(['whitelist']);
  });

  it('creates a missing file (and folder) with mode 0644; follows a symbolic link, keeping it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-wl-'));
    const file = join(dir, 'etc', 'whitelist');
    writeFileAtomically(file, '192.0.2.1\n');
    expect(readFileSync(file, 'utf8')).toBe('192.0.2.1\n');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    const link = join(dir, 'link');
    symlinkSync(file, link);
    writeFileAtomically(link, '192.0.2.2\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('192.0.2.2\n');
  });

  it('refuses to replace something that is not a regular file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-wl-'));
    expect(() => writeFileAtomically(dir, 'x')).toThrow(/is not a regular file/);
  });
});
