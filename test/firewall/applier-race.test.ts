// The periodic sync and the daemon's own blocks run at the same time: a block decided and applied while the sync
// lists the kernel must not be taken for drift and removed (it then stayed out of the kernel until the next sync).
import { describe, expect, it } from 'vitest';
import { Applier, type WantedState } from '../../src/firewall/applier.js';
import { type BlockEntry, DEFAULT_FIREWALL, type KernelState, type Operation } from '../../src/firewall/backend.js';
import type { FirewallPort } from '../../src/firewall/surface.js';
import { nftBackend } from '../../src/firewall/nft.js';
import { plainLogger } from '../../src/log/logger.js';
import { parseNetwork } from '../../src/policy/network.js';

const entry = (text: string): BlockEntry => ({ net: parseNetwork(text)!, timeout: 600 });

describe('Applier.reconcile against a block made meanwhile', () => {
  it('keeps a block applied while the kernel was being listed', async () => {
    const wanted: WantedState = { blocks: [entry('192.0.2.1')], allow: [] };
    const kernel: KernelState = { present: true, blocks: [entry('192.0.2.1')], allow: [] };
    const applied: Operation[] = [];
    const firewall: FirewallPort = {
      backend: nftBackend,
      options: DEFAULT_FIREWALL,
      sent: { batches: 0, operations: 0 },
      keepSessionOpen: () => {},
      close: () => {},
      setup: async () => {},
      submit: async () => {},
      teardown: async () => {},
      apply: async (ops) => void applied.push(...ops),
      state: async () => {
        // the daemon decides a block now: recorded in its wanted state, then in the kernel, before the listing ends
        wanted.blocks.push(entry('198.51.100.7'));
        kernel.blocks.push(entry('198.51.100.7'));
        return { ...kernel, blocks: [...kernel.blocks] };
      },
    };
    const applier = new Applier(firewall, plainLogger('error', () => {}), () => ({ blocks: [...wanted.blocks], allow: wanted.allow }));
    const drift = await applier.reconcile();
    expect(applied.filter((op) => op.op === 'unblock')).toEqual([]);
    expect(drift.unblocked).toEqual([]);
  });
});
