// The wiring the daemon uses: correlation → policy → store, with evidence kept as ids in memory.
import { describe, expect, it } from 'vitest';
import { Engine, itemOf, type Item } from '../../src/engine/engine.js';
import { storeEvidence } from '../../src/engine/evidence.js';
import { Parser } from '../../src/parse/parser.js';
import { loadRules } from '../../src/parse/rules.js';
import { DEFAULT_POLICY, newPolicyState } from '../../src/policy/policy.js';
import { emptyEntries, Whitelist } from '../../src/policy/whitelist.js';
import { Store } from '../../src/store/store.js';

const parser = new Parser(loadRules());

function item(line: string, time: number, lineNo: number): Item {
  return itemOf(parser.parse(line)!, time, 'auth.log', lineNo, line);
}

describe('Engine with a store', () => {
  it('records evidence, the block with the lines that led to it, and the offender', () => {
    const store = Store.open(':memory:');
    const state = newPolicyState(new Whitelist(emptyEntries()));
    const blocks: string[][] = [];
    const engine = new Engine({ policy: DEFAULT_POLICY, state, evidence: storeEvidence(store), now: () => 0, onBlock: (b) => blocks.push(b.evidence as string[]) });
    const lines = [0, 1, 2].map((i) => `2026-05-01T10:00:0${i}Z web sshd[${100 + i}]: Failed password for root from 203.0.113.5 port 4242 ssh2`);
    engine.handle(item(lines[0], Date.UTC(2026, 4, 1, 10, 0, 0), 1));
    store.flush(); // the first line is in the database by the time of the block, the others still queued
    engine.handle(item(lines[1], Date.UTC(2026, 4, 1, 10, 0, 1), 2));
    engine.handle(item(lines[2], Date.UTC(2026, 4, 1, 10, 0, 2), 3));
    engine.finish();
    expect(blocks).toEqual([lines]);
    const [block] = store.activeBlocks();
    expect(block).toMatchObject({ key: '203.0.113.5', origin: 'policy', reason: { score: 30, attacks: 3, rules: ['ssh-failed-password'], evidence: lines } });
    expect(store.evidenceOf('203.0.113.5').map((e) => [e.lineNo, e.outcome])).toEqual([[1, 'scored'], [2, 'scored'], [3, 'blocked']]);
    expect(store.loadOffenders()[0]).toMatchObject({ key: '203.0.113.5', blocks: 1, attacks: 3 });
    store.close();
  });

  it('keeps evidence of a blocked address to a few lines per block, counting every attack', () => {
    const store = Store.open(':memory:');
    const state = newPolicyState(new Whitelist(emptyEntries()));
    const engine = new Engine({ policy: DEFAULT_POLICY, state, evidence: storeEvidence(store), now: () => 0, onBlock: () => {} });
    for (let i = 0; i < 40; i++) {
      engine.handle(item(`2026-05-01T10:00:00Z web sshd[${i}]: Failed password for root from 203.0.113.5 port 4242 ssh2`, Date.UTC(2026, 4, 1, 10, 0, 0) + i, i + 1));
    }
    engine.finish();
    expect(engine.stats.alreadyBlocked).toBe(37);
    expect(store.evidenceOf('203.0.113.5', 100)).toHaveLength(3 + 10);
    expect(state.offenders.get('203.0.113.5')!.attacks).toBe(40);
    store.close();
  });

  it('counts a UseDNS attempt (pam_unix names the host, sshd the address) once, against the address', () => {
    const store = Store.open(':memory:');
    const state = newPolicyState(new Whitelist(emptyEntries()));
    const blocks: string[] = [];
    const engine = new Engine({ policy: DEFAULT_POLICY, state, evidence: storeEvidence(store), now: () => 0, onBlock: (b) => blocks.push(b.net.addr) });
    const t0 = Date.UTC(2026, 4, 1, 10, 0, 0);
    let n = 0;
    for (let i = 0; i < 3; i++) {
      const pid = 200 + i;
      engine.handle(item(`2026-05-01T10:00:0${i}Z web sshd[${pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=scanner.example.net  user=root`, t0 + i, ++n));
      engine.handle(item(`2026-05-01T10:00:0${i}Z web sshd[${pid}]: Failed password for root from 203.0.113.5 port 4242 ssh2`, t0 + i, ++n));
    }
    engine.finish();
    expect(engine.stats).toMatchObject({ scored: 3, joined: 3, hostnames: 0, blocks: 1 });
    expect(blocks).toEqual(['203.0.113.5']);
    const evidence = store.evidenceOf('203.0.113.5', 100).map((e) => [e.lineNo, e.outcome]);
    expect(evidence).toEqual(expect.arrayContaining([[1, 'joined'], [2, 'scored'], [5, 'joined'], [6, 'blocked']]));
    store.close();
  });
});

describe('Engine.tick: the wall clock of a quiet server', () => {
  it('scores held lines and expires blocks with no new line', () => {
    const store = Store.open(':memory:');
    const state = newPolicyState(new Whitelist(emptyEntries()));
    const blocks: string[] = [];
    const engine = new Engine({ policy: DEFAULT_POLICY, state, evidence: storeEvidence(store), now: () => t0, onBlock: (b) => blocks.push(b.net.addr) });
    const t0 = Date.UTC(2026, 4, 1, 10, 0, 0);
    // publickey failures are held until their connection ends (or goes quiet): a lone connection never ends here
    for (let i = 0; i < 3; i++) {
      const line = `2026-05-01T10:00:0${i}Z web sshd[77${i}]: Failed publickey for root from 203.0.113.9 port 4242 ssh2: RSA SHA256:abc`;
      engine.handle(item(line, t0 + i * 1000, i + 1));
    }
    expect(blocks).toEqual([]);
    engine.tick(t0 + 2000);
    expect(blocks).toEqual([]); // still within the hold time
    engine.tick(t0 + 60_000);
    expect(blocks).toEqual(['203.0.113.9']);
    store.flushAll();
    expect(store.activeBlocks().map((b) => b.key)).toEqual(['203.0.113.9']);
    // the block's time is over: the tick marks it expired
    engine.tick(t0 + 2000 + 121_000);
    expect(store.activeBlocks()).toEqual([]);
    store.close();
  });
});

describe('Engine.tick while a backlog is read', () => {
  it('does not cut an attempt in two: old lines are timed by themselves, not by the wall clock', () => {
    const store = Store.open(':memory:');
    const state = newPolicyState(new Whitelist(emptyEntries()));
    let wall = Date.UTC(2026, 11, 1, 12, 0, 0); // months after the lines
    const engine = new Engine({ policy: DEFAULT_POLICY, state, evidence: storeEvidence(store), now: () => wall, onBlock: () => {} });
    const t0 = Date.UTC(2026, 4, 1, 10, 0, 0);
    // Invalid user + Failed password for invalid user: one attempt, counted once by its ending line
    for (let i = 0; i < 3; i++) {
      engine.handle(item(`2026-05-01T10:00:0${i}Z web sshd[90${i}]: Invalid user admin from 203.0.113.8 port 22`, t0 + i * 1000, 2 * i + 1));
      wall += 1500; // a tick comes between the two lines of the attempt
      engine.tick(wall);
      engine.handle(item(`2026-05-01T10:00:0${i}Z web sshd[90${i}]: Failed password for invalid user admin from 203.0.113.8 port 22 ssh2`, t0 + i * 1000, 2 * i + 2));
    }
    engine.finish();
    expect(state.offenders.get('203.0.113.8')?.attacks).toBe(3);
    store.close();
  });
});
