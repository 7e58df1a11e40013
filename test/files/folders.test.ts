import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeFolders } from '../../src/files/folders.js';

describe('makeFolders', () => {
  const root = mkdtempSync(join(tmpdir(), 'logwarden-folders-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('makes every missing folder, and is a no-op when they exist', () => {
    const deep = join(root, 'a', 'b', 'c');
    makeFolders(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeFolders(deep);
    makeFolders(root);
  });

  it('fails at once where the file system refuses (Node 20 recursive mkdirSync spins forever under /proc)', () => {
    expect(() => makeFolders('/proc/logwarden-no-such/x')).toThrow(/ENOENT/);
  });

  it('fails when a file stands where a folder must be', () => {
    writeFileSync(join(root, 'file'), 'x');
    expect(() => makeFolders(join(root, 'file', 'sub'))).toThrow(/ENOTDIR|EEXIST/);
  });
});
