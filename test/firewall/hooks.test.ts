// What the sync makes of the hook chains the iptables and ipset backends list: a missing jump is repaired,
// rules above our jump and a doubled jump are only reported (src/firewall/applier.ts).
import { describe, expect, it } from 'vitest';
import type { HookJump, KernelState } from '../../src/firewall/backend.js';
import { hookNotes, missingJumps } from '../../src/firewall/applier.js';

const state = (hooks?: HookJump[]): KernelState => ({ present: true, blocks: [], allow: [], ...(hooks ? { hooks } : {}) });
const hook = (family: 4 | 6, h: 'INPUT' | 'FORWARD', jumps = 1, above: string[] = []): HookJump => ({ family, hook: h, jumps, above });

describe('hook chains: missing jumps', () => {
  it('names each hook chain of each family that holds no jump to ours', () => {
    expect(missingJumps(state([hook(4, 'INPUT', 0), hook(4, 'FORWARD'), hook(6, 'INPUT', 0), hook(6, 'FORWARD', 2)]))).toEqual(['INPUT (IPv4)', 'INPUT (IPv6)']);
  });
  it('none when every jump is there, or when the backend lists no hook chains (nft)', () => {
    expect(missingJumps(state([hook(4, 'INPUT'), hook(6, 'INPUT', 3)]))).toEqual([]);
    expect(missingJumps(state())).toEqual([]);
  });
});

describe('hook chains: what is reported and left as it is', () => {
  it('nothing when our jump is there once and first', () => {
    expect(hookNotes(state([hook(4, 'INPUT'), hook(6, 'FORWARD')]), 'logwarden')).toEqual([]);
    expect(hookNotes(state(), 'logwarden')).toEqual([]);
  });
  it('rules above our jump, the first three shown', () => {
    const docker = ['-A FORWARD -j DOCKER-USER', '-A FORWARD -j DOCKER-FORWARD', '-A FORWARD -j DOCKER-ISOLATION-STAGE-1', '-A FORWARD -o docker0 -j DOCKER'];
    expect(hookNotes(state([hook(4, 'INPUT', 1, ['-A INPUT -s 192.0.2.66/32 -j ACCEPT']), hook(4, 'FORWARD', 1, docker)]), 'logwarden')).toEqual([
      '1 rule(s) of INPUT (IPv4) see packets before its jump to logwarden (-A INPUT -s 192.0.2.66/32 -j ACCEPT)',
      '4 rule(s) of FORWARD (IPv4) see packets before its jump to logwarden (-A FORWARD -j DOCKER-USER; -A FORWARD -j DOCKER-FORWARD; -A FORWARD -j DOCKER-ISOLATION-STAGE-1; ...)',
    ]);
  });
  it('a jump there more than once', () => {
    expect(hookNotes(state([hook(6, 'INPUT', 2)]), 'lw')).toEqual(['INPUT (IPv6) jumps to lw 2 times']);
  });
  it('a missing jump is no note: it is repaired instead', () => {
    expect(hookNotes(state([hook(4, 'INPUT', 0)]), 'logwarden')).toEqual([]);
  });
});
