// The firewall process's server and the daemon's RemoteFirewall, connected by a pair of in-memory pipes; the
// firewall behind the server records what reaches it (the real one runs in test/e2e/privsep.test.ts).
import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { KernelState, Operation } from '../../src/firewall/backend.js';
import { DEFAULT_FIREWALL } from '../../src/firewall/backend.js';
import { nftBackend } from '../../src/firewall/nft.js';
import { FirewallServer } from '../../src/firewall/privileged.js';
import { MAX_OPS, MAX_REQUEST_CHARS } from '../../src/firewall/protocol.js';
import { RemoteFirewall } from '../../src/firewall/remote.js';
import type { FirewallPort } from '../../src/firewall/surface.js';
import { silentLogger } from '../../src/log/logger.js';
import { type Network, networkText, parseNetwork } from '../../src/policy/network.js';

const net = (text: string) => parseNetwork(text)!;
const KERNEL: KernelState = { present: true, blocks: [{ net: net('198.51.100.7'), timeout: 50 }], allow: [net('192.0.2.1')] };

/** What the server ran, as text */
class RecordingFirewall implements FirewallPort {
  readonly backend = nftBackend;
  readonly options = DEFAULT_FIREWALL;
  readonly calls: string[] = [];
  /** As the real one: a batch per apply, and here one per submitted operation */
  readonly sent = { batches: 0, operations: 0 };
  failWith: string | null = null;
  private check(): void {
    if (this.failWith) throw new Error(this.failWith);
  }
  keepSessionOpen(): void {}
  close(): void {}
  async setup(allow: Network[]) {
    this.check();
    this.calls.push(`setup ${allow.map(networkText).join(' ')}`);
  }
  async apply(ops: Operation[], current?: KernelState) {
    this.check();
    this.calls.push(`apply ${ops.length}${current ? ` against ${current.blocks.map((b) => networkText(b.net)).join(' ')}` : ''}`);
    this.sent.batches++;
    this.sent.operations += ops.length;
  }
  async submit(op: Operation) {
    this.check();
    this.calls.push(op.op === 'block' ? `block ${networkText(op.entry.net)} ${op.entry.timeout}` : `unblock ${networkText(op.net)}`);
    this.sent.batches++;
    this.sent.operations++;
  }
  async state() {
    this.check();
    this.calls.push('state');
    return KERNEL;
  }
  async teardown() {
    this.check();
    this.calls.push('teardown');
  }
}

function pair(protect = ['192.0.2.1', '2001:db8::/64']) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const firewall = new RecordingFirewall();
  const server = new FirewallServer(toServer, toClient, { firewall, protect: protect.map(net), log: silentLogger });
  const remote = new RemoteFirewall(Duplex.from({ readable: toClient, writable: toServer }), nftBackend, DEFAULT_FIREWALL, silentLogger);
  /** Raw lines to the server; resolves with the next answers */
  const raw = (text: string, answers = 1) =>
    new Promise<unknown[]>((resolve) => {
      const got: unknown[] = [];
      let partial = '';
      const onData = (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop()!;
        got.push(...lines.map((l) => JSON.parse(l)));
        if (got.length >= answers) {
          toClient.off('data', onData);
          resolve(got);
        }
      };
      toClient.on('data', onData);
      toServer.write(text);
    });
  return { server, remote, firewall, toServer, toClient, raw };
}

describe('the firewall process and the daemon’s remote firewall', () => {
  it('carries each operation to the real firewall, and its answers back', async () => {
    const { remote, firewall } = pair();
    await remote.setup([net('192.0.2.1'), net('203.0.113.0/24')]);
    await remote.submit({ op: 'block', entry: { net: net('192.0.2.66'), timeout: 120 } });
    await remote.submit({ op: 'unblock', net: net('2001:db8:1::/48') });
    await remote.apply([{ op: 'block', entry: { net: net('198.51.100.0/24'), timeout: null } }]);
    expect(await remote.state()).toEqual(KERNEL);
    await remote.teardown();
    expect(firewall.calls).toEqual(['setup 192.0.2.1 203.0.113.0/24', 'block 192.0.2.66 120', 'unblock 2001:db8:1::/48', 'apply 1', 'state', 'teardown']);
    expect(remote.backend.name).toBe('nft');
    // what the kernel took is counted where the batches are made, and the daemon's metrics read it here
    expect(remote.sent).toEqual({ batches: 3, operations: 3 });
  });

  it('renders a reconciliation against the kernel state it lists itself, never the one the client sends', async () => {
    const { remote, firewall } = pair();
    await remote.apply([{ op: 'unblock', net: net('192.0.2.99') }], { present: true, blocks: [{ net: net('192.0.2.99'), timeout: 5 }], allow: [] });
    expect(firewall.calls).toEqual(['state', 'apply 1 against 198.51.100.7']);
  });

  it('splits a batch larger than one request may carry', async () => {
    const { remote, firewall } = pair();
    const ops: Operation[] = Array.from({ length: MAX_OPS + 5 }, (_, i) => ({ op: 'unblock', net: net(`198.51.100.${i % 256}`) }));
    await remote.apply(ops);
    expect(firewall.calls).toEqual([`apply ${MAX_OPS}`, 'apply 5']);
  });

  it('refuses a block that covers a protected address: the call fails, nothing reaches the firewall', async () => {
    const { remote, firewall, server } = pair();
    await expect(remote.submit({ op: 'block', entry: { net: net('192.0.2.0/24'), timeout: 60 } })).rejects.toThrow(/^firewall process: refused: a block of 192\.0\.2\.0\/24 covers an address the firewall process protects/);
    await expect(remote.apply([{ op: 'block', entry: { net: net('192.0.2.66'), timeout: 60 } }, { op: 'block', entry: { net: net('2001:db8::5'), timeout: 60 } }])).rejects.toThrow(/2001:db8::5/);
    // an allow list without the protected addresses is the daemon's to set; it does not make them blockable
    await remote.setup([]);
    await expect(remote.submit({ op: 'block', entry: { net: net('192.0.2.1'), timeout: 60 } })).rejects.toThrow(/refused/);
    expect(firewall.calls).toEqual(['setup ']);
    expect(server.counts.refused).toBe(3);
  });

  it('answers malformed, oversized and unknown requests with an error and executes nothing; the next good one works', async () => {
    const { raw, firewall } = pair();
    expect(await raw('{"id": 1, "op": \n')).toEqual([{ id: null, ok: false, error: expect.stringMatching(/^not JSON/) }]);
    expect(await raw(`{"id":2,"op":"block","net":"192.0.2.66","timeout":60,"pad":"${'x'.repeat(MAX_REQUEST_CHARS)}"}\n`)).toEqual([
      { id: null, ok: false, error: `request longer than ${MAX_REQUEST_CHARS} characters: refused` },
    ]);
    expect(await raw('{"id":3,"op":"run","argv":["nft","flush","ruleset"]}\n')).toEqual([{ id: 3, ok: false, error: expect.stringMatching(/^op: unknown operation "run"/) }]);
    expect(await raw('{"id":4,"op":"block","net":"192.0.2.066","timeout":60}\n')).toEqual([{ id: 4, ok: false, error: expect.stringMatching(/not a canonical network/) }]);
    expect(firewall.calls).toEqual([]);
    expect(await raw('{"id":5,"op":"block","net":"192.0.2.66","timeout":60}\n')).toEqual([{ id: 5, ok: true, sent: { batches: 1, operations: 1 } }]);
    expect(firewall.calls).toEqual(['block 192.0.2.66 60']);
  });

  it('passes a failing firewall command back as the call’s error', async () => {
    const { remote, firewall } = pair();
    firewall.failWith = 'nft -f - <<< 3 line(s) failed (exit 1): Operation not permitted';
    await expect(remote.submit({ op: 'block', entry: { net: net('192.0.2.66'), timeout: 60 } })).rejects.toThrow('firewall process: nft -f - <<< 3 line(s) failed (exit 1): Operation not permitted');
  });

  it('ends cleanly on close; a client that goes away without closing is "lost"', async () => {
    const a = pair();
    a.remote.close();
    expect(await a.server.done).toBe('closed');
    await expect(a.remote.state()).rejects.toThrow(/closed/);
    const b = pair();
    b.toServer.end();
    expect(await b.server.done).toBe('lost');
  });

  it('on the daemon side: the firewall process gone fails every pending and later call, and says so once', async () => {
    const toClient = new PassThrough();
    const toServer = new PassThrough(); // nobody answers
    const remote = new RemoteFirewall(Duplex.from({ readable: toClient, writable: toServer }), nftBackend, DEFAULT_FIREWALL, silentLogger);
    const lost: string[] = [];
    remote.whenLost((why) => lost.push(why));
    const pending = remote.submit({ op: 'block', entry: { net: net('192.0.2.66'), timeout: 60 } });
    toClient.end();
    await expect(pending).rejects.toThrow('the firewall process closed the channel');
    await expect(remote.teardown()).rejects.toThrow('the firewall process closed the channel');
    expect(lost).toEqual(['the firewall process closed the channel']);
    remote.whenLost((why) => lost.push(`late: ${why}`));
    expect(lost).toHaveLength(2);
  });

  it('passes the signals the firewall process gets on to the daemon: stop, reload', async () => {
    const { remote, server } = pair();
    const events: string[] = [];
    const two = new Promise<void>((resolve) => remote.onEvent((event, why) => events.push(`${event} ${why}`) === 2 && resolve()));
    server.tell('reload', 'SIGHUP');
    server.tell('stop', 'SIGTERM');
    await two;
    expect(events).toEqual(['reload SIGHUP', 'stop SIGTERM']);
  });
});
