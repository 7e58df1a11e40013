// The firewall changed behind the daemon's back (iptables backend): our chains removed or flushed, and a jump
// from INPUT or FORWARD removed, are found by the periodic sync (--sync-interval 1), repaired, logged and counted
// in the drift metric. Rules put above our jump, or a second jump, are warned about once and left as they are.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { labUnavailable, sleep } from './lab.js';
import { REPAIR_WITHIN_MS, xtTamperFixture } from './tamper-xt.js';

const unavailable = labUnavailable(['iptables', 'ip6tables']);
if (unavailable) console.warn(`iptables tampering tests skipped: ${unavailable}`);

describe.skipIf(unavailable)(`the iptables firewall changed behind our back${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const { lab, container, daemon: running, drift, repaired, ipt, ip6t, jumps } = xtTamperFixture('iptables');
  /** Several changes as one iptables-restore transaction: a sync cannot repair half of them in between */
  const iptRestore = (lines: string[]) =>
    execFileSync('ip', ['netns', 'exec', lab.server, 'iptables-restore', '--noflush', '-w'], { input: ['*filter', ...lines, 'COMMIT', ''].join('\n') });

  it('our chains removed (jump, rules, chains, as `iptables -X` needs): created again with the blocks', async () => {
    const ms = await repaired(
      () => iptRestore(['-D INPUT -j logwarden', '-D FORWARD -j logwarden', '-F logwarden', '-F logwarden-blk', '-X logwarden', '-X logwarden-blk']),
      /^firewall objects of logwarden were missing: created them again/,
    );
    console.log(`iptables chains removed: rebuilt and dropping again within ${ms.ms} ms`);
    expect(ipt('-S', 'INPUT')).toContain('-A INPUT -j logwarden');
    expect(ipt('-S', 'logwarden-blk')).toContain('-A logwarden-blk -s 192.0.2.66/32 -j DROP');
  });

  it('the block chain flushed: its rules re-added', async () => {
    const ms = await repaired(() => ipt('-F', 'logwarden-blk'), /^firewall drift: re-added 192\.0\.2\.66/);
    console.log(`iptables block chain flushed: repaired within ${ms.ms} ms`);
  });

  it('a RETURN for the blocked client inserted into our entry chain: taken as an allow list change and rebuilt', async () => {
    await repaired(() => ipt('-I', 'logwarden', '-s', '192.0.2.66/32', '-j', 'RETURN'), /^the kernel allow list differed from the whitelist: set it again/);
    expect(ipt('-S', 'logwarden')).not.toContain('192.0.2.66');
  });

  it('the jump from INPUT removed (iptables and ip6tables), our chains left: the jump is inserted again, once', async () => {
    const before = await drift();
    const mark = running().mark();
    const v4 = await repaired(() => {
      ipt('-D', 'INPUT', '-j', 'logwarden');
      ip6t('-D', 'INPUT', '-j', 'logwarden');
    }, /^firewall drift: no jump to logwarden in (.*, )?INPUT \(IPv4\)(, .*)?: inserted it again/);
    // two commands: a sync may come between them and repair each family on its own
    await running().waitFor(/^firewall drift: no jump to logwarden in (.*, )?INPUT \(IPv6\)(, .*)?: inserted it again/, REPAIR_WITHIN_MS, mark);
    expect(await lab.reaches('2001:db8::66')).toBe(false);
    expect(await lab.reaches('2001:db8::10')).toBe(true);
    console.log(`INPUT jumps removed: repair logged after ${v4.logged} ms, 192.0.2.66 dropped again from ${v4.dropped} ms`);
    expect(await drift()).toBe(before + 2);
    // later syncs find one jump, first, where setup inserted it: nothing more to repair or warn about
    await sleep(2500);
    expect(jumps(ipt('-S', 'INPUT'), 'INPUT')).toBe(1);
    expect(jumps(ip6t('-S', 'INPUT'), 'INPUT')).toBe(1);
    expect(ipt('-S', 'INPUT').split('\n')[1]).toBe('-A INPUT -j logwarden');
    const warned = running().records.slice(mark).filter((r) => r.level >= 40);
    expect(warned.every((r) => r.msg.startsWith('firewall drift: no jump to logwarden in '))).toBe(true);
    expect(warned.flatMap((r) => r.hooks as string[]).sort()).toEqual(['INPUT (IPv4)', 'INPUT (IPv6)']);
    expect(await drift()).toBe(before + 2);
  });

  it('the jump from FORWARD removed: forwarded connections of the blocked client to the container are dropped again', async () => {
    expect(await container.reaches('192.0.2.66')).toBe(false);
    const { logged, dropped } = await repaired(
      () => ipt('-D', 'FORWARD', '-j', 'logwarden'),
      /^firewall drift: no jump to logwarden in FORWARD \(IPv4\): inserted it again/,
      '192.0.2.66',
      '192.0.2.67',
      (a, ms) => container.reaches(a, ms),
    );
    console.log(`FORWARD jump removed: repair logged after ${logged} ms, forwarded traffic of 192.0.2.66 dropped again from ${dropped} ms`);
    expect(jumps(ipt('-S', 'FORWARD'), 'FORWARD')).toBe(1);
  });

  it('an ACCEPT inserted above our jump: warned about once, not moved, not counted as a repair', async () => {
    const before = await drift();
    const mark = running().mark();
    ipt('-I', 'INPUT', '-s', '192.0.2.66/32', '-j', 'ACCEPT');
    await running().waitFor(/^firewall: 1 rule\(s\) of INPUT \(IPv4\) see packets before its jump to logwarden \(-A INPUT -s 192\.0\.2\.66\/32 -j ACCEPT\); left as it is/, REPAIR_WITHIN_MS, mark);
    // the administrator's accept wins, as they asked
    expect(await lab.reaches('192.0.2.66')).toBe(true);
    await sleep(2500);
    // a later repair proves later syncs saw the same rule: still one warning
    await repaired(() => ip6t('-F', 'logwarden-blk'), /^firewall drift: re-added 2001:db8::66/, '2001:db8::66', '2001:db8::10');
    expect(running().records.slice(mark).filter((r) => /see packets before its jump/.test(r.msg))).toHaveLength(1);
    expect(ipt('-S', 'INPUT').split('\n')[1]).toBe('-A INPUT -s 192.0.2.66/32 -j ACCEPT');
    expect(await drift()).toBe(before + 1); // the re-added DROP rule, nothing for the order
    ipt('-D', 'INPUT', '-s', '192.0.2.66/32', '-j', 'ACCEPT');
    await lab.until('192.0.2.66', false, REPAIR_WITHIN_MS);
  });

  it('a second jump from INPUT: warned about once, left as it is', async () => {
    const before = await drift();
    const mark = running().mark();
    ipt('-A', 'INPUT', '-j', 'logwarden');
    await running().waitFor(/^firewall: INPUT \(IPv4\) jumps to logwarden 2 times; left as it is/, REPAIR_WITHIN_MS, mark);
    await sleep(2500);
    expect(running().records.slice(mark).filter((r) => /jumps to logwarden 2 times/.test(r.msg))).toHaveLength(1);
    expect(jumps(ipt('-S', 'INPUT'), 'INPUT')).toBe(2);
    expect(await drift()).toBe(before);
    ipt('-D', 'INPUT', '-j', 'logwarden');
    expect(jumps(ipt('-S', 'INPUT'), 'INPUT')).toBe(1);
    expect(await lab.reaches('192.0.2.66')).toBe(false);
  });
});
