// The firewall changed behind the daemon's back (ipset backend): a jump from INPUT or FORWARD removed, our
// iptables chain flushed or removed, a set flushed are found by the periodic sync (--sync-interval 1), repaired,
// logged and counted in the drift metric.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { labUnavailable, sleep } from './lab.js';
import { REPAIR_WITHIN_MS, xtTamperFixture } from './tamper-xt.js';

const unavailable = labUnavailable(['ipset', 'iptables', 'ip6tables']);
if (unavailable) console.warn(`ipset tampering tests skipped: ${unavailable}`);

describe.skipIf(unavailable)(`the ipset firewall changed behind our back${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const { lab, container, daemon: running, drift, repaired, ipt, ip6t, jumps } = xtTamperFixture('ipset');

  it('the jump from INPUT removed (iptables and ip6tables), chain and sets left: the jump is inserted again, once', async () => {
    const { logged, dropped, mark, before } = await repaired(() => {
      ipt('-D', 'INPUT', '-j', 'logwarden');
      ip6t('-D', 'INPUT', '-j', 'logwarden');
    }, /^firewall drift: no jump to logwarden in (.*, )?INPUT \(IPv4\)(, .*)?: inserted it again/);
    // two commands: a sync may come between them and repair each family on its own
    await running().waitFor(/^firewall drift: no jump to logwarden in (.*, )?INPUT \(IPv6\)(, .*)?: inserted it again/, REPAIR_WITHIN_MS, mark);
    expect(await lab.reaches('2001:db8::66')).toBe(false);
    expect(await lab.reaches('2001:db8::10')).toBe(true);
    console.log(`ipset, INPUT jumps removed: repair logged after ${logged} ms, 192.0.2.66 dropped again from ${dropped} ms`);
    await sleep(2500);
    expect(jumps(ipt('-S', 'INPUT'), 'INPUT')).toBe(1);
    expect(jumps(ip6t('-S', 'INPUT'), 'INPUT')).toBe(1);
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
    console.log(`ipset, FORWARD jump removed: repair logged after ${logged} ms, forwarded traffic of 192.0.2.66 dropped again from ${dropped} ms`);
    expect(jumps(ipt('-S', 'FORWARD'), 'FORWARD')).toBe(1);
  });

  it('our chain flushed: its two rules are written again', async () => {
    const { logged } = await repaired(() => ipt('-F', 'logwarden'), /^firewall objects of logwarden were changed \(chain logwarden \(iptables\) holds other rules: none\): rebuilt them/);
    console.log(`ipset, chain flushed: rebuilt after ${logged} ms`);
    expect(ipt('-S', 'logwarden').trim().split('\n')).toEqual([
      '-N logwarden',
      '-A logwarden -m set --match-set logwarden-allow4 src -j RETURN',
      '-A logwarden -m set --match-set logwarden-block4 src -j DROP',
    ]);
  });

  it('our chain removed with its jumps (one iptables-restore): created again', async () => {
    const input = ['*filter', '-D INPUT -j logwarden', '-D FORWARD -j logwarden', '-F logwarden', '-X logwarden', 'COMMIT', ''].join('\n');
    const { logged } = await repaired(
      () => execFileSync('ip', ['netns', 'exec', lab.server, 'iptables-restore', '--noflush', '-w'], { input }),
      /^firewall objects of logwarden were missing: created them again/,
    );
    console.log(`ipset, chain removed: created again after ${logged} ms`);
    expect(jumps(ipt('-S', 'INPUT'), 'INPUT')).toBe(1);
    expect(jumps(ipt('-S', 'FORWARD'), 'FORWARD')).toBe(1);
  });

  it('a block set flushed: its elements added again', async () => {
    const { logged } = await repaired(() => lab.inServerRun(['ipset', 'flush', 'logwarden-block6']), /^firewall drift: re-added 2001:db8::66/, '2001:db8::66', '2001:db8::10');
    console.log(`ipset, block set flushed: re-added after ${logged} ms`);
  });
});
