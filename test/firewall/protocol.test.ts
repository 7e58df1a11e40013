import { describe, expect, it } from 'vitest';
import { decodeState, encodeRequest, encodeState, MAX_OPS, MAX_REQUEST_CHARS, parseRequest, type Request } from '../../src/firewall/protocol.js';
import { NetworkSet, parseNetwork } from '../../src/policy/network.js';

const protect = new NetworkSet();
for (const text of ['192.0.2.1', '2001:db8::1', '203.0.113.0/28']) protect.add(parseNetwork(text)!);
const parse = (value: unknown) => parseRequest(typeof value === 'string' ? value : JSON.stringify(value), protect);
const error = (value: unknown) => {
  const parsed = parse(value);
  if (parsed.ok) throw new Error(`accepted ${JSON.stringify(value)}`);
  return parsed;
};

describe('the firewall protocol: what the privileged side accepts', () => {
  it('reads each operation, with its networks as canonical texts', () => {
    expect(parse({ id: 1, op: 'block', net: '192.0.2.66', timeout: 120 })).toEqual({
      ok: true,
      request: { id: 1, op: 'block', entry: { net: { addr: '192.0.2.66', cidr: 32, kind: 4 }, timeout: 120 } },
    });
    expect(parse({ id: 2, op: 'unblock', net: '2001:db8:1::/48' })).toEqual({ ok: true, request: { id: 2, op: 'unblock', net: { addr: '2001:db8:1::', cidr: 48, kind: 6 } } });
    expect(parse({ id: 3, op: 'block', net: '198.51.100.0/24', timeout: null })).toMatchObject({ ok: true, request: { entry: { timeout: null } } });
    expect(parse({ id: 4, op: 'setup', allow: ['192.0.2.1', '2001:db8::/64'] })).toMatchObject({ ok: true, request: { op: 'setup', allow: [{ addr: '192.0.2.1' }, { addr: '2001:db8::', cidr: 64 }] } });
    expect(parse({ id: 5, op: 'apply', ops: [{ block: '192.0.2.9', timeout: 60 }, { unblock: '192.0.2.8' }], reconcile: true })).toMatchObject({
      ok: true,
      request: { op: 'apply', reconcile: true, ops: [{ op: 'block', entry: { net: { addr: '192.0.2.9' }, timeout: 60 } }, { op: 'unblock', net: { addr: '192.0.2.8' } }] },
    });
    for (const op of ['state', 'teardown', 'close']) expect(parse({ id: 6, op })).toEqual({ ok: true, request: { id: 6, op } });
  });

  it('refuses what is not a JSON object with an id, without an id to answer to', () => {
    expect(error('{"id": 1, "op": "block"')).toMatchObject({ id: null, error: expect.stringMatching(/^not JSON/) });
    expect(error('["block", "192.0.2.66"]')).toMatchObject({ id: null, error: 'expected a JSON object' });
    expect(error({ op: 'state' })).toMatchObject({ id: null, error: expect.stringMatching(/^id: /) });
    expect(error({ id: -1, op: 'state' })).toMatchObject({ id: null });
    expect(error({ id: 1.5, op: 'state' })).toMatchObject({ id: null });
  });

  it('refuses unknown operations and command-like fields', () => {
    expect(error({ id: 7, op: 'exec', argv: ['nft', 'flush', 'ruleset'] })).toMatchObject({ id: 7, error: expect.stringMatching(/^op: unknown operation "exec"/) });
    expect(error({ id: 8, op: 'block', net: '192.0.2.66', timeout: 60, argv: ['nft'] })).toMatchObject({ id: 8, error: expect.stringMatching(/unexpected field\(s\) "argv"/) });
    expect(error({ id: 9, op: 'state', stdin: 'flush ruleset' })).toMatchObject({ error: expect.stringMatching(/"stdin"/) });
    expect(error({ id: 10, op: 'apply', ops: [{ block: '192.0.2.9', timeout: 60, set: 'allow4' }], reconcile: false })).toMatchObject({ error: expect.stringMatching(/^ops\[0\]: expected/) });
    expect(error({ id: 11, op: 'apply', ops: [{ flush: 'ruleset' }], reconcile: false })).toMatchObject({ error: expect.stringMatching(/^ops\[0\]/) });
  });

  it('refuses every network that is not exactly canonical', () => {
    const refused = [
      '192.0.2.1/24', // host bits
      '192.0.2.7/32', // a host is written without its length
      '192.000.2.7',
      '0300.0.2.7',
      '2001:DB8::1',
      '2001:db8:0:0::1',
      '::ffff:192.0.2.7',
      '192.0.2.7; nft flush ruleset',
      '192.0.2.7 ',
      '192.0.2.0/33',
      '2001:db8::/129',
      'example.org',
      '',
    ];
    for (const net of refused) expect(error({ id: 12, op: 'block', net, timeout: 60 }), net).toMatchObject({ id: 12, error: expect.stringMatching(/^net: .*not a canonical network/) });
    expect(error({ id: 13, op: 'unblock', net: 3232235521 })).toMatchObject({ error: expect.stringMatching(/^net: expected a network as text/) });
    expect(error({ id: 14, op: 'unblock', net: { addr: '192.0.2.7', cidr: 32, kind: 4 } })).toMatchObject({ error: expect.stringMatching(/^net: expected a network as text/) });
    expect(error({ id: 15, op: 'setup', allow: ['192.0.2.1', '10.0.0.1/8'] })).toMatchObject({ error: expect.stringMatching(/^allow\[1\]: "10.0.0.1\/8" is not a canonical network \(that would be 10.0.0.0\/8\)/) });
    expect(error({ id: 16, op: 'apply', ops: [{ unblock: '192.0.2.8' }, { unblock: '192.0.2.9/31' }], reconcile: false })).toMatchObject({ error: expect.stringMatching(/^ops\[1\]\.unblock: /) });
  });

  it('refuses timeouts that are not positive seconds', () => {
    for (const timeout of [0, -5, '60', 1e13, undefined]) {
      expect(error({ id: 17, op: 'block', net: '192.0.2.66', timeout }), String(timeout)).toMatchObject({ error: expect.stringMatching(/^timeout: /) });
    }
    expect(error('{"id":17,"op":"block","net":"192.0.2.66","timeout":NaN}')).toMatchObject({ id: null });
  });

  it('refuses a block that covers a protected address, and the whole batch that holds one', () => {
    expect(error({ id: 18, op: 'block', net: '192.0.2.1', timeout: 60 })).toMatchObject({ id: 18, error: expect.stringMatching(/^refused: a block of 192\.0\.2\.1 covers an address the firewall process protects/) });
    expect(error({ id: 19, op: 'block', net: '192.0.2.0/24', timeout: 60 })).toMatchObject({ error: expect.stringMatching(/192\.0\.2\.0\/24/) });
    expect(error({ id: 20, op: 'block', net: '2001:db8::/64', timeout: null })).toMatchObject({ error: expect.stringMatching(/^refused/) });
    expect(error({ id: 21, op: 'block', net: '203.0.113.8', timeout: 60 })).toMatchObject({ error: expect.stringMatching(/^refused/) });
    expect(error({ id: 22, op: 'block', net: '0.0.0.0/0', timeout: 60 })).toMatchObject({ error: expect.stringMatching(/^refused/) });
    expect(error({ id: 23, op: 'apply', ops: [{ block: '192.0.2.66', timeout: 60 }, { block: '203.0.113.0/24', timeout: 60 }], reconcile: true })).toMatchObject({ id: 23, error: expect.stringMatching(/203\.0\.113\.0\/24/) });
    // neighbours, and lifting a block of a protected address, are fine
    expect(parse({ id: 24, op: 'block', net: '192.0.2.2', timeout: 60 }).ok).toBe(true);
    expect(parse({ id: 25, op: 'block', net: '203.0.113.16/28', timeout: 60 }).ok).toBe(true);
    expect(parse({ id: 26, op: 'unblock', net: '192.0.2.1' }).ok).toBe(true);
  });

  it('bounds requests: line length, operations per batch', () => {
    expect(error('x'.repeat(MAX_REQUEST_CHARS + 1))).toMatchObject({ id: null, error: expect.stringMatching(/^request longer than/) });
    const ops = Array.from({ length: MAX_OPS + 1 }, () => ({ unblock: '192.0.2.8' }));
    expect(error({ id: 27, op: 'apply', ops, reconcile: false })).toMatchObject({ error: expect.stringMatching(/^ops: expected an array of at most/) });
    expect(error({ id: 28, op: 'apply', ops: [], reconcile: 'yes' })).toMatchObject({ error: expect.stringMatching(/^reconcile: /) });
  });

  it('reads back what the client writes, and the state the server lists', () => {
    const requests: Request[] = [
      { id: 1, op: 'setup', allow: [parseNetwork('192.0.2.1')!, parseNetwork('2001:db8:5::/48')!] },
      { id: 2, op: 'block', entry: { net: parseNetwork('198.51.100.0/24')!, timeout: 3600 } },
      { id: 3, op: 'unblock', net: parseNetwork('2001:db8::66')! },
      { id: 4, op: 'apply', ops: [{ op: 'block', entry: { net: parseNetwork('192.0.2.66')!, timeout: null } }, { op: 'unblock', net: parseNetwork('192.0.2.67')! }], reconcile: false },
      { id: 5, op: 'teardown' },
    ];
    for (const request of requests) expect(parseRequest(encodeRequest(request), new NetworkSet())).toEqual({ ok: true, request });
    const state = { present: true, blocks: [{ net: parseNetwork('192.0.2.66')!, timeout: 0 }, { net: parseNetwork('2001:db8::/64')!, timeout: null }], allow: [parseNetwork('192.0.2.1')!], altered: 'set allow4 missing' };
    expect(decodeState(JSON.parse(JSON.stringify(encodeState(state))))).toEqual(state);
    expect(() => decodeState({ present: true, blocks: [{ net: '192.0.2.1/24', timeout: 5 }], allow: [] })).toThrow(/malformed state/);
  });
});
