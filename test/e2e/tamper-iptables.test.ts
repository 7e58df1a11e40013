// The firewall changed behind the daemon's back (iptables backend): our chains removed or flushed are found by
// the periodic sync (--sync-interval 1), rebuilt with their blocks, logged and counted in the drift metric.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, metricValue, scrapeMetrics, syslogLine } from './lab.js';

const unavailable = labUnavailable(['iptables', 'ip6tables']);
if (unavailable) console.warn(`iptables tampering tests skipped: ${unavailable}`);

const DRIFT = 'logwarden_firewall_drift_repaired_total';
const REPAIR_WITHIN_MS = 5000;

describe.skipIf(unavailable)(`the iptables firewall changed behind our back${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  let dir = '';
  let daemon: DaemonProcess;
  let metricsAt = '';
  const ipt = (...args: string[]) => lab.inServerRun(['iptables', '-w', ...args]);
  const drift = async () => metricValue(await scrapeMetrics(lab, metricsAt), DRIFT);

  beforeAll(async () => {
    await lab.start();
    dir = mkdtempSync(join(tmpdir(), 'logwarden-tamper-ipt-'));
    const log = join(dir, 'auth.log');
    writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
    daemon = lab.startDaemon(['--backend', 'iptables', '--sync-interval', '1', '--metrics', '127.0.0.1:0', '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'run.pid'), log]);
    metricsAt = String((await daemon.waitFor(/^metrics at /)).metrics);
    await daemon.waitFor(/^logwarden running/);
    const mark = daemon.mark();
    appendFileSync(log, failures('192.0.2.66', 3));
    await daemon.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    await lab.until('192.0.2.66', false, 3000);
  });
  afterAll(async () => {
    await daemon?.stop('SIGTERM').catch(() => daemon.kill());
    lab.stop();
  });

  const repaired = async (tamper: () => void, message: RegExp) => {
    const before = await drift();
    const mark = daemon.mark();
    const t0 = Date.now();
    tamper();
    await daemon.waitFor(message, REPAIR_WITHIN_MS, mark);
    await lab.until('192.0.2.66', false, REPAIR_WITHIN_MS);
    expect(await drift()).toBeGreaterThan(before);
    expect(await lab.reaches('192.0.2.67')).toBe(true);
    return Date.now() - t0;
  };

  it('our chains removed (jump, rules, chains, as `iptables -X` needs): created again with the blocks', async () => {
    const ms = await repaired(() => {
      ipt('-D', 'INPUT', '-j', 'logwarden');
      ipt('-F', 'logwarden');
      ipt('-F', 'logwarden-blk');
      ipt('-X', 'logwarden');
      ipt('-X', 'logwarden-blk');
    }, /^firewall objects of logwarden were missing: created them again/);
    console.log(`iptables chains removed: rebuilt and dropping again within ${ms} ms`);
    expect(ipt('-S', 'INPUT')).toContain('-A INPUT -j logwarden');
    expect(ipt('-S', 'logwarden-blk')).toContain('-A logwarden-blk -s 192.0.2.66/32 -j DROP');
  });

  it('the block chain flushed: its rules re-added', async () => {
    const ms = await repaired(() => ipt('-F', 'logwarden-blk'), /^firewall drift: re-added 192\.0\.2\.66/);
    console.log(`iptables block chain flushed: repaired within ${ms} ms`);
  });

  it('a RETURN for the blocked client inserted into our entry chain: taken as an allow list change and rebuilt', async () => {
    await repaired(() => ipt('-I', 'logwarden', '-s', '192.0.2.66/32', '-j', 'RETURN'), /^the kernel allow list differed from the whitelist: set it again/);
    expect(ipt('-S', 'logwarden')).not.toContain('192.0.2.66');
  });
});
