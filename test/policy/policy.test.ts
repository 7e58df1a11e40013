import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/policy/network.js';
import {
  applyEvent,
  blockDuration,
  DEFAULT_POLICY,
  decayedLevel,
  forgiveAttack,
  markBlocked,
  newPolicyState,
  type PolicyConfig,
  type PolicyEvent,
  prune,
  release,
} from '../../src/policy/policy.js';
import { emptyEntries, parseWhitelistText, Whitelist } from '../../src/policy/whitelist.js';

const T0 = Date.UTC(2026, 4, 1, 10, 0, 0);
const s = (seconds: number) => T0 + seconds * 1000;
const NOW = Date.UTC(2030, 0, 1);

function attack(addr: string, at: number, danger = 10, kind: 4 | 6 = addr.includes(':') ? 6 : 4): PolicyEvent {
  return { event: 'attack', time: at, addr, kind, danger, service: 100, rule: 'ssh-failed-password', user: 'root', evidence: `line ${addr} ${at}` };
}
function login(addr: string, at: number, user = 'alice'): PolicyEvent {
  return { event: 'login', time: at, addr, kind: addr.includes(':') ? 6 : 4, danger: 0, service: 100, rule: 'ssh-login', user };
}
function fresh(whitelist = new Whitelist(emptyEntries())) {
  return newPolicyState(whitelist);
}

describe('window score', () => {
  it('blocks 120 s at the third attack of 10 within the window', () => {
    const state = fresh();
    expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(0)), NOW).outcome).toBe('scored');
    expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(10)), NOW).outcome).toBe('scored');
    const third = applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(20)), NOW);
    expect(third.outcome).toBe('blocked');
    expect(third.block).toMatchObject({ key: '203.0.113.5', duration: 120, until: s(140), permanent: false, score: 30, attacks: 3 });
    expect(third.block!.evidence).toHaveLength(3);
  });

  it('does not score an address while it is blocked', () => {
    const state = fresh();
    for (let i = 0; i < 3; i++) applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(i)), NOW);
    expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(60)), NOW).outcome).toBe('already-blocked');
    const o = state.offenders.get('203.0.113.5')!;
    expect(o.score).toBe(0);
    expect(o.blocks).toBe(1);
    expect(o.attacks).toBe(4);
  });

  it('never blocks attacks spread wider than the detection time', () => {
    const state = fresh();
    for (let i = 0; i < 20; i++) {
      expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(i * 1000)), NOW).outcome).toBe('scored');
    }
  });

  it('restarts the window at the attack that comes after it', () => {
    const state = fresh();
    applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(0)), NOW);
    applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(1000)), NOW);
    applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(1801)), NOW); // restarts here
    expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(1900)), NOW).outcome).toBe('scored');
    expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(2000)), NOW).outcome).toBe('blocked');
  });

  it('needs 15 attacks of danger 2', () => {
    const state = fresh();
    for (let i = 0; i < 14; i++) expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(i), 2), NOW).outcome).toBe('scored');
    expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(14), 2), NOW).outcome).toBe('blocked');
  });

  it('adds up IPv6 addresses of one /64 and blocks the /64', () => {
    const state = fresh();
    applyEvent(state, DEFAULT_POLICY, attack('2001:db8:1:2::a', s(0)), NOW);
    applyEvent(state, DEFAULT_POLICY, attack('2001:db8:1:2::b', s(1)), NOW);
    const third = applyEvent(state, DEFAULT_POLICY, attack('2001:db8:1:2:ffff::1', s(2)), NOW);
    expect(third.block?.net).toEqual({ addr: '2001:db8:1:2::', cidr: 64, kind: 6 });
    expect(third.block?.key).toBe('2001:db8:1:2::/64');
    expect(applyEvent(state, DEFAULT_POLICY, attack('2001:db8:1:3::a', s(3)), NOW).outcome).toBe('scored');
  });

  it('scores IPv4 by /24 when asked to', () => {
    const config = { ...DEFAULT_POLICY, ipv4Subnet: 24 };
    const state = fresh();
    applyEvent(state, config, attack('198.51.100.1', s(0)), NOW);
    applyEvent(state, config, attack('198.51.100.2', s(1)), NOW);
    expect(applyEvent(state, config, attack('198.51.100.3', s(2)), NOW).block?.key).toBe('198.51.100.0/24');
  });

  it('records but does not apply a block already over when decided', () => {
    const state = fresh();
    for (let i = 0; i < 2; i++) applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(i)), NOW);
    expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(2)), NOW).block?.applied).toBe(false);
    const live = fresh();
    for (let i = 0; i < 2; i++) applyEvent(live, DEFAULT_POLICY, attack('203.0.113.5', s(i)), s(3));
    expect(applyEvent(live, DEFAULT_POLICY, attack('203.0.113.5', s(2)), s(3)).block?.applied).toBe(true);
  });
});

function blockThrice(state: ReturnType<typeof fresh>, addr: string, start: number, config: PolicyConfig = DEFAULT_POLICY) {
  const r = [];
  for (let i = 0; i < 3; i++) r.push(applyEvent(state, config, attack(addr, start + i * 1000), NOW));
  return r[2];
}

describe('decaying penalty', () => {
  it('doubles the block for quick repeats: 120, 240, 480', () => {
    const state = fresh();
    const first = blockThrice(state, '203.0.113.5', s(0));
    const second = blockThrice(state, '203.0.113.5', first.block!.until);
    const third = blockThrice(state, '203.0.113.5', second.block!.until);
    expect([first, second, third].map((r) => r.block!.duration)).toEqual([120, 240, 480]);
  });

  it('falls back towards 120 s after several half-lives', () => {
    const state = fresh();
    let at = s(0);
    for (let i = 0; i < 3; i++) at = blockThrice(state, '203.0.113.5', at).block!.until;
    const later = blockThrice(state, '203.0.113.5', at + 5 * DEFAULT_POLICY.penaltyHalfLife * 1000);
    expect(later.block!.duration).toBeGreaterThanOrEqual(120);
    expect(later.block!.duration).toBeLessThan(135);
  });

  it('computes durations as min(round(BLOCK_TIME · MULTIPLIER^n), MAX_BLOCK_TIME)', () => {
    expect(blockDuration(0, DEFAULT_POLICY)).toBe(120);
    expect(blockDuration(1.5, DEFAULT_POLICY)).toBe(Math.round(120 * 2 ** 1.5));
    expect(blockDuration(40, DEFAULT_POLICY)).toBe(DEFAULT_POLICY.maxBlockTime);
    expect(decayedLevel({ level: 4, levelAt: 0 }, 2 * DEFAULT_POLICY.penaltyHalfLife * 1000, DEFAULT_POLICY)).toBeCloseTo(1);
  });

  it('makes the third quick block permanent with a blacklist threshold of 90', () => {
    const config = { ...DEFAULT_POLICY, blacklistThreshold: 90 };
    const state = fresh();
    const first = blockThrice(state, '203.0.113.5', s(0), config);
    const second = blockThrice(state, '203.0.113.5', first.block!.until, config);
    const third = blockThrice(state, '203.0.113.5', second.block!.until, config);
    expect([first.block!.permanent, second.block!.permanent, third.block!.permanent]).toEqual([false, false, true]);
    expect(third.block).toMatchObject({ duration: null, until: Infinity });
    expect(applyEvent(state, config, attack('203.0.113.5', s(10 ** 9)), NOW).outcome).toBe('already-blocked');
  });

  it('forgets an offender (and its blacklist sum) once its penalty has decayed to almost nothing', () => {
    const state = fresh();
    blockThrice(state, '203.0.113.5', s(0));
    expect(prune(state, DEFAULT_POLICY, s(3600))).toEqual([]);
    expect(prune(state, DEFAULT_POLICY, s(8 * DEFAULT_POLICY.penaltyHalfLife))).toEqual(['203.0.113.5']);
    expect(state.offenders.size).toBe(0);
  });

  it('keeps blacklisted addresses blocked for good', () => {
    const state = fresh();
    markBlocked(state, parseNetwork('203.0.113.9')!, s(0), Infinity);
    expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.9', s(10 ** 8)), NOW).outcome).toBe('already-blocked');
    expect(prune(state, DEFAULT_POLICY, s(10 ** 9))).toEqual([]);
  });
});

describe('whitelist and trust', () => {
  const whitelist = new Whitelist(parseWhitelistText('192.0.2.10\n198.51.100.0/24 # office\nhost.example.org\n', 'wl'), async () => ['203.0.113.77']);

  it('never scores whitelisted addresses: exact, CIDR, hostname, loopback', async () => {
    await whitelist.refresh();
    const state = fresh(whitelist);
    for (const addr of ['192.0.2.10', '198.51.100.44', '203.0.113.77', '127.0.0.1', '::1']) {
      for (let i = 0; i < 5; i++) expect(applyEvent(state, DEFAULT_POLICY, attack(addr, s(i)), NOW).outcome).toBe('whitelisted');
    }
    expect(state.offenders.size).toBe(0);
    expect(whitelist.reason('198.51.100.44', 4)).toBe('wl: 198.51.100.0/24');
    expect(whitelist.reason('203.0.113.77', 4)).toBe('wl (host.example.org): 203.0.113.77/32');
  });

  it('a successful login between failures prevents the block', () => {
    const state = fresh();
    applyEvent(state, DEFAULT_POLICY, attack('192.0.2.50', s(0)), NOW);
    applyEvent(state, DEFAULT_POLICY, attack('192.0.2.50', s(1)), NOW);
    expect(applyEvent(state, DEFAULT_POLICY, login('192.0.2.50', s(2)), NOW).outcome).toBe('trust-granted');
    for (let i = 3; i < 10; i++) expect(applyEvent(state, DEFAULT_POLICY, attack('192.0.2.50', s(i)), NOW).outcome).toBe('trusted');
    // after TRUST_TIME it is scored again, from an empty window
    expect(applyEvent(state, DEFAULT_POLICY, attack('192.0.2.50', s(3700)), NOW).outcome).toBe('scored');
    expect(state.offenders.get('192.0.2.50')!.score).toBe(10);
  });

  it('grants no trust for logins to shared accounts', () => {
    const state = fresh();
    expect(applyEvent(state, DEFAULT_POLICY, login('192.0.2.50', s(0), 'git'), NOW).outcome).toBe('login-no-trust');
    applyEvent(state, DEFAULT_POLICY, attack('192.0.2.50', s(1)), NOW);
    applyEvent(state, DEFAULT_POLICY, attack('192.0.2.50', s(2)), NOW);
    expect(applyEvent(state, DEFAULT_POLICY, attack('192.0.2.50', s(3)), NOW).outcome).toBe('blocked');
  });

  it('forgives an attack still in the window', () => {
    const state = fresh();
    const e = attack('192.0.2.50', s(0));
    applyEvent(state, DEFAULT_POLICY, e, NOW);
    applyEvent(state, DEFAULT_POLICY, attack('192.0.2.50', s(1)), NOW);
    expect(forgiveAttack(state, DEFAULT_POLICY, e)).toBe(true);
    expect(applyEvent(state, DEFAULT_POLICY, attack('192.0.2.50', s(2)), NOW).outcome).toBe('scored');
  });

  it('release lifts a block and clears the window', () => {
    const state = fresh();
    blockThrice(state, '203.0.113.5', s(0));
    release(state, '203.0.113.5', s(5));
    expect(applyEvent(state, DEFAULT_POLICY, attack('203.0.113.5', s(6)), NOW).outcome).toBe('scored');
  });
});

describe('policy properties', () => {
  const pool = ['192.0.2.10', '192.0.2.11', '198.51.100.7', '203.0.113.5', '2001:db8::1', '2001:db8::2', '2001:db8:0:1::3', '127.0.0.1'];
  const whitelist = new Whitelist(parseWhitelistText('192.0.2.10\n2001:db8::/127\n', 'wl'));
  const eventArb = fc.record({
    addr: fc.constantFrom(...pool),
    dt: fc.integer({ min: 0, max: 900 }),
    danger: fc.constantFrom(1, 2, 10),
    login: fc.boolean().map((b) => b && Math.random() < 0.05),
  });

  it('never blocks a whitelisted address, and every block’s window reached the threshold', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 200 }), fc.constantFrom(10, 30, 45), (events, threshold) => {
        const config = { ...DEFAULT_POLICY, threshold };
        const state = fresh(whitelist);
        let t = T0;
        for (const e of events) {
          t += e.dt * 1000;
          const ev = e.login ? login(e.addr, t) : attack(e.addr, t, e.danger);
          const r = applyEvent(state, config, ev, NOW);
          if (r.block) {
            // (a block of a subnet may contain whitelisted addresses: the firewall lets those through first)
            expect(whitelist.has(e.addr, ev.kind)).toBe(false);
            expect(r.block.score).toBeGreaterThanOrEqual(threshold);
            expect(r.block.evidence.length).toBe(r.block.attacks);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('whitelist refresh', () => {
  it('re-resolves hostnames periodically and keeps the last answer when a lookup fails', async () => {
    let calls = 0;
    const answers = [['203.0.113.1'], ['203.0.113.2']];
    const whitelist = new Whitelist(parseWhitelistText('owner.example.org\n', 'wl'), async () => {
      const answer = answers[calls++];
      if (!answer) throw new Error('SERVFAIL');
      return answer;
    });
    const problems: string[] = [];
    const stop = whitelist.startRefresh(30, (p) => problems.push(...p.map((x) => x.message)));
    await new Promise((r) => setTimeout(r, 5));
    expect(whitelist.has('203.0.113.1', 4)).toBe(true);
    await new Promise((r) => setTimeout(r, 80));
    stop();
    expect(whitelist.has('203.0.113.2', 4)).toBe(true);
    expect(whitelist.has('203.0.113.1', 4)).toBe(false);
    expect(problems[0]).toBe('cannot resolve: SERVFAIL');
  });
});
