// The firewall changed behind the daemon's back (ipset backend): a jump from INPUT or FORWARD removed, our
// iptables chain flushed or removed, a set flushed are found by the periodic sync (--sync-interval 1), repaired,
// logged and counted in the drift metric.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedMessage, Container, type DaemonProcess, failures, Lab, labUnavailable, metricValue, scrapeMetrics, sleep, syslogLine } from './lab.js';

const unavailable = labUnavailable(['ipset', 'iptables', 'ip6tables']);
if (unavailable) console.warn(`ipset tampering tests skipped: ${unavailable}`);

const DRIFT = 'logwarden_firewall_drift_repaired_total';
/** A sync each second, and room for a loaded 2-core machine */
const REPAIR_WITHIN_MS = 5000;

describe.skipIf(unavailable)(`the ipset firewall changed behind our back${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const container = new Container(lab);
  let dir = '';
  let daemon: DaemonProcess;
  let metricsAt = '';
  const ipt = (...args: string[]) => lab.inServerRun(['iptables', '-w', ...args]);
  const ip6t = (...args: string[]) => lab.inServerRun(['ip6tables', '-w', ...args]);
  const jumps = (list: string, hook: string) => list.split('\n').filter((l) => l === `-A ${hook} -j logwarden`).length;
  const drift = async () => metricValue(await scrapeMetrics(lab, metricsAt), DRIFT);

  beforeAll(async () => {
    await lab.start();
    await container.start();
    dir = mkdtempSync(join(tmpdir(), 'logwarden-tamper-ipset-'));
    const log = join(dir, 'auth.log');
    writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
    daemon = lab.startDaemon([
      '--backend', 'ipset', '--hook', 'input,forward', '--ipv6-subnet', '128', '--sync-interval', '1', '--metrics', '127.0.0.1:0',
      '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'run.pid'), log,
    ]);
    metricsAt = String((await daemon.waitFor(/^metrics at /)).metrics);
    await daemon.waitFor(/^logwarden running/);
    const mark = daemon.mark();
    appendFileSync(log, failures('192.0.2.66', 3) + failures('2001:db8::66', 3));
    await daemon.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    await daemon.waitFor(blockedMessage('2001:db8::66'), 5000, mark);
    await lab.until('192.0.2.66', false, 3000);
    await lab.until('2001:db8::66', false, 3000);
  });
  afterAll(async () => {
    await daemon?.stop('SIGTERM').catch(() => daemon.kill());
    container.stop();
    lab.stop();
  });

  /** Polls `reaches` until `from` is dropped; the ms from `t0` to the start of the attempt that showed it. */
  const droppedSince = async (t0: number, from: string, reaches: (from: string, ms: number) => Promise<boolean>) => {
    for (;;) {
      const started = Date.now() - t0;
      if (!(await reaches(from, 500))) return started;
      if (Date.now() - t0 > REPAIR_WITHIN_MS) throw new Error(`${from} still answered ${REPAIR_WITHIN_MS} ms after the change`);
      await sleep(50);
    }
  };

  /**
   * Applies `tamper`, waits for the repair's log line and for `blocked` to be dropped again (through `reaches`:
   * the server, or the container behind it); `other` still gets through. The ms to the log line and to the drop.
   */
  const repaired = async (tamper: () => void, message: RegExp, blocked = '192.0.2.66', other = '192.0.2.67', reaches = (a: string, ms: number) => lab.reaches(a, ms)) => {
    const before = await drift();
    const mark = daemon.mark();
    const t0 = Date.now();
    tamper();
    await daemon.waitFor(message, REPAIR_WITHIN_MS, mark);
    const logged = Date.now() - t0;
    const dropped = await droppedSince(t0, blocked, reaches);
    expect(await drift()).toBeGreaterThan(before);
    expect(await reaches(other, 800)).toBe(true);
    return { logged, dropped, mark, before };
  };

  it('the jump from INPUT removed (iptables and ip6tables), chain and sets left: the jump is inserted again, once', async () => {
    const { logged, dropped, mark, before } = await repaired(() => {
      ipt('-D', 'INPUT', '-j', 'logwarden');
      ip6t('-D', 'INPUT', '-j', 'logwarden');
    }, /^firewall drift: no jump to logwarden in (.*, )?INPUT \(IPv4\)(, .*)?: inserted it again/);
    // two commands: a sync may come between them and repair each family on its own
    await daemon.waitFor(/^firewall drift: no jump to logwarden in (.*, )?INPUT \(IPv6\)(, .*)?: inserted it again/, REPAIR_WITHIN_MS, mark);
    expect(await lab.reaches('2001:db8::66')).toBe(false);
    expect(await lab.reaches('2001:db8::10')).toBe(true);
    console.log(`ipset, INPUT jumps removed: repair logged after ${logged} ms, 192.0.2.66 dropped again from ${dropped} ms`);
    await sleep(2500);
    expect(jumps(ipt('-S', 'INPUT'), 'INPUT')).toBe(1);
    expect(jumps(ip6t('-S', 'INPUT'), 'INPUT')).toBe(1);
    const warned = daemon.records.slice(mark).filter((r) => r.level >= 40);
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
