// The verdict on one stream decision (pure): bans of Ip and Range only, ours recognised, the whitelist winning,
// overlapping prefixes refused.
import { describe, expect, it } from 'vitest';
import { AllowIndex, type DecisionContext, judge } from '../../src/fleet/decisions.js';
import type { LapiDecision } from '../../src/fleet/client.js';

const now = 1_800_000_000_000;
const d = (over: Partial<LapiDecision>): LapiDecision => ({ id: 7, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '203.0.113.9', duration: '1h0m0s', scenario: 'crowdsecurity/ssh-bf', ...over });
const ctx = (over: Partial<DecisionContext> = {}): DecisionContext => ({
  now,
  allow: new AllowIndex([{ net: { addr: '192.0.2.10', cidr: 32, kind: 4 }, origin: 'config', detail: '/etc/logwarden/whitelist:2' }]),
  localKeys: new Set(),
  ranges: [],
  pushedByUs: () => false,
  ...over,
});

describe('judge', () => {
  it('applies a ban with its remaining time', () => {
    expect(judge(d({}), ctx())).toEqual({ state: 'applied', net: { addr: '203.0.113.9', cidr: 32, kind: 4 }, until: now + 3_600_000, spared: [] });
    expect(judge(d({ scope: 'ip', value: '2001:db8::5', duration: '90s' }), ctx())).toMatchObject({ state: 'applied', net: { addr: '2001:db8::5', cidr: 128, kind: 6 } });
  });

  it('ignores what it cannot enforce', () => {
    expect(judge(d({ type: 'captcha' }), ctx())).toMatchObject({ state: 'ignored' });
    expect(judge(d({ scope: 'Country', value: 'FR' }), ctx())).toMatchObject({ state: 'ignored' });
    expect(judge(d({ scope: 'Ip', value: '203.0.113.0/24' }), ctx())).toMatchObject({ state: 'ignored' });
    expect(judge(d({ value: 'not-an-address' }), ctx())).toMatchObject({ state: 'ignored' });
    expect(judge(d({ duration: '-3.2s' }), ctx())).toMatchObject({ state: 'ignored', why: 'already over' });
  });

  it('recognises our own decisions, by id or by origin on an address blocked here', () => {
    expect(judge(d({ origin: 'logwarden' }), ctx({ pushedByUs: (id) => id === 7 }))).toMatchObject({ state: 'own', detail: 'pushed by this host' });
    expect(judge(d({ origin: 'logwarden' }), ctx({ localKeys: new Set(['203.0.113.9']) }))).toMatchObject({ state: 'own' });
    // another logwarden host's decision on an address we do not block: applied
    expect(judge(d({ origin: 'logwarden' }), ctx())).toMatchObject({ state: 'applied' });
  });

  it('lets the whitelist win', () => {
    expect(judge(d({ value: '192.0.2.10' }), ctx())).toMatchObject({ state: 'refused', detail: 'whitelisted by config /etc/logwarden/whitelist:2 (192.0.2.10)' });
    const wide = ctx({ allow: new AllowIndex([{ net: { addr: '192.0.2.0', cidr: 24, kind: 4 }, origin: 'owner', detail: 'interface eth0' }]) });
    expect(judge(d({ scope: 'Range', value: '192.0.2.128/25' }), wide)).toMatchObject({ state: 'refused', detail: 'whitelisted by owner interface eth0 (192.0.2.0/24)' });
    const range = judge(d({ scope: 'Range', value: '192.0.2.0/27' }), ctx());
    expect(range).toMatchObject({ state: 'applied', net: { addr: '192.0.2.0', cidr: 27 } });
    expect(range.state === 'applied' && range.spared.map((e) => e.net.addr)).toEqual(['192.0.2.10']);
  });

  it('refuses a prefix overlapping one in force', () => {
    const held = ctx({ ranges: [{ addr: '198.51.100.0', cidr: 24, kind: 4 }] });
    expect(judge(d({ scope: 'Range', value: '198.51.100.128/25' }), held)).toMatchObject({ state: 'refused', detail: 'overlaps the prefix block 198.51.100.0/24 in force' });
    expect(judge(d({ scope: 'Range', value: '198.51.100.0/24' }), held)).toMatchObject({ state: 'applied' });
    expect(judge(d({ scope: 'Range', value: '198.51.101.0/24' }), held)).toMatchObject({ state: 'applied' });
  });
});
