// The applier on a real kernel: it restores the wanted state, repairs drift (a flushed set, a foreign element,
// a timeout shortened by hand, a deleted table) and logs each repair; a command's change sets the store's allow
// list.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { Applier, type WantedState } from '../../src/firewall/applier.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { nftBackend } from '../../src/firewall/nft.js';
import { iptablesBackend } from '../../src/firewall/iptables.js';
import type { Logger } from '../../src/log/logger.js';
import type { Network } from '../../src/policy/network.js';
import { Lab, labUnavailable } from './lab.js';

const unavailable = labUnavailable(['nft', 'iptables']);
if (unavailable) console.warn(`applier lab tests skipped: ${unavailable}`);

const n4 = (addr: string, cidr = 32): Network => ({ addr, cidr, kind: 4 });

function collectingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: object, message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe.skipIf(unavailable)(`the applier on a real kernel${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  beforeAll(() => lab.start());
  afterAll(async () => {
    // what a failed test left behind must not make the next one fail
    for (const backend of [nftBackend, iptablesBackend]) {
      await new Firewall(backend, { name: 'lwapply', hooks: ['input'], priority: -10 }, silentLogger, { prefix: lab.inServer }).teardown().catch(() => {});
    }
    lab.stop();
  });

  it('nft: restores, repairs drift and logs it, and tears down', async () => {
    const wanted: WantedState = { blocks: [{ net: n4('192.0.2.66'), timeout: 600 }], allow: [n4('192.0.2.10')] };
    const log = collectingLogger();
    const firewall = new Firewall(nftBackend, { name: 'lwapply', hooks: ['input'], priority: -10 }, silentLogger, { prefix: lab.inServer });
    const applier = new Applier(firewall, log, () => wanted);
    const first = await applier.reconcile();
    expect(first).toMatchObject({ setUp: true, blocked: [{ net: n4('192.0.2.66') }] });
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);
    expect(await applier.reconcile()).toEqual({ setUp: false, allowChanged: false, blocked: [], unblocked: [], renewed: [] });

    // someone flushes our set, adds a stray element, and shortens nothing else
    lab.inServerRun(['nft', 'flush', 'set', 'inet', 'lwapply', 'blocked4']);
    lab.inServerRun(['nft', 'add', 'element', 'inet', 'lwapply', 'blocked4', '{ 192.0.2.67 timeout 1h }']);
    expect(lab.connects('192.0.2.66')).toBe(true);
    const drift = await applier.sync();
    expect(drift).toMatchObject({ blocked: [{ net: n4('192.0.2.66') }], unblocked: [n4('192.0.2.67')] });
    expect(log.lines.some((l) => l.startsWith('warn firewall drift: re-added 192.0.2.66'))).toBe(true);
    expect(log.lines.some((l) => l.startsWith('warn firewall drift: removed 192.0.2.67'))).toBe(true);
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);

    // a kernel timeout much shorter than the store's is refreshed
    lab.inServerRun(['nft', 'delete', 'element', 'inet', 'lwapply', 'blocked4', '{ 192.0.2.66 }']);
    lab.inServerRun(['nft', 'add', 'element', 'inet', 'lwapply', 'blocked4', '{ 192.0.2.66 timeout 20s }']);
    expect(await applier.sync()).toMatchObject({ blocked: [{ net: n4('192.0.2.66'), timeout: 600 }] });
    const entry = (await firewall.state()).blocks.find((b) => b.net.addr === '192.0.2.66')!;
    expect(entry.timeout).toBeGreaterThan(500);

    // the whole table deleted: created again, allow list included
    lab.inServerRun(['nft', 'delete', 'table', 'inet', 'lwapply']);
    expect(await applier.sync()).toMatchObject({ setUp: true, blocked: [{ net: n4('192.0.2.66') }] });
    expect((await firewall.state()).allow).toEqual([n4('192.0.2.10')]);
    expect(log.lines.some((l) => l.includes('were missing: created them again'))).toBe(true);

    // a command's change brings the allow list to the store's (which holds the command's -w entries too)
    await applier.change([{ op: 'block', entry: { net: n4('192.0.2.67'), timeout: 60 } }], [n4('192.0.2.10'), n4('192.0.2.99')]);
    expect((await firewall.state()).allow).toEqual([n4('192.0.2.10'), n4('192.0.2.99')]);
    expect(lab.connects('192.0.2.67')).toBe(false);
    await firewall.teardown();
    expect(lab.connects('192.0.2.67')).toBe(true);
  });

  it('a failing firewall is logged with the command, counted, and retried until it works', async () => {
    const wanted: WantedState = { blocks: [], allow: [] };
    const log = collectingLogger();
    // a prefix that fails like a missing binary, then works: the namespace does not exist yet
    const ns = `lwretry${process.pid}`;
    const firewall = new Firewall(nftBackend, { name: 'lwretry', hooks: ['input'], priority: -10 }, silentLogger, { prefix: ['ip', 'netns', 'exec', ns] });
    const applier = new Applier(firewall, log, () => wanted, { retryMs: 100 });
    await applier.block({ net: n4('192.0.2.66'), timeout: 60 });
    expect(applier.health.failures).toBe(1);
    expect(log.lines.find((l) => l.startsWith('error firewall: block 192.0.2.66 for 60s failed'))).toBeDefined();
    wanted.blocks = [{ net: n4('192.0.2.66'), timeout: 60 }];
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const deadline = Date.now() + 5000;
      while (applier.health.failingSince !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(applier.health.failingSince).toBeNull();
      expect(log.lines.some((l) => l.startsWith('info firewall: working again'))).toBe(true);
      expect((await firewall.state()).blocks.map((b) => b.net.addr)).toEqual(['192.0.2.66']);
    } finally {
      applier.stop();
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });

  it('iptables: lifts an expired block by itself (no kernel timeouts)', async () => {
    const now = Date.now();
    const wanted: WantedState = { blocks: [{ net: n4('192.0.2.66'), timeout: 1 }], allow: [] };
    const firewall = new Firewall(iptablesBackend, { name: 'lwapply', hooks: ['input'], priority: -10 }, silentLogger, { prefix: lab.inServer });
    const applier = new Applier(firewall, collectingLogger(), () => wanted);
    await applier.reconcile();
    expect(lab.connects('192.0.2.66', 500)).toBe(false);
    while (Date.now() - now < 1500) await new Promise((r) => setTimeout(r, 100));
    await applier.settle();
    expect(lab.connects('192.0.2.66')).toBe(true);
    applier.stop();
    await firewall.teardown();
  });
});
