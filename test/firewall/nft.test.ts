// The nftables backend's rendered commands, exactly, and its reading of real `nft -j` output.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FIREWALL, type Operation, syncOperations } from '../../src/firewall/backend.js';
import { nftBackend, nftInteractiveLines, nftParseList } from '../../src/firewall/nft.js';
import type { Network } from '../../src/policy/network.js';

const o = DEFAULT_FIREWALL;
const n4 = (addr: string, cidr = 32): Network => ({ addr, cidr, kind: 4 });
const n6 = (addr: string, cidr = 128): Network => ({ addr, cidr, kind: 6 });
const block = (net: Network, timeout: number | null): Operation => ({ op: 'block', entry: { net, timeout } });
const unblock = (net: Network): Operation => ({ op: 'unblock', net });
const stdinOf = (ops: Operation[]) => {
  const invs = nftBackend.apply(o, ops);
  expect(invs).toHaveLength(1);
  expect(invs[0].argv).toEqual(['nft', '-f', '-']);
  return invs[0].stdin;
};

// Captured from nft 1.0.6 on Linux 6.18 in a throwaway namespace after setup (allow 192.0.2.10, 203.0.113.0/24,
// 2001:db8::10, 2001:db8:ff::/48) and apply of 192.0.2.66 120 s, 192.0.2.67 permanent, 198.51.100.0/24 1 h,
// 2001:db8::66 600 s, 2001:db8:1::/64 permanent.
const FIXTURE = String.raw`{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "logwarden", "handle": 2}}, {"set": {"family": "inet", "name": "blocked4", "table": "logwarden", "type": "ipv4_addr", "handle": 1, "flags": ["timeout"], "elem": [{"elem": {"val": "192.0.2.66", "timeout": 120, "expires": 119}}, "192.0.2.67"]}}, {"set": {"family": "inet", "name": "blocked6", "table": "logwarden", "type": "ipv6_addr", "handle": 2, "flags": ["timeout"], "elem": [{"elem": {"val": "2001:db8::66", "timeout": 600, "expires": 599}}]}}, {"set": {"family": "inet", "name": "blockednet4", "table": "logwarden", "type": "ipv4_addr", "handle": 3, "flags": ["interval", "timeout"], "elem": [{"elem": {"val": {"prefix": {"addr": "198.51.100.0", "len": 24}}, "timeout": 3600, "expires": 3599}}]}}, {"set": {"family": "inet", "name": "blockednet6", "table": "logwarden", "type": "ipv6_addr", "handle": 4, "flags": ["interval", "timeout"], "elem": [{"prefix": {"addr": "2001:db8:1::", "len": 64}}]}}, {"set": {"family": "inet", "name": "allow4", "table": "logwarden", "type": "ipv4_addr", "handle": 5, "flags": ["interval"], "elem": ["192.0.2.10", {"prefix": {"addr": "203.0.113.0", "len": 24}}]}}, {"set": {"family": "inet", "name": "allow6", "table": "logwarden", "type": "ipv6_addr", "handle": 6, "flags": ["interval"], "elem": ["2001:db8::10", {"prefix": {"addr": "2001:db8:ff::", "len": 48}}]}}, {"chain": {"family": "inet", "table": "logwarden", "name": "input", "handle": 33, "type": "filter", "hook": "input", "prio": -10, "policy": "accept"}}, {"rule": {"family": "inet", "table": "logwarden", "chain": "input", "handle": 34, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@allow4"}}, {"return": null}]}}, {"rule": {"family": "inet", "table": "logwarden", "chain": "input", "handle": 35, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@allow6"}}, {"return": null}]}}, {"rule": {"family": "inet", "table": "logwarden", "chain": "input", "handle": 36, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@blocked4"}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "logwarden", "chain": "input", "handle": 37, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@blockednet4"}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "logwarden", "chain": "input", "handle": 38, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@blocked6"}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "logwarden", "chain": "input", "handle": 39, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@blockednet6"}}, {"drop": null}]}}]}`;

describe('nft backend', () => {
  it('is named nft and lets the kernel expire blocks', () => {
    expect(nftBackend.name).toBe('nft');
    expect(nftBackend.kernelExpiry).toBe(true);
  });

  it('renders setup as one idempotent transaction', () => {
    const invs = nftBackend.setup(o, [n4('192.0.2.10'), n4('203.0.113.0', 24), n6('2001:db8::10'), n6('2001:db8:ff::', 48)]);
    expect(invs).toEqual([
      {
        argv: ['nft', '-f', '-'],
        stdin: [
          'add table inet logwarden',
          'add set inet logwarden blocked4 { type ipv4_addr; flags timeout; }',
          'add set inet logwarden blocked6 { type ipv6_addr; flags timeout; }',
          'add set inet logwarden blockednet4 { type ipv4_addr; flags interval, timeout; }',
          'add set inet logwarden blockednet6 { type ipv6_addr; flags interval, timeout; }',
          'add set inet logwarden allow4 { type ipv4_addr; flags interval; }',
          'add set inet logwarden allow6 { type ipv6_addr; flags interval; }',
          'flush set inet logwarden allow4',
          'flush set inet logwarden allow6',
          'add element inet logwarden allow4 { 192.0.2.10, 203.0.113.0/24 }',
          'add element inet logwarden allow6 { 2001:db8::10, 2001:db8:ff::/48 }',
          'add chain inet logwarden input',
          'flush chain inet logwarden input',
          'delete chain inet logwarden input',
          'add chain inet logwarden forward',
          'flush chain inet logwarden forward',
          'delete chain inet logwarden forward',
          'add chain inet logwarden input { type filter hook input priority -10; policy accept; }',
          'add rule inet logwarden input ip saddr @allow4 return',
          'add rule inet logwarden input ip6 saddr @allow6 return',
          'add rule inet logwarden input ip saddr @blocked4 drop',
          'add rule inet logwarden input ip saddr @blockednet4 drop',
          'add rule inet logwarden input ip6 saddr @blocked6 drop',
          'add rule inet logwarden input ip6 saddr @blockednet6 drop',
          '',
        ].join('\n'),
      },
    ]);
  });

  it('adds a forward chain with the given name and priority, and no allow elements when the list is empty', () => {
    const [inv] = nftBackend.setup({ name: 'lw_test', hooks: ['input', 'forward'], priority: 5 }, []);
    const lines = inv.stdin!.split('\n');
    expect(lines.filter((l) => l.startsWith('add element'))).toEqual([]);
    expect(lines).toContain('add chain inet lw_test input { type filter hook input priority 5; policy accept; }');
    expect(lines).toContain('add chain inet lw_test forward { type filter hook forward priority 5; policy accept; }');
    expect(lines.filter((l) => l.startsWith('add rule inet lw_test forward'))).toHaveLength(6);
    expect(lines.filter((l) => l.startsWith('add rule inet lw_test input'))).toHaveLength(6);
  });

  it('drops allow entries contained in another (an interval set refuses overlaps)', () => {
    const [inv] = nftBackend.setup(o, [n4('192.0.2.10'), n4('192.0.0.0', 16), n4('192.0.2.0', 24), n4('198.51.100.7'), n4('198.51.100.7')]);
    expect(inv.stdin).toContain('add element inet logwarden allow4 { 192.0.0.0/16, 198.51.100.7 }\n');
  });

  it('blocks an IPv4 address with a timeout: add, delete, re-add (creates or refreshes)', () => {
    expect(stdinOf([block(n4('192.0.2.66'), 120)])).toBe(
      [
        'add element inet logwarden blocked4 { 192.0.2.66 }',
        'delete element inet logwarden blocked4 { 192.0.2.66 }',
        'add element inet logwarden blocked4 { 192.0.2.66 timeout 120s }',
        '',
      ].join('\n'),
    );
  });

  it('blocks IPv6, prefixes (separate interval sets) and permanent entries', () => {
    expect(stdinOf([block(n6('2001:db8::66'), 600), block(n4('198.51.100.0', 24), 3600), block(n6('2001:db8:1::', 64), null), block(n4('192.0.2.67'), null)])).toBe(
      [
        'add element inet logwarden blocked4 { 192.0.2.67 }',
        'delete element inet logwarden blocked4 { 192.0.2.67 }',
        'add element inet logwarden blocked4 { 192.0.2.67 }',
        'add element inet logwarden blocked6 { 2001:db8::66 }',
        'delete element inet logwarden blocked6 { 2001:db8::66 }',
        'add element inet logwarden blocked6 { 2001:db8::66 timeout 600s }',
        'add element inet logwarden blockednet4 { 198.51.100.0/24 }',
        'delete element inet logwarden blockednet4 { 198.51.100.0/24 }',
        'add element inet logwarden blockednet4 { 198.51.100.0/24 timeout 3600s }',
        'add element inet logwarden blockednet6 { 2001:db8:1::/64 }',
        'delete element inet logwarden blockednet6 { 2001:db8:1::/64 }',
        'add element inet logwarden blockednet6 { 2001:db8:1::/64 }',
        '',
      ].join('\n'),
    );
  });

  it('renders one line per set for a batch; a re-block in the batch keeps only the last state', () => {
    expect(stdinOf([block(n4('192.0.2.66'), 120), block(n4('192.0.2.67'), 30), block(n4('192.0.2.66'), 500), unblock(n4('192.0.2.67')), unblock(n4('192.0.2.99'))])).toBe(
      [
        'add element inet logwarden blocked4 { 192.0.2.66, 192.0.2.67, 192.0.2.99 }',
        'delete element inet logwarden blocked4 { 192.0.2.66, 192.0.2.67, 192.0.2.99 }',
        'add element inet logwarden blocked4 { 192.0.2.66 timeout 500s }',
        '',
      ].join('\n'),
    );
  });

  it('with the kernel state known, only adds what the kernel does not hold (add + delete is slow in an interval set)', () => {
    const current = { present: true, blocks: [{ net: n6('2001:db8:1::', 64), timeout: 60 }], allow: [] };
    const [inv] = nftBackend.apply(o, [block(n6('2001:db8:1::', 64), 600), block(n6('2001:db8:2::', 64), 600), unblock(n4('192.0.2.9'))], current);
    expect(inv.stdin).toBe(
      'add element inet logwarden blockednet6 { 2001:db8:1::/64 }\n' +
        'delete element inet logwarden blockednet6 { 2001:db8:1::/64 }\n' +
        'add element inet logwarden blockednet6 { 2001:db8:1::/64 timeout 600s, 2001:db8:2::/64 timeout 600s }\n',
    );
    expect(nftBackend.apply(o, [block(n4('192.0.2.9'), 60)], { present: true, blocks: [], allow: [] })[0].stdin).toBe(
      'add element inet logwarden blocked4 { 192.0.2.9 timeout 60s }\n',
    );
  });

  it('unblocks with add + delete so that a missing element is not an error', () => {
    expect(stdinOf([unblock(n4('192.0.2.66')), unblock(n6('2001:db8::', 64))])).toBe(
      [
        'add element inet logwarden blocked4 { 192.0.2.66 }',
        'delete element inet logwarden blocked4 { 192.0.2.66 }',
        'add element inet logwarden blockednet6 { 2001:db8::/64 }',
        'delete element inet logwarden blockednet6 { 2001:db8::/64 }',
        '',
      ].join('\n'),
    );
  });

  it('rounds timeouts up to whole seconds (at least 1 s) and caps them where the kernel would refuse', () => {
    const s = stdinOf([block(n4('192.0.2.1'), 0.2), block(n4('192.0.2.2'), 59.5), block(n4('192.0.2.3'), 99_999_999), block(n4('192.0.2.4'), 100_000_000), block(n4('192.0.2.5'), 1e15)]);
    expect(s).toContain('{ 192.0.2.1 timeout 1s, 192.0.2.2 timeout 60s, 192.0.2.3 timeout 99999999s, 192.0.2.4 timeout 1157d35200s, 192.0.2.5 timeout 100000d0s }');
  });

  it('renders nothing for an empty batch', () => {
    expect(nftBackend.apply(o, [])).toEqual([]);
  });

  it('renders one atomic line per operation for a long-lived nft -i', () => {
    expect(nftInteractiveLines(o, [block(n4('192.0.2.66'), 120), unblock(n6('2001:db8::66'))])).toEqual([
      'add element inet logwarden blocked4 { 192.0.2.66 }; delete element inet logwarden blocked4 { 192.0.2.66 }; add element inet logwarden blocked4 { 192.0.2.66 timeout 120s }',
      'add element inet logwarden blocked6 { 2001:db8::66 }; delete element inet logwarden blocked6 { 2001:db8::66 }',
    ]);
  });

  it('lists the table as JSON, a missing table (exit 1) not being an error', () => {
    expect(nftBackend.list(o)).toEqual([{ argv: ['nft', '-j', 'list', 'table', 'inet', 'logwarden'], okCodes: [1] }]);
  });

  it('tears down only its own table, without failing when it is gone', () => {
    expect(nftBackend.teardown(o)).toEqual([{ argv: ['nft', '-f', '-'], stdin: 'add table inet logwarden\ndelete table inet logwarden\n' }]);
  });

  it('reads real nft -j output: seconds left, permanent, prefixes, allow sets', () => {
    expect(nftParseList(o, [FIXTURE])).toEqual({
      present: true,
      blocks: [
        { net: n4('192.0.2.66'), timeout: 119 },
        { net: n4('192.0.2.67'), timeout: null },
        { net: n6('2001:db8::66'), timeout: 599 },
        { net: n4('198.51.100.0', 24), timeout: 3599 },
        { net: n6('2001:db8:1::', 64), timeout: null },
      ],
      allow: [n4('192.0.2.10'), n4('203.0.113.0', 24), n6('2001:db8::10'), n6('2001:db8:ff::', 48)],
    });
  });

  it('reads a missing table as absent, ignores other tables, and splits merged ranges into prefixes', () => {
    expect(nftParseList(o, [''])).toEqual({ present: false, blocks: [], allow: [] });
    expect(nftParseList({ ...o, name: 'other' }, [FIXTURE])).toEqual({ present: false, blocks: [], allow: [] });
    const ranged = JSON.stringify({
      nftables: [
        { table: { family: 'inet', name: 'logwarden', handle: 1 } },
        { set: { family: 'inet', name: 'allow4', table: 'logwarden', type: 'ipv4_addr', flags: ['interval'], elem: [{ range: ['192.0.2.1', '192.0.2.6'] }] } },
        { set: { family: 'inet', name: 'blocked6', table: 'logwarden', type: 'ipv6_addr', flags: ['timeout'], elem: [{ elem: { val: '2001:DB8:0::66', timeout: 60 } }] } },
      ],
    });
    expect(nftParseList(o, [ranged])).toEqual({
      present: true,
      blocks: [{ net: n6('2001:db8::66'), timeout: 60 }],
      allow: [n4('192.0.2.1'), n4('192.0.2.2', 31), n4('192.0.2.4', 31), n4('192.0.2.6')],
      // only two sets and no chain: not as setup makes it
      altered: 'set(s) blocked4, blockednet4, blockednet6, allow6 missing',
    });
  });

  it('reads a rule inserted into our chain, a changed policy or a missing chain as altered', () => {
    const doc = JSON.parse(FIXTURE) as { nftables: Record<string, unknown>[] };
    const foreign = { rule: { family: 'inet', table: 'logwarden', chain: 'input', handle: 40, expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 22 } }, { accept: null }] } };
    const inserted = { nftables: [...doc.nftables.slice(0, 9), foreign, ...doc.nftables.slice(9)] };
    expect(nftParseList(o, [JSON.stringify(inserted)]).altered).toMatch(/^chain input holds other rules: a foreign rule; ip saddr @allow4 return/);
    const dropPolicy = { nftables: doc.nftables.map((i) => (i.chain ? { chain: { ...(i.chain as object), policy: 'drop' } } : i)) };
    expect(nftParseList(o, [JSON.stringify(dropPolicy)]).altered).toBe('chain input has hook input, priority -10, policy drop');
    expect(nftParseList({ ...o, hooks: ['input', 'forward'] }, [FIXTURE]).altered).toBe('chain forward missing');
  });

  it('plans a resync against what the kernel holds', () => {
    const current = nftParseList(o, [FIXTURE]);
    const ops = syncOperations([{ net: n4('192.0.2.66'), timeout: 100 }, { net: n4('192.0.2.68'), timeout: 50 }], current);
    expect(ops.map((x) => (x.op === 'block' ? `+${x.entry.net.addr}` : `-${x.net.addr}`))).toEqual(['+192.0.2.68', '-192.0.2.67', '-2001:db8::66', '-198.51.100.0', '-2001:db8:1::']);
  });

  it('refreshes short kernel timeouts, and renews a block longer than the kernel holds only past half of the cap', () => {
    const held = (timeout: number) => ({ present: true, allow: [], blocks: [{ net: n4('192.0.2.66'), timeout }] });
    const want = (timeout: number | null) => [{ net: n4('192.0.2.66'), timeout }];
    const plan = (w: number | null, k: number) => syncOperations(want(w), held(k), true, 1000).length;
    expect(plan(600, 590)).toBe(0); // the time since rendering
    expect(plan(600, 100)).toBe(1); // shortened by hand
    expect(plan(null, 100)).toBe(1); // permanent in the store
    expect(plan(5000, 990)).toBe(0); // capped at 1000: kept
    expect(plan(5000, 600)).toBe(0);
    expect(plan(5000, 400)).toBe(1); // past half of the cap: renewed
    expect(syncOperations(want(600), held(100), false).length).toBe(0); // no kernel expiry: timeouts are not compared
  });

  it('refuses anything that is not a canonical network, and bad names', () => {
    const bad: Network[] = [
      n4('192.0.2.066'),
      n4('192.0.2.1; flush ruleset'),
      n4('192.0.2.1 }'),
      n4('192.0.2.1', 24),
      n4('192.0.2.0', 33),
      n4('192.0.2.0', 24.5),
      n6('2001:DB8::1'),
      n6('2001:db8:0::1'),
      n6('2001:db8::1', 64),
      { addr: '2001:db8::1', cidr: 32, kind: 4 },
      { addr: '192.0.2.1', cidr: 128, kind: 6 },
      { addr: '::ffff:192.0.2.1', cidr: 128, kind: 6 },
      { addr: 'example.com', cidr: 32, kind: 4 },
    ];
    for (const net of bad) {
      expect(() => nftBackend.apply(o, [block(net, 60)]), JSON.stringify(net)).toThrow(/non-canonical/);
      expect(() => nftBackend.apply(o, [unblock(net)]), JSON.stringify(net)).toThrow(/non-canonical/);
      expect(() => nftBackend.setup(o, [net]), JSON.stringify(net)).toThrow(/non-canonical/);
      expect(() => nftInteractiveLines(o, [block(net, 60)]), JSON.stringify(net)).toThrow(/non-canonical/);
    }
    expect(() => nftBackend.apply(o, [block(n4('192.0.2.1'), Number.NaN)])).toThrow(/timeout/);
    for (const name of ['', 'log warden', 'lw;flush', 'a'.repeat(33), '1lw', 'lw-x']) {
      expect(() => nftBackend.setup({ ...o, name }, []), name).toThrow(/name/);
      expect(() => nftBackend.teardown({ ...o, name }), name).toThrow(/name/);
    }
    expect(() => nftBackend.setup({ ...o, priority: 1.5 }, [])).toThrow(/priority/);
    expect(() => nftBackend.setup({ ...o, hooks: ['output' as 'input'] }, [])).toThrow(/hooks/);
  });
});
