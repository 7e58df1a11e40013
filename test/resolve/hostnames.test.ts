import { describe, expect, it } from 'vitest';
import { Engine, itemOf } from '../../src/engine/engine.js';
import { linesInWindows } from '../../src/engine/evidence.js';
import { Parser } from '../../src/parse/parser.js';
import { loadRules } from '../../src/parse/rules.js';
import { DEFAULT_POLICY, newPolicyState } from '../../src/policy/policy.js';
import { emptyEntries, Whitelist, addWhitelistArgument } from '../../src/policy/whitelist.js';
import { type Dns, HostnameResolver } from '../../src/resolve/hostnames.js';

/** A DNS where the attacker's own name points at his address and at the owner's, but only his reverses to it. */
function fakeDns(calls: string[] = []): Dns {
  const forward: Record<string, string[]> = {
    'scanner.example.net': ['203.0.113.5', '192.0.2.10'],
    'liar.example.net': ['192.0.2.10'],
  };
  const reverse: Record<string, string[]> = { '203.0.113.5': ['Scanner.Example.Net.'], '192.0.2.10': ['owner.example.org'] };
  return {
    resolve4: async (name) => {
      calls.push(name);
      const a = forward[name];
      if (!a) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return a;
    },
    resolve6: async () => [],
    reverse: async (addr) => reverse[addr] ?? [],
  };
}

describe('HostnameResolver', () => {
  it('keeps only forward-confirmed addresses: a name pointed at someone else blames nobody there', async () => {
    const r = new HostnameResolver({ dns: fakeDns() });
    expect(await r.resolve('scanner.example.net')).toEqual([{ addr: '203.0.113.5', kind: 4 }]);
    expect(await r.resolve('liar.example.net')).toEqual([]);
    expect(await r.resolve('nowhere.example.net')).toEqual([]);
    expect(r.stats).toMatchObject({ confirmed: 1, unconfirmed: 1, failed: 1 });
  });

  it('caches answers and limits the lookups started per second', async () => {
    const calls: string[] = [];
    let now = 0;
    const r = new HostnameResolver({ dns: fakeDns(calls), perSecond: 2, now: () => now });
    await r.resolve('scanner.example.net');
    await r.resolve('SCANNER.example.net.');
    expect(calls).toEqual(['scanner.example.net']);
    await r.resolve('a.example.net');
    expect(await r.resolve('b.example.net')).toEqual([]);
    expect(r.stats.rateLimited).toBe(1);
    now = 1000;
    await r.resolve('b.example.net');
    expect(calls).toEqual(['scanner.example.net', 'a.example.net', 'b.example.net']);
  });
});

describe('Engine with --resolve-hostnames', () => {
  const parser = new Parser(loadRules());
  const pam = (pid: number, host: string) =>
    `2026-05-01T10:00:0${pid % 10}Z web sshd[${pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${host}  user=root`;

  async function run(host: string, whitelist: string[] = []) {
    const entries = emptyEntries();
    for (const w of whitelist) addWhitelistArgument(entries, w);
    const state = newPolicyState(new Whitelist(entries));
    const blocks: string[] = [];
    const engine = new Engine({
      policy: DEFAULT_POLICY,
      state,
      evidence: linesInWindows,
      now: () => 0,
      onBlock: (b) => blocks.push(b.net.addr),
      resolver: new HostnameResolver({ dns: fakeDns() }),
    });
    for (let i = 0; i < 3; i++) engine.handle(itemOf(parser.parse(pam(100 + i, host))!, Date.UTC(2026, 4, 1, 10, 0, i), 'auth.log', i + 1, pam(100 + i, host)));
    engine.finish();
    await engine.settle();
    return { blocks, stats: engine.stats };
  }

  it('blocks the forward-confirmed address of an attacker known by host name only', async () => {
    expect((await run('scanner.example.net')).blocks).toEqual(['203.0.113.5']);
  });

  it('blames nobody for a name that does not confirm, and never a whitelisted address', async () => {
    expect(await run('liar.example.net')).toMatchObject({ blocks: [], stats: { hostnames: 3 } });
    expect(await run('scanner.example.net', ['203.0.113.0/24'])).toMatchObject({ blocks: [], stats: { whitelisted: 3 } });
  });
});
