// The whitelist watcher on real files: edits, removals, unreadable files and SIGHUP-style reloads.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/log/logger.js';
import { networkText } from '../../src/policy/network.js';
import { emptyEntries, readWhitelistFile } from '../../src/policy/whitelist.js';
import { type WhitelistChange, WhitelistWatcher } from '../../src/policy/whitelist-watch.js';

function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (_fields: object, message: string) => void lines.push({ level, message });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
}

const texts = (c: WhitelistChange) => ({
  added: [...c.added.networks.map(networkText), ...c.added.hostnames],
  removed: [...c.removed.networks.map(networkText), ...c.removed.hostnames],
});

let lastChanges: WhitelistChange[] = [];
describe('WhitelistWatcher', () => {
  let watcher: WhitelistWatcher | null = null;
  afterEach(async () => {
    await watcher?.close();
    watcher = null;
  });

  function setup(initial: string, required = true) {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-wl-'));
    const path = join(dir, 'whitelist');
    if (initial !== '') writeFileSync(path, initial);
    const entries = initial === '' ? emptyEntries() : readWhitelistFile(path);
    const changes: WhitelistChange[] = [];
    lastChanges = changes;
    const { log, lines } = recordingLogger();
    const fixed = emptyEntries();
    fixed.networks.push({ net: { addr: '192.0.2.99', cidr: 32, kind: 4 }, source: '-w' });
    watcher = new WhitelistWatcher({ fixed, files: [{ path, required, entries }] }, { log, onChange: (c) => changes.push(c), debounceMs: 20 });
    return { dir, path, changes, lines, watcher };
  }

  const until = async (cond: () => boolean) => {
    const end = Date.now() + 3000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for the watcher: ${JSON.stringify(lastChanges)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('reports added and removed entries when the file is edited, and when it is replaced by rename', async () => {
    const t = setup('192.0.2.1\n198.51.100.0/24 # lab\n');
    await t.watcher.start();
    writeFileSync(t.path, '192.0.2.1\n2001:db8::/48\nbackup.example.org\n');
    await until(() => t.changes.length === 1);
    expect(texts(t.changes[0])).toEqual({ added: ['2001:db8::/48', 'backup.example.org'], removed: ['198.51.100.0/24'] });
    expect(t.changes[0].entries.networks.map((n) => networkText(n.net))).toEqual(['192.0.2.99', '192.0.2.1', '2001:db8::/48']);
    // As editors save: write a new file and rename it over the old one
    writeFileSync(join(t.dir, 'whitelist.tmp'), '192.0.2.1\n2001:db8::/48\nbackup.example.org\n203.0.113.8\n');
    renameSync(join(t.dir, 'whitelist.tmp'), t.path);
    await until(() => t.changes.length === 2);
    expect(texts(t.changes[1])).toEqual({ added: ['203.0.113.8'], removed: [] });
    expect(t.lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual(['whitelist reloaded', 'whitelist reloaded']);
  });

  it('keeps the last good entries of a file that disappears or cannot be read, and logs it at error', async () => {
    const t = setup('192.0.2.1\n');
    await t.watcher.start();
    rmSync(t.path);
    await until(() => t.changes.length === 1);
    expect(texts(t.changes[0])).toEqual({ added: [], removed: [] });
    expect(t.changes[0].problems[0].message).toMatch(/^cannot read: ENOENT.*; keeping its 1 entries from the last good read$/);
    expect(t.watcher.entries.networks.map((n) => networkText(n.net))).toEqual(['192.0.2.99', '192.0.2.1']);
    expect(t.lines.find((l) => l.level === 'error')?.message).toContain(`whitelist ${t.path} cannot read: ENOENT`);
    // A folder in its place: unreadable (EISDIR) even for root
    mkdirSync(t.path);
    const change = t.watcher.reload();
    expect(change.problems[0].message).toMatch(/^cannot read: EISDIR/);
    expect(t.watcher.entries.networks).toHaveLength(2);
    rmSync(t.path, { recursive: true });
    writeFileSync(t.path, '');
    expect(texts(t.watcher.reload())).toEqual({ added: [], removed: ['192.0.2.1'] });
  });

  it('reloads on request (SIGHUP) and says nothing when nothing changed', () => {
    const t = setup('192.0.2.1\n');
    expect(texts(t.watcher.reload())).toEqual({ added: [], removed: [] });
    expect(t.changes).toEqual([]);
    writeFileSync(t.path, '192.0.2.1\n192.0.2.1/32\nbad_entry\n');
    const change = t.watcher.reload();
    expect(texts(change)).toEqual({ added: [], removed: [] });
    expect(change.problems.map((p) => [p.line, p.entry])).toEqual([[3, 'bad_entry']]);
    expect(t.changes).toHaveLength(1);
    expect(t.lines.map((l) => l.level)).toEqual(['warn']);
  });

  it('picks up the default whitelist file when it is created while running', async () => {
    const t = setup('', false);
    await t.watcher.start();
    expect(t.watcher.reload().problems).toEqual([]);
    writeFileSync(t.path, '203.0.113.0/24\n');
    await until(() => t.changes.length === 1);
    expect(texts(t.changes[0])).toEqual({ added: ['203.0.113.0/24'], removed: [] });
  });
});
