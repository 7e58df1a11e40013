// explain's verdict from facts: one line first, in the order a person needs it.
import { describe, expect, it } from 'vitest';
import { explainAddress, type ExplainFacts } from '../../src/inspect/explanation.js';
import { renderExplanation } from '../../src/inspect/render.js';
import { DEFAULT_POLICY } from '../../src/policy/policy.js';
import type { BlockRow, EvidenceRow, FleetDecisionRow } from '../../src/store/store.js';

const NOW = Date.parse('2026-05-01T12:00:00Z');
const base = (over: Partial<ExplainFacts> = {}): ExplainFacts => ({
  addr: '192.0.2.7',
  kind: 4,
  now: NOW,
  policy: DEFAULT_POLICY,
  db: '/tmp/state.db',
  whitelisted: null,
  allowed: null,
  blocks: [],
  offenders: [],
  evidence: [],
  evidenceLimit: 10,
  lastTrust: null,
  fleet: [],
  dryRun: false,
  firewall: { findings: [], read: ['nft -j list ruleset'], skipped: [] },
  commandPrefix: 'logwarden --db /tmp/state.db',
  whitelistFile: '/etc/logwarden/whitelist',
  ...over,
});
const block = (over: Partial<BlockRow>): BlockRow => ({
  id: 1, key: '192.0.2.7', addr: '192.0.2.7', cidr: 32, kind: 4, start: NOW - 60_000, expires: NOW + 60_000, origin: 'policy',
  reason: { score: 30, attacks: 3, rules: ['ssh-failed-password'], evidence: ['line'] }, state: 'active', endedAt: null, simulated: false, ...over,
});
const decision = (over: Partial<FleetDecisionRow>): FleetDecisionRow => ({
  id: 41, key: '192.0.2.7', net: { addr: '192.0.2.7', cidr: 32, kind: 4 }, origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf',
  until: NOW + 3600_000, state: 'applied', detail: '', seenAt: NOW - 60_000, ...over,
});
const attack = (time: number, outcome = 'scored'): EvidenceRow => ({
  offender: '192.0.2.7', time, source: '/var/log/auth.log', lineNo: 12, event: 'attack', rule: 'ssh-failed-password', service: 100,
  danger: 10, addr: '192.0.2.7', outcome, line: 'Failed password for root from 192.0.2.7',
});

describe('explainAddress', () => {
  it('blocked: until when, the unblock command and the whitelist line; the span of the attacks that led to it', () => {
    const e = explainAddress(base({ blocks: [block({})], evidence: [attack(NOW - 61_000), attack(NOW - 65_000)] }));
    expect(e.verdict).toEqual(expect.objectContaining({ state: 'blocked', until: new Date(NOW + 60_000).toISOString() }));
    expect(e.verdict.text).toBe(`192.0.2.7 is blocked until ${new Date(NOW + 60_000).toISOString()} (by logwarden, policy)`);
    expect(e.lift).toEqual(['logwarden --db /tmp/state.db unblock 192.0.2.7']);
    expect(e.prevent).toContain('add the line "192.0.2.7" to /etc/logwarden/whitelist');
    expect(e.blocks[0]).toEqual(expect.objectContaining({ active: true, seconds: 120, firstAttack: new Date(NOW - 65_000).toISOString() }));
    expect(e.blocked).toBe(true);
    expect(renderExplanation(e).split('\n')[0]).toBe(e.verdict.text);
  });

  it('blocked as part of a prefix, and permanently', () => {
    const e = explainAddress(base({ blocks: [block({ key: '192.0.2.0/24', addr: '192.0.2.0', cidr: 24, expires: null, origin: 'manual' })] }));
    expect(e.verdict.state).toBe('blocked-by-prefix');
    expect(e.verdict.text).toBe('192.0.2.7 is blocked as part of 192.0.2.0/24 permanently (by logwarden, manual)');
    expect(e.lift).toEqual(['logwarden --db /tmp/state.db unblock 192.0.2.0/24']);
  });

  it('a block whose time is over, or a simulated one, does not block', () => {
    const e = explainAddress(base({ blocks: [block({ expires: NOW - 1 }), block({ id: 2, simulated: true })] }));
    expect(e.verdict.state).toBe('not-blocked');
    expect(e.blocks.map((b) => [b.state, b.active, b.simulated])).toEqual([['expired', false, false], ['active', true, true]]);
    expect(e.blocked).toBe(false);
  });

  it("whitelisted: by which entry of which file and line, and the whitelisted address's own attacks", () => {
    const e = explainAddress(base({
      whitelisted: { net: { addr: '192.0.2.0', cidr: 24, kind: 4 }, source: '/etc/logwarden/whitelist', line: 3 },
      evidence: [attack(NOW - 1000, 'whitelisted'), attack(NOW - 2000, 'whitelisted')],
    }));
    expect(e.verdict.text).toBe('192.0.2.7 is whitelisted by 192.0.2.0/24 (/etc/logwarden/whitelist line 3): logwarden never blocks it');
    expect(e.evidence).toEqual(expect.objectContaining({ kept: 2, attacks: 2, unscored: 2 }));
    expect(renderExplanation(e)).toContain('this whitelisted address made 2 attack(s)');
  });

  it('trusted until the trust time after the last successful login', () => {
    const login: EvidenceRow = { ...attack(NOW - 600_000), event: 'login', rule: 'ssh-accepted', danger: 0, outcome: 'trust-granted' };
    const e = explainAddress(base({ lastTrust: login, evidence: [login] }));
    expect(e.verdict.state).toBe('trusted');
    expect(e.verdict.until).toBe(new Date(NOW - 600_000 + 3600_000).toISOString());
  });

  it('score and penalty: what they decay to and when, and how long a next block would last', () => {
    const e = explainAddress(base({
      offenders: [{ key: '192.0.2.7', addr: '192.0.2.7', cidr: 32, kind: 4, windowStart: NOW - 60_000, score: 20, windowAttacks: 2, level: 2,
        levelAt: NOW - 7 * 86400_000, blockedDanger: 60, blockedUntil: null, blocks: 2, attacks: 8, firstSeen: NOW - 8 * 86400_000, lastSeen: NOW - 60_000 }],
    }));
    expect(e.score).toEqual(expect.objectContaining({ score: 20, windowEnds: new Date(NOW - 60_000 + 1800_000).toISOString(), nextBlockSeconds: 240 }));
    expect(e.score!.level).toBeCloseTo(1);
  });

  it('blocked by another tool only: its lift command, exit 1, and no whitelist advice for logwarden', () => {
    const e = explainAddress(base({
      firewall: {
        read: ['iptables-nft-save'], skipped: [],
        findings: [{ source: 'iptables-nft-save', tool: 'fail2ban', table: 'filter', chain: 'f2b-sshd', set: null, matched: '192.0.2.0/28', direction: 'source',
          rule: '-A f2b-sshd -s 192.0.2.0/28 -j REJECT', verdict: 'reject', target: null, blocks: true, expiresIn: null, handle: null, shadowedBy: null }],
      },
    }));
    expect(e.verdict.state).toBe('blocked-elsewhere');
    expect(e.verdict.text).toContain('fail2ban (iptables-nft-save: table filter, chain f2b-sshd)');
    expect(e.lift).toEqual(['fail2ban-client set sshd unbanip 192.0.2.7']);
    expect(e.prevent).toBeNull();
    expect(e.blocked).toBe(true);
  });

  it("blocked in the store, our DROP in a chain nothing jumps to: the firewall part says it is never reached", () => {
    const e = explainAddress(base({
      blocks: [block({})],
      firewall: {
        read: ['iptables-nft-save'], skipped: [],
        findings: [{ source: 'iptables-nft-save', tool: 'logwarden', table: 'filter', chain: 'logwarden-blk', set: null, matched: '192.0.2.7/32', direction: 'source',
          rule: '-A logwarden-blk -s 192.0.2.7/32 -j DROP', verdict: 'drop', target: null, blocks: false, expiresIn: null, handle: null, shadowedBy: null,
          unreached: 'chain logwarden-blk is reached only through logwarden, and nothing jumps to it' }],
      },
    }));
    expect(e.firewall.blocking).toBe(0);
    expect(renderExplanation(e)).toContain(
      'logwarden: iptables-nft-save: table filter, chain logwarden-blk: 192.0.2.7/32 -> DROP, never reached: chain logwarden-blk is reached only through logwarden, and nothing jumps to it',
    );
  });

  it('an address never seen: says so', () => {
    const e = explainAddress(base());
    expect(e.known).toBe(false);
    expect(renderExplanation(e)).toContain('logwarden has never seen 192.0.2.7');
  });

  describe('fleet decisions (CrowdSec LAPI)', () => {
    const until = new Date(NOW + 3600_000).toISOString();

    it('blocked by the fleet: the decision, its origin, scenario and end; lifted with cscli; exit 1', () => {
      const e = explainAddress(base({ fleet: [decision({})] }));
      expect(e.verdict).toEqual({
        state: 'blocked-by-fleet',
        text: `192.0.2.7 is blocked by the fleet: decision 41 from origin crowdsec (scenario crowdsecurity/ssh-bf), until ${until}`,
        until, permanent: false, by: 'fleet',
      });
      expect(e.lift).toEqual(['cscli decisions delete --id 41']);
      expect(e.prevent).toContain('add the line "192.0.2.7" to /etc/logwarden/whitelist');
      expect(e.fleet).toEqual([expect.objectContaining({ decision: 41, network: '192.0.2.7', state: 'applied', blocks: true, keptBy: null })]);
      expect(e.blocked).toBe(true);
      const text = renderExplanation(e);
      expect(text.split('\n')[0]).toBe(e.verdict.text);
      expect(text).toContain(`Fleet decisions (CrowdSec LAPI, 1):\n  blocked by the fleet: decision 41`);
    });

    it("the kernel's element of a fleet block does not make it 'blocked elsewhere'", () => {
      const e = explainAddress(base({
        fleet: [decision({ key: '192.0.2.0/24', net: { addr: '192.0.2.0', cidr: 24, kind: 4 } })],
        firewall: {
          read: ['nft -j list ruleset'], skipped: [],
          findings: [{ source: 'nft', tool: 'logwarden', table: 'inet logwarden', chain: null, set: 'blocked4', matched: '192.0.2.0/24', direction: 'source',
            rule: null, verdict: 'drop', target: null, blocks: true, expiresIn: 3599, handle: null, shadowedBy: null }],
        },
      }));
      expect(e.verdict.state).toBe('blocked-by-fleet');
      expect(e.lift).toEqual(['cscli decisions delete --id 41']);
    });

    it('a decision the whitelist refused: the whitelist entry FILE:LINE keeps it reachable, not blocked', () => {
      const e = explainAddress(base({
        whitelisted: { net: { addr: '192.0.2.7', cidr: 32, kind: 4 }, source: '/etc/logwarden/whitelist', line: 3 },
        fleet: [decision({ state: 'refused', detail: 'whitelisted by config /etc/logwarden/whitelist (192.0.2.7/32)' })],
      }));
      expect(e.verdict.state).toBe('whitelisted');
      expect(e.fleet[0]).toEqual(expect.objectContaining({ state: 'refused', blocks: false, keptBy: 'the whitelist entry /etc/logwarden/whitelist:3' }));
      expect(e.fleet[0].text).toBe(
        `a fleet decision covers it but the whitelist entry /etc/logwarden/whitelist:3 keeps it reachable: decision 41 from origin crowdsec (scenario crowdsecurity/ssh-bf), until ${until}`,
      );
      expect(e.lift).toEqual([]);
      expect(e.blocked).toBe(false);
      expect(renderExplanation(e)).toContain(`  ${e.fleet[0].text}`);
    });

    it("an applied Range holding the owner's open SSH session: the session keeps the address reachable", () => {
      const e = explainAddress(base({
        allowed: { net: { addr: '192.0.2.7', cidr: 32, kind: 4 }, origin: 'owner', detail: 'client of an SSH session open now' },
        fleet: [decision({ key: '192.0.2.0/24', net: { addr: '192.0.2.0', cidr: 24, kind: 4 } })],
      }));
      expect(e.verdict.state).toBe('whitelisted');
      expect(e.fleet[0].text).toMatch(/^a fleet decision covers it but the owner's address 192\.0\.2\.7 \(client of an SSH session open now\) keeps it reachable: decision 41 /);
      expect(e.blocked).toBe(false);
    });

    it('a -w entry is named as given; a decision refused for another reason says why', () => {
      const w = explainAddress(base({ whitelisted: { net: { addr: '192.0.2.0', cidr: 24, kind: 4 }, source: '-w' }, fleet: [decision({ state: 'refused', detail: 'whitelisted by command -w' })] }));
      expect(w.fleet[0].keptBy).toBe('the whitelist entry -w 192.0.2.0/24');
      const clash = explainAddress(base({ fleet: [decision({ state: 'refused', detail: 'overlaps the prefix block 192.0.2.0/25 in force' })] }));
      expect(clash.verdict.state).toBe('not-blocked');
      expect(clash.fleet[0].text).toBe(`a fleet decision covers it but was not applied: decision 41 from origin crowdsec (scenario crowdsecurity/ssh-bf), until ${until}; overlaps the prefix block 192.0.2.0/25 in force`);
    });

    it('a dry run recorded the decision but never applied it: not blocked', () => {
      const e = explainAddress(base({ dryRun: true, fleet: [decision({})] }));
      expect(e.verdict.state).toBe('not-blocked');
      expect(e.fleet[0]).toEqual(expect.objectContaining({ state: 'applied', blocks: false }));
      expect(e.fleet[0].text).toBe(`a fleet decision covers it, not applied (dry run): decision 41 from origin crowdsec (scenario crowdsecurity/ssh-bf), until ${until}`);
      expect(e.blocked).toBe(false);
    });

    it("a local block comes first; this host's own decision coming back is shown as such; an ended decision not at all", () => {
      const e = explainAddress(base({
        blocks: [block({})],
        fleet: [decision({ id: 7, origin: 'logwarden', scenario: 'logwarden/ssh-failed-password', state: 'own', detail: 'pushed by this host' }), decision({ id: 8, until: NOW - 1 })],
      }));
      expect(e.verdict.state).toBe('blocked');
      expect(e.fleet).toHaveLength(1);
      expect(e.fleet[0]).toEqual(expect.objectContaining({ decision: 7, state: 'own', blocks: false }));
      expect(e.fleet[0].text).toBe(`decision 7 from origin logwarden (scenario logwarden/ssh-failed-password), until ${until} is this host's own block, pushed to the fleet (pushed by this host)`);
      expect(e.lift).toEqual(['logwarden --db /tmp/state.db unblock 192.0.2.7']);
    });
  });
});
