import { describe, expect, it } from 'vitest';
import type { Operation } from '../../src/firewall/backend.js';
import { OperationBatcher } from '../../src/firewall/batcher.js';

const block = (last: number): Operation => ({ op: 'block', entry: { net: { addr: `192.0.2.${last}`, cidr: 32, kind: 4 }, timeout: 120 } });

describe('OperationBatcher', () => {
  it('applies operations that arrive together as one batch', async () => {
    const batches: number[] = [];
    const batcher = new OperationBatcher(async (ops) => void batches.push(ops.length), 5);
    await Promise.all([1, 2, 3].map((i) => batcher.submit(block(i))));
    expect(batches).toEqual([3]);
    await batcher.submit(block(4));
    expect(batches).toEqual([3, 1]);
  });

  it('by default sends what arrived in one turn right after it, without a timer', async () => {
    const batches: number[] = [];
    const batcher = new OperationBatcher(async (ops) => void batches.push(ops.length));
    const done = Promise.all([1, 2, 3].map((i) => batcher.submit(block(i))));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([3]);
    await done;
  });

  it('sends a full batch at once, without waiting', async () => {
    const batches: number[] = [];
    const batcher = new OperationBatcher(async (ops) => void batches.push(ops.length), 10_000, 2);
    await Promise.all([1, 2].map((i) => batcher.submit(block(i))));
    expect(batches).toEqual([2]);
  });

  it('keeps batches in order and reports a failing batch to each of its callers', async () => {
    const seen: string[] = [];
    const batcher = new OperationBatcher(async (ops) => {
      seen.push(ops.map((o) => (o.op === 'block' ? o.entry.net.addr : '')).join());
      if (ops.length === 2) throw new Error('nft: Could not process rule');
    }, 1);
    const first = Promise.all([batcher.submit(block(1)), batcher.submit(block(2))]);
    await expect(first).rejects.toThrow('Could not process rule');
    await batcher.submit(block(3));
    expect(seen).toEqual(['192.0.2.1,192.0.2.2', '192.0.2.3']);
  });
});
