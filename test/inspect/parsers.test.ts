// The firewall readers on real outputs, captured in a network namespace (test/inspect/fixtures): nft -j list
// ruleset, iptables-nft-save, iptables-legacy-save, ip6tables-nft-save and ipset list with sshguard-,
// fail2ban- and CrowdSec-style objects, hand-written rules and logwarden's own table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { covers, targetOf, toolOf } from '../../src/inspect/finding.js';
import { iptablesFindings, ipsetsUsed, ruleWords, savedTables } from '../../src/inspect/iptables.js';
import { memberCovering, parseIpsetList } from '../../src/inspect/ipset.js';
import { nftFindings } from '../../src/inspect/nft.js';
import { canonicalIP } from '../../src/parse/address.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const target = (addr: string) => {
  const ip = canonicalIP(addr)!;
  return targetOf(ip.addr, ip.kind);
};
const ipsets = new Map(parseIpsetList(fixture('ipset-list.txt')).map((s) => [s.name, s]));
const nft = (addr: string, skip: string[] = []) => nftFindings(fixture('nft-ruleset.json'), target(addr), { fwName: 'logwarden', skipTables: new Set(skip) });
const ipt = (file: string, addr: string) => iptablesFindings(fixture(file), target(addr), { source: file.replace('.txt', ''), fwName: 'logwarden', ipsets });

describe('address coverage', () => {
  it('covers by address, prefix and range, and never across families', () => {
    const t = target('198.51.100.20');
    expect(covers(t, '198.51.100.20')).toBe(true);
    expect(covers(t, '198.51.100.16/28')).toBe(true);
    expect(covers(t, '198.51.100.32/28')).toBe(false);
    expect(covers(t, '198.51.100.10-198.51.100.20')).toBe(true);
    expect(covers(t, '198.51.100.21-198.51.100.30')).toBe(false);
    expect(covers(t, '::/0')).toBe(false);
    expect(covers(t, 'tcp:22')).toBe(false);
    expect(covers(target('2001:db8:1::5'), '2001:db8:1::/48')).toBe(true);
  });

  it('names the tool by the names sshguard, fail2ban and CrowdSec use', () => {
    expect(toolOf({ chain: 'sshguard', table: 'filter' }, 'logwarden')).toBe('sshguard');
    expect(toolOf({ table: 'sshguard' }, 'logwarden')).toBe('sshguard');
    expect(toolOf({ chain: 'f2b-sshd' }, 'logwarden')).toBe('fail2ban');
    expect(toolOf({ table: 'f2b-table', chain: 'f2b-chain', set: 'addr-set-sshd' }, 'logwarden')).toBe('fail2ban');
    expect(toolOf({ set: 'crowdsec-blacklists', chain: 'INPUT' }, 'logwarden')).toBe('crowdsec');
    expect(toolOf({ table: 'crowdsec6' }, 'logwarden')).toBe('crowdsec');
    expect(toolOf({ table: 'lw', chain: 'input' }, 'lw')).toBe('logwarden');
    expect(toolOf({ set: 'lw-block4', chain: 'INPUT' }, 'lw')).toBe('logwarden');
    expect(toolOf({ chain: 'INPUT', table: 'filter' }, 'logwarden')).toBe('other');
  });
});

describe('iptables-save', () => {
  it('splits quoted words as iptables-save writes them', () => {
    expect(ruleWords('-A INPUT -s 192.0.2.1/32 -m comment --comment "a \\"b\\" c" -j DROP')).toEqual([
      '-A', 'INPUT', '-s', '192.0.2.1/32', '-m', 'comment', '--comment', 'a "b" c', '-j', 'DROP',
    ]);
  });

  it("finds a fail2ban chain's REJECT of a /28 and sshguard's DROP, with table, chain and rule", () => {
    expect(ipt('iptables-nft-save.txt', '198.51.100.20')).toEqual([
      expect.objectContaining({
        source: 'iptables-nft-save', tool: 'fail2ban', table: 'filter', chain: 'f2b-sshd', matched: '198.51.100.16/28',
        verdict: 'reject', blocks: true, rule: '-A f2b-sshd -s 198.51.100.16/28 -j REJECT --reject-with icmp-port-unreachable',
      }),
    ]);
    expect(ipt('iptables-nft-save.txt', '198.51.100.7')).toEqual([
      expect.objectContaining({ tool: 'sshguard', chain: 'sshguard', matched: '198.51.100.7/32', verdict: 'drop', blocks: true }),
    ]);
    expect(ipt('iptables-nft-save.txt', '198.51.100.32')).toEqual([]);
  });

  it('follows -m set --match-set into the ipset that holds a covering prefix', () => {
    expect(ipt('iptables-nft-save.txt', '203.0.113.9')).toEqual([
      expect.objectContaining({ tool: 'other', chain: 'INPUT', set: 'myblock', matched: '203.0.113.0/24', verdict: 'drop', blocks: true }),
    ]);
    expect([...ipsetsUsed(fixture('iptables-nft-save.txt'))]).toEqual(['myblock']);
  });

  it('reads the legacy tables too, and ip6tables', () => {
    const legacy = ipt('iptables-legacy-save.txt', '192.0.2.44');
    expect(legacy).toEqual([expect.objectContaining({ source: 'iptables-legacy-save', chain: 'handmade', matched: '192.0.2.0/24', blocks: true })]);
    expect(ipt('iptables-legacy-save.txt', '10.0.0.1')).toEqual([expect.objectContaining({ chain: 'INPUT', verdict: 'accept', blocks: false })]);
    expect(ipt('ip6tables-nft-save.txt', '2001:db8:1::5')).toEqual([expect.objectContaining({ matched: '2001:db8:1::/48', verdict: 'drop' })]);
    expect(savedTables(fixture('iptables-nft-save.txt'))).toEqual(['filter']);
  });

  it('skips negated matches, and a drop after a return of the address in the same chain does not block', () => {
    const text = ['*filter', ':INPUT ACCEPT [0:0]', ':lw - [0:0]', '-A INPUT ! -s 192.0.2.0/24 -j DROP', '-A INPUT -j lw', '-A lw -s 192.0.2.5/32 -j RETURN', '-A lw -s 192.0.2.0/24 -j DROP', 'COMMIT', ''].join('\n');
    const found = iptablesFindings(text, target('192.0.2.5'), { source: 'iptables-nft-save', fwName: 'lw', ipsets: new Map() });
    expect(found.map((f) => [f.chain, f.verdict, f.blocks, f.shadowedBy])).toEqual([
      ['lw', 'return', false, null],
      ['lw', 'drop', false, '-A lw -s 192.0.2.5/32 -j RETURN'],
    ]);
  });

  it("a drop in a chain no built-in chain leads to blocks nothing, and says why (logwarden's jump from INPUT removed)", () => {
    // iptables-nft-save after `iptables -D INPUT -j logwarden` (iptables backend) and an ipset-backend chain
    const text = [
      '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':logwarden - [0:0]', ':logwarden-blk - [0:0]', ':other - [0:0]',
      '-A FORWARD -j other', '-A logwarden -s 192.0.2.10/32 -j RETURN', '-A logwarden -j logwarden-blk', '-A logwarden-blk -s 192.0.2.66/32 -j DROP',
      '-A other -s 192.0.2.0/24 -j DROP', 'COMMIT', '',
    ].join('\n');
    const found = iptablesFindings(text, target('192.0.2.66'), { source: 'iptables-nft-save', fwName: 'logwarden', ipsets: new Map() });
    expect(found.map((f) => [f.chain, f.verdict, f.blocks, f.unreached])).toEqual([
      ['logwarden-blk', 'drop', false, 'chain logwarden-blk is reached only through logwarden, and nothing jumps to it'],
      ['other', 'drop', true, undefined],
    ]);
    const withSets = ['*filter', ':INPUT ACCEPT [0:0]', ':logwarden - [0:0]', '-A logwarden -m set --match-set logwarden-block4 src -j DROP', 'COMMIT', ''].join('\n');
    const sets = new Map([['logwarden-block4', { name: 'logwarden-block4', type: 'hash:net', family: 'inet' as const, members: [{ value: '192.0.2.66', timeout: 100, nomatch: false }] }]]);
    expect(iptablesFindings(withSets, target('192.0.2.66'), { source: 'iptables-nft-save', fwName: 'logwarden', ipsets: sets })).toEqual([
      expect.objectContaining({ tool: 'logwarden', set: 'logwarden-block4', verdict: 'drop', blocks: false, unreached: 'nothing jumps to chain logwarden' }),
    ]);
    // two user chains jumping to each other, nothing else to them
    const loop = ['*filter', ':INPUT ACCEPT [0:0]', ':a - [0:0]', ':b - [0:0]', '-A a -j b', '-A b -j a', '-A b -s 192.0.2.66/32 -j DROP', 'COMMIT', ''].join('\n');
    expect(iptablesFindings(loop, target('192.0.2.66'), { source: 'iptables-nft-save', fwName: 'logwarden', ipsets: new Map() })[0].unreached).toBe(
      'chain b is jumped to only from chains no built-in chain leads to',
    );
    // with the jump back, it blocks again
    const jumped = text.replace('-A FORWARD -j other', '-A INPUT -j logwarden\n-A FORWARD -j other');
    expect(iptablesFindings(jumped, target('192.0.2.66'), { source: 'iptables-nft-save', fwName: 'logwarden', ipsets: new Map() }).map((f) => f.blocks)).toEqual([true, true]);
  });
});

describe('ipset list', () => {
  it('reads names, types, families and members with their timeouts', () => {
    const sets = parseIpsetList(fixture('ipset-list.txt'));
    expect(sets.map((s) => [s.name, s.type, s.family])).toEqual([['myblock', 'hash:net', 'inet'], ['lone', 'hash:ip', 'inet']]);
    expect(memberCovering(sets[1], target('192.0.2.99'))).toEqual({ value: '192.0.2.99', timeout: 599, nomatch: false });
    expect(memberCovering(sets[0], target('192.0.2.99'))).toBeNull();
  });

  it('honours nomatch exceptions and cuts ports off hash:net,port members', () => {
    const [set] = parseIpsetList('Name: s\nType: hash:net,port\nHeader: family inet\nMembers:\n192.0.2.0/24,tcp:22\n192.0.2.8/29,tcp:22 nomatch\n\n');
    expect(memberCovering(set, target('192.0.2.1'))?.value).toBe('192.0.2.0/24');
    expect(memberCovering(set, target('192.0.2.9'))).toBeNull();
  });
});

describe('nft -j list ruleset', () => {
  it("finds a CrowdSec set element, with the rule that drops it and the time it has left", () => {
    expect(nft('192.0.2.55')).toEqual([
      expect.objectContaining({
        source: 'nft', tool: 'crowdsec', table: 'ip crowdsec', chain: 'crowdsec-chain', set: 'crowdsec-blacklists', matched: '192.0.2.55',
        verdict: 'drop', blocks: true, rule: 'ip saddr @crowdsec-blacklists drop', expiresIn: expect.any(Number),
      }),
    ]);
  });

  it("finds prefixes and ranges of another table's set, anonymous sets, and plain prefixes", () => {
    expect(nft('198.51.100.70')).toEqual([expect.objectContaining({ table: 'inet other', set: 'nets', matched: '198.51.100.64/26', verdict: 'reject', blocks: true })]);
    expect(nft('192.0.2.205')).toEqual([expect.objectContaining({ set: 'nets', matched: '192.0.2.200-192.0.2.210' })]);
    expect(nft('192.0.2.78')).toEqual([expect.objectContaining({ set: null, matched: '192.0.2.78', verdict: 'drop', rule: 'ip saddr { 192.0.2.77, 192.0.2.78 } drop' })]);
    expect(nft('2001:db8:2::1')).toEqual([expect.objectContaining({ matched: '2001:db8:2::/48', verdict: 'drop' })]);
    expect(nft('192.0.2.88')).toEqual([expect.objectContaining({ rule: 'ip saddr 192.0.2.88 tcp dport 22 drop', handle: 7 })]);
  });

  it('finds fail2ban\'s f2b-table and a set no rule uses', () => {
    expect(nft('198.51.100.33')).toEqual([expect.objectContaining({ tool: 'fail2ban', table: 'inet f2b-table', set: 'addr-set-sshd', verdict: 'reject', blocks: true })]);
    expect(nft('192.0.2.123')).toEqual([expect.objectContaining({ set: 'unused', rule: null, blocks: false })]);
  });

  it("reads logwarden's own table: the allow set's return comes first, so the prefix block behind it does not block", () => {
    const found = nft('203.0.113.70');
    expect(found.map((f) => [f.tool, f.set, f.verdict, f.blocks])).toEqual([
      ['logwarden', 'allow4', 'return', false],
      ['logwarden', 'blockednet4', 'drop', false],
    ]);
    expect(nft('203.0.113.66')).toEqual([expect.objectContaining({ tool: 'logwarden', set: 'blockednet4', matched: '203.0.113.64/27', blocks: true })]);
  });

  it('leaves out the tables iptables-nft-save shows, so a rule is reported once', () => {
    expect(nft('198.51.100.20')).toHaveLength(1);
    expect(nft('198.51.100.20', ['ip filter'])).toEqual([]);
  });
});
