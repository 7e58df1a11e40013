// The ipset backend renders exact argv/stdin; parseList reads real `ipset list SET -output save` output (captured
// from ipset v7.17 on Linux 6.18 in a network namespace).
import { describe, expect, it } from 'vitest';
import { DEFAULT_FIREWALL, type FirewallOptions, type Operation } from '../../src/firewall/backend.js';
import { IPSET_MAX_TIMEOUT, ipsetBackend as ips } from '../../src/firewall/ipset.js';
import { type Network, parseNetwork } from '../../src/policy/network.js';
import { saved } from './iptables-save.js';

const n = (t: string): Network => parseNetwork(t)!;
const o: FirewallOptions = DEFAULT_FIREWALL;
const block = (t: string, timeout: number | null = 600): Operation => ({ op: 'block', entry: { net: n(t), timeout } });
const unblock = (t: string): Operation => ({ op: 'unblock', net: n(t) });
const CREATES =
  'create logwarden-block4 hash:net family inet timeout 0 maxelem 1048576\ncreate logwarden-allow4 hash:net family inet\n' +
  'create logwarden-block6 hash:net family inet6 timeout 0 maxelem 1048576\ncreate logwarden-allow6 hash:net family inet6\n';
const restore = (stdin: string) => ({ argv: ['ipset', 'restore', '-exist'], stdin });

describe('ipset backend: rendering', () => {
  it('is ipset with kernel expiry', () => {
    expect(ips.name).toBe('ipset');
    expect(ips.kernelExpiry).toBe(true);
  });

  it('setup: sets created with -exist, allow sets refilled, chain rebuilt, jumps only when missing', () => {
    const chain = (fam: 4 | 6) => ({
      argv: [fam === 4 ? 'iptables-restore' : 'ip6tables-restore', '--noflush', '-w'],
      stdin:
        `*filter\n:logwarden - [0:0]\n-A logwarden -m set --match-set logwarden-allow${fam} src -j RETURN\n` +
        `-A logwarden -m set --match-set logwarden-block${fam} src -j DROP\nCOMMIT\n`,
    });
    const jumps = (cmd: string) => [
      { argv: [cmd, '-w', '-I', 'INPUT', '-j', 'logwarden'], unless: { argv: [cmd, '-w', '-C', 'INPUT', '-j', 'logwarden'] } },
      { argv: [cmd, '-w', '-D', 'FORWARD', '-j', 'logwarden'], okCodes: [1] },
    ];
    expect(ips.setup(o, [n('192.0.2.10'), n('2001:db8::10'), n('203.0.113.0/24'), n('2001:db8:ffff::/48')])).toEqual([
      restore(
        `${CREATES}flush logwarden-allow4\nflush logwarden-allow6\nadd logwarden-allow4 192.0.2.10\nadd logwarden-allow6 2001:db8::10\n` +
          'add logwarden-allow4 203.0.113.0/24\nadd logwarden-allow6 2001:db8:ffff::/48\n',
      ),
      chain(4),
      ...jumps('iptables'),
      chain(6),
      ...jumps('ip6tables'),
    ]);
  });

  it('setup with the forward hook jumps from FORWARD too', () => {
    const inv = ips.setup({ ...o, hooks: ['input', 'forward'] }, []);
    expect(inv[0]).toEqual(restore(`${CREATES}flush logwarden-allow4\nflush logwarden-allow6\n`));
    expect(inv[3]).toEqual({ argv: ['iptables', '-w', '-I', 'FORWARD', '-j', 'logwarden'], unless: { argv: ['iptables', '-w', '-C', 'FORWARD', '-j', 'logwarden'] } });
    expect(inv).toHaveLength(7);
  });

  it('apply: one ipset restore for the whole batch, v4 and v6, prefixes, permanent, re-block, unblock', () => {
    expect(
      ips.apply(o, [
        block('192.0.2.66', 120),
        block('198.51.100.0/24', null),
        block('2001:db8::66', 3600.2),
        block('2001:db8:1::/48', null),
        unblock('192.0.2.67'),
        unblock('2001:db8::10'),
        block('192.0.2.66', 300), // re-block in the same batch: the last one wins
        block('192.0.2.68', 0.2),
        block('192.0.2.69', 10 ** 9),
      ]),
    ).toEqual([
      restore(
        'add logwarden-block4 192.0.2.66 timeout 300\nadd logwarden-block4 198.51.100.0/24 timeout 0\n' +
          'add logwarden-block6 2001:db8::66 timeout 3601\nadd logwarden-block6 2001:db8:1::/48 timeout 0\n' +
          'del logwarden-block4 192.0.2.67\ndel logwarden-block6 2001:db8::10\nadd logwarden-block4 192.0.2.68 timeout 1\n' +
          `add logwarden-block4 192.0.2.69 timeout ${IPSET_MAX_TIMEOUT}\n`,
      ),
    ]);
    expect(ips.apply({ ...o, name: 'lw2' }, [unblock('192.0.2.66')])).toEqual([restore('del lw2-block4 192.0.2.66\n')]);
    expect(ips.apply(o, [])).toEqual([]);
  });

  it('list: each set in save format (a missing set is no error), then one iptables-save per family', () => {
    const sets = ['block4', 'block6', 'allow4', 'allow6'].map((s) => ({ argv: ['ipset', 'list', `logwarden-${s}`, '-output', 'save'], okCodes: [1] }));
    expect(ips.list(o)).toEqual([...sets, { argv: ['iptables-save', '-t', 'filter'] }, { argv: ['ip6tables-save', '-t', 'filter'] }]);
    expect(ips.list({ ...o, hooks: ['input', 'forward'] })).toEqual(ips.list(o));
  });

  it('teardown: chain and jumps, then the four sets (create-then-destroy: missing sets are fine)', () => {
    const fam = (cmd: string, rst: string) => [
      { argv: [rst, '--noflush', '-w'], stdin: '*filter\n:logwarden - [0:0]\nCOMMIT\n' },
      { argv: [cmd, '-w', '-D', 'INPUT', '-j', 'logwarden'], okCodes: [1] },
      { argv: [cmd, '-w', '-D', 'FORWARD', '-j', 'logwarden'], okCodes: [1] },
      { argv: [rst, '--noflush', '-w'], stdin: '*filter\n-X logwarden\nCOMMIT\n' },
    ];
    expect(ips.teardown(o)).toEqual([
      ...fam('iptables', 'iptables-restore'),
      ...fam('ip6tables', 'ip6tables-restore'),
      restore(`${CREATES}destroy logwarden-block4\ndestroy logwarden-block6\ndestroy logwarden-allow4\ndestroy logwarden-allow6\n`),
    ]);
  });
});

describe('ipset backend: refuses what is not canonical', () => {
  const bad: unknown[] = [
    { addr: '192.0.2.1', cidr: 24, kind: 4 },
    { addr: '192.0.2.01', cidr: 32, kind: 4 },
    { addr: '2001:db8::0:1', cidr: 128, kind: 6 },
    { addr: '::ffff:192.0.2.1', cidr: 128, kind: 4 },
    { addr: '192.0.2.1\ndestroy', cidr: 32, kind: 4 },
    { addr: '192.0.2.1 timeout 0', cidr: 32, kind: 4 },
    { addr: '0.0.0.0', cidr: 0, kind: 4 }, // canonical, but hash:net holds no /0
    { addr: '192.0.2.1', cidr: -1, kind: 4 },
    { addr: '192.0.2.1', cidr: 32, kind: 5 },
    undefined,
  ];
  it.each(bad.map((b) => [JSON.stringify(b), b]))('%s', (_t, net) => {
    expect(() => ips.apply(o, [{ op: 'block', entry: { net: net as Network, timeout: 60 } }])).toThrow(/ipset/);
    expect(() => ips.apply(o, [{ op: 'unblock', net: net as Network }])).toThrow(/ipset/);
    expect(() => ips.setup(o, [net as Network])).toThrow(/ipset/);
  });
  it('refuses bad names, hooks and timeouts', () => {
    for (const name of ['', 'lw x', 'lw\nx', '_lw', 'a'.repeat(25)]) expect(() => ips.list({ ...o, name })).toThrow(/name/);
    expect(() => ips.setup({ ...o, hooks: ['input', 'input'] }, [])).toThrow(/hooks/);
    expect(() => ips.apply(o, [{ op: 'block', entry: { net: n('192.0.2.1'), timeout: 'x' as unknown as number } }])).toThrow(/timeout/);
  });
});

// Captured with `ipset list SET -output save` after setup (allow 192.0.2.10, 203.0.113.0/24, 2001:db8::10,
// 2001:db8:ffff::/48) and apply (192.0.2.66 for 600 s, 198.51.100.0/24 permanently, 2001:db8::66 for 3600 s,
// 2001:db8:1::/48 permanently), about a second later; then `iptables -w -S logwarden`, `-S INPUT` per family
// (given to parseList as the iptables-save text that holds them).
const SETS = [
  'create logwarden-block4 hash:net family inet hashsize 1024 maxelem 1048576 timeout 0 bucketsize 12 initval 0xef8fd2a8\nadd logwarden-block4 192.0.2.66 timeout 599\nadd logwarden-block4 198.51.100.0/24 timeout 0\n',
  'create logwarden-block6 hash:net family inet6 hashsize 1024 maxelem 1048576 timeout 0 bucketsize 12 initval 0x151fff9e\nadd logwarden-block6 2001:db8:1::/48 timeout 0\nadd logwarden-block6 2001:db8::66 timeout 3599\n',
  'create logwarden-allow4 hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0xc4cad321\nadd logwarden-allow4 192.0.2.10\nadd logwarden-allow4 203.0.113.0/24\n',
  'create logwarden-allow6 hash:net family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0xdc036969\nadd logwarden-allow6 2001:db8::10\nadd logwarden-allow6 2001:db8:ffff::/48\n',
];
const CHAIN4 = '-N logwarden\n-A logwarden -m set --match-set logwarden-allow4 src -j RETURN\n-A logwarden -m set --match-set logwarden-block4 src -j DROP\n';
const CHAIN6 = '-N logwarden\n-A logwarden -m set --match-set logwarden-allow6 src -j RETURN\n-A logwarden -m set --match-set logwarden-block6 src -j DROP\n';
const INPUT = '-P INPUT ACCEPT\n-A INPUT -j logwarden\n';
const REAL = [...SETS, saved(CHAIN4, INPUT), saved(CHAIN6, INPUT)];
const hook = (family: 4 | 6, h: 'INPUT' | 'FORWARD', jumps = 1, above: string[] = []) => ({ family, hook: h, jumps, above });

describe('ipset backend: parseList', () => {
  it('reads real output with remaining timeouts (0 = permanent)', () => {
    expect(ips.parseList(o, REAL)).toEqual({
      present: true,
      blocks: [
        { net: n('192.0.2.66'), timeout: 599 },
        { net: n('198.51.100.0/24'), timeout: null },
        { net: n('2001:db8:1::/48'), timeout: null },
        { net: n('2001:db8::66'), timeout: 3599 },
      ],
      allow: ['192.0.2.10', '203.0.113.0/24', '2001:db8::10', '2001:db8:ffff::/48'].map(n),
      hooks: [hook(4, 'INPUT'), hook(6, 'INPUT')],
    });
  });
  it('missing sets (exit 1, empty output) or a missing chain mean not present', () => {
    const none = saved();
    expect(ips.parseList(o, ['', '', '', '', none, none])).toEqual({ present: false, blocks: [], allow: [], hooks: [hook(4, 'INPUT', 0), hook(6, 'INPUT', 0)] });
    expect(ips.parseList(o, [SETS[0], SETS[1], SETS[2], '', saved(CHAIN4, INPUT), saved(CHAIN6, INPUT)]).present).toBe(false);
    expect(ips.parseList(o, [...SETS, saved(CHAIN4, INPUT), none]).present).toBe(false);
  });
  it('our chain with other rules than setup writes is altered (flushed, or a rule inserted)', () => {
    const flushed = ips.parseList(o, [...SETS, saved(CHAIN4, INPUT), saved('-N logwarden\n', INPUT)]);
    expect(flushed.present).toBe(true);
    expect(flushed.altered).toBe('chain logwarden (ip6tables) holds other rules: none');
    const inserted = `-N logwarden\n-A logwarden -s 192.0.2.66/32 -j ACCEPT\n${CHAIN4.slice('-N logwarden\n'.length)}`;
    expect(ips.parseList(o, [...SETS, saved(inserted, INPUT), saved(CHAIN6, INPUT)]).altered).toMatch(/^chain logwarden \(iptables\) holds other rules: -A logwarden -s 192\.0\.2\.66\/32 -j ACCEPT; /);
    expect(ips.parseList(o, REAL).altered).toBeUndefined();
  });
  it('a hook chain without our jump, with rules above it, or with it twice', () => {
    const fwd: FirewallOptions = { ...o, hooks: ['input', 'forward'] };
    const forward = '-P FORWARD DROP\n-A FORWARD -j DOCKER-USER\n-A FORWARD -j logwarden\n-A FORWARD -j logwarden\n';
    const state = ips.parseList(fwd, [...SETS, saved(CHAIN4, '-P INPUT ACCEPT\n-A INPUT -i veth0 -j logwarden\n', forward), saved(CHAIN6, INPUT, '-P FORWARD ACCEPT\n')]);
    expect(state.present).toBe(true);
    expect(state.hooks).toEqual([hook(4, 'INPUT', 0), hook(4, 'FORWARD', 2, ['-A FORWARD -j DOCKER-USER']), hook(6, 'INPUT'), hook(6, 'FORWARD', 0)]);
    expect(() => ips.parseList(fwd, REAL.slice(1))).toThrow(/expected 6 listings, got 5/);
  });
  it('ignores other sets and wrong families', () => {
    const odd = 'create logwarden-block4 hash:net family inet\nadd other 192.0.2.1 timeout 5\nadd logwarden-block4 2001:db8::1 timeout 5\nadd logwarden-block4 192.0.2.2\n';
    expect(ips.parseList(o, [odd, '', '', '', saved(CHAIN4, INPUT), saved(CHAIN6, INPUT)]).blocks).toEqual([{ net: n('192.0.2.2'), timeout: null }]);
  });
});
