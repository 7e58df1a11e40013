// `whitelist add|remove|list` as users run them, with the null backend (the kernel side: test/e2e/whitelist.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-wl-cli-'));
  const file = join(dir, 'whitelist');
  writeFileSync(file, '# office\n192.0.2.10 # alice\n\nlocalhost\nnot..valid\n');
  const db = join(dir, 'state.db');
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, 'whitelist', ...args, '--db', db, '--backend', 'null'], { encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: dir } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return { dir, file, db, run };
}

describe('logwarden whitelist', () => {
  it('adds an entry at the end, keeping every other line; a second add says it is there', () => {
    const { file, run } = setup();
    expect(run('add', '2001:DB8::5', '--whitelist', file)).toMatchObject({ code: 0, stdout: `added 2001:db8::5 to ${file}\n` });
    expect(readFileSync(file, 'utf8')).toBe('# office\n192.0.2.10 # alice\n\nlocalhost\nnot..valid\n2001:db8::5\n');
    expect(run('add', '192.0.2.10/32', '--whitelist', file)).toMatchObject({ code: 0, stdout: `192.0.2.10 is already in ${file}:2\n` });
  });

  it('records the entry in the store\'s allow list as the daemon does (origin config, the file)', () => {
    const { file, db, run } = setup();
    expect(run('add', '198.51.100.0/24', '--whitelist', file).code).toBe(0);
    const store = Store.open(db);
    expect(store.allowList().map((e) => [e.origin, `${e.net.addr}/${e.net.cidr}`, e.detail])).toEqual([['config', '198.51.100.0/24', file]]);
    store.close();
    expect(run('remove', '198.51.100.0/24', '--whitelist', file).code).toBe(0);
    const after = Store.open(db);
    expect(after.allowList()).toEqual([]);
    after.close();
  });

  it('lifts a block the entry covers, in the store', () => {
    const { file, db, run } = setup();
    const block = spawnSync(process.execPath, [CLI, 'block', '203.0.113.9', '--db', db, '--backend', 'null'], { encoding: 'utf8' });
    expect(block.status, block.stderr).toBe(0);
    expect(run('add', '203.0.113.0/28', '--whitelist', file).stdout).toBe(`added 203.0.113.0/28 to ${file}\nunblocked 203.0.113.9\n`);
    const store = Store.open(db);
    expect(store.activeBlocks()).toEqual([]);
    store.close();
  });

  it('refuses entries that are not an address, CIDR or hostname, with a clear error and no change', () => {
    const { file, run } = setup();
    const before = readFileSync(file, 'utf8');
    for (const bad of ['192.0.2.256', '10.0.0.0/40', 'two words', 'x#y']) {
      const r = run('add', bad, '--whitelist', file);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is not (an address, CIDR or hostname|an entry)/);
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(run('add', '--whitelist', file).stderr).toContain('whitelist add needs an ENTRY');
  });

  it('remove of an entry not there says so, exit 1; remove drops only its lines', () => {
    const { file, run } = setup();
    const r = run('remove', '192.0.2.11', '--whitelist', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`192.0.2.11 is not in ${file}`);
    expect(run('remove', '192.0.2.10', '--whitelist', file).stdout).toBe(`removed 192.0.2.10 from ${file} (line 2)\n`);
    expect(readFileSync(file, 'utf8')).toBe('# office\n\nlocalhost\nnot..valid\n');
  });

  it('lists every entry with its file and line, what hostnames resolve to, and the lines it ignores', () => {
    const { file, run } = setup();
    const text = run('list', '--whitelist', file, '-w', '203.0.113.0/24');
    expect(text.stdout).toMatch(new RegExp(`^192\\.0\\.2\\.10 +${file}:2$`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^localhost +${file}:4 -> .*127\\.0\\.0\\.1`, 'm'));
    expect(text.stdout).toMatch(/^203\.0\.113\.0\/24 +--whitelist$/m);
    expect(text.stderr).toContain(`${file}:5: "not..valid" is not an address, CIDR or hostname (ignored)`);
    const json = JSON.parse(run('list', '--json', '--whitelist', file).stdout) as { entries: Record<string, unknown>[] };
    expect(json.entries[0]).toEqual({ entry: '192.0.2.10', kind: 'address', source: file, line: 2, resolves: null });
    expect(json.entries[1]).toMatchObject({ entry: 'localhost', kind: 'hostname', line: 4, resolves: expect.arrayContaining(['127.0.0.1']) });
  });

  it('edits the first WHITELIST_FILE of the configuration when no --whitelist is given', () => {
    const { dir, file, run } = setup();
    const conf = join(dir, 'logwarden.conf');
    writeFileSync(conf, `WHITELIST_FILE=${file}\nTHRESHOLD=40\n`);
    expect(run('add', '192.0.2.77', '--config', conf)).toMatchObject({ code: 0, stdout: `added 192.0.2.77 to ${file}\n` });
    expect(readFileSync(file, 'utf8')).toContain('\n192.0.2.77\n');
  });
});
