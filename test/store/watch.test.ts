import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { BlockWatcher } from '../../src/store/watch.js';

describe('BlockWatcher: the store as the channel from the commands to a running process', () => {
  it('sees blocks added and released by another connection, within a second', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'logwarden-watch-')), 'state.db');
    const daemon = Store.open(path);
    const watcher = new BlockWatcher(daemon);
    expect(watcher.poll()).toEqual({ added: [], ended: [] });

    const seen: string[] = [];
    watcher.start((changes) => {
      for (const b of changes.added) seen.push(`added ${b.key}`);
      for (const b of changes.ended) seen.push(`${b.state} ${b.key}`);
    }, 100);
    const command = Store.open(path); // what `logwarden block` does, in another process
    command.addBlock({ addr: '192.0.2.66', cidr: 32, kind: 4 }, Date.now(), null, 'manual', { text: 'by hand' });
    command.close();
    const t0 = Date.now();
    while (seen.length === 0 && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['added 192.0.2.66']);

    const unblock = Store.open(path);
    unblock.endBlock('192.0.2.66', 'released', Date.now());
    unblock.close();
    const t1 = Date.now();
    while (seen.length === 1 && Date.now() - t1 < 1000) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['added 192.0.2.66', 'released 192.0.2.66']);
    watcher.stop();
    daemon.close();
  });

  it("sees the release of a block the watching process made itself since its last poll", () => {
    const path = join(mkdtempSync(join(tmpdir(), 'logwarden-watch-')), 'state.db');
    const daemon = Store.open(path);
    const watcher = new BlockWatcher(daemon);
    // the daemon's own block: its own connection's write does not change data_version for it
    daemon.addBlock({ addr: '198.51.100.9', cidr: 32, kind: 4 }, Date.now(), Date.now() + 600_000, 'policy', { rules: ['x'] });
    daemon.flushAll();
    expect(watcher.poll()).toEqual({ added: [], ended: [] });
    const unblock = Store.open(path);
    unblock.endBlock('198.51.100.9', 'released', Date.now());
    unblock.close();
    const changes = watcher.poll();
    expect(changes.ended.map((b) => `${b.state} ${b.key}`)).toEqual(['released 198.51.100.9']);
    // reported once
    const again = Store.open(path);
    again.addBlock({ addr: '192.0.2.1', cidr: 32, kind: 4 }, Date.now(), null, 'manual', { text: 'x' });
    again.close();
    expect(watcher.poll().ended).toEqual([]);
    daemon.close();
  });
});
