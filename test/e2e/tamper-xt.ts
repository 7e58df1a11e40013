// What the iptables and ipset tampering tests share: one daemon with `--sync-interval 1 --hook input,forward` in
// the lab (a container behind the server), 192.0.2.66 and 2001:db8::66 blocked before the tests change the
// kernel, and `repaired`, which times a change's repair and checks that the drift metric counted it.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { blockedMessage, Container, type DaemonProcess, failures, Lab, metricValue, scrapeMetrics, sleep, syslogLine } from './lab.js';

const DRIFT = 'logwarden_firewall_drift_repaired_total';
/** A sync each second, and room for a loaded 2-core machine */
export const REPAIR_WITHIN_MS = 5000;

type Reaches = (from: string, ms: number) => Promise<boolean>;

/** Call inside a describe: its beforeAll starts the lab and the daemon, its afterAll stops them. */
export function xtTamperFixture(backend: 'iptables' | 'ipset') {
  const lab = new Lab();
  const container = new Container(lab);
  let daemon: DaemonProcess | null = null;
  let metricsAt = '';
  const running = () => {
    if (daemon === null) throw new Error('the daemon has not started');
    return daemon;
  };
  const drift = async () => metricValue(await scrapeMetrics(lab, metricsAt), DRIFT);

  beforeAll(async () => {
    await lab.start();
    await container.start();
    const dir = mkdtempSync(join(tmpdir(), `logwarden-tamper-${backend}-`));
    const log = join(dir, 'auth.log');
    writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
    const d = lab.startDaemon([
      '--backend', backend, '--hook', 'input,forward', '--ipv6-subnet', '128', '--sync-interval', '1', '--metrics', '127.0.0.1:0',
      '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'run.pid'), log,
    ]);
    daemon = d;
    metricsAt = String((await d.waitFor(/^metrics at /)).metrics);
    await d.waitFor(/^logwarden running/);
    const mark = d.mark();
    appendFileSync(log, failures('192.0.2.66', 3) + failures('2001:db8::66', 3));
    await d.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    await d.waitFor(blockedMessage('2001:db8::66'), 5000, mark);
    await lab.until('192.0.2.66', false, 3000);
    await lab.until('2001:db8::66', false, 3000);
  });
  afterAll(async () => {
    await daemon?.stop('SIGTERM').catch(() => daemon?.kill());
    container.stop();
    lab.stop();
  });

  /** Polls `reaches` until `from` is dropped; the ms from `t0` to the start of the attempt that showed it. */
  const droppedSince = async (t0: number, from: string, reaches: Reaches) => {
    for (;;) {
      const started = Date.now() - t0;
      if (!(await reaches(from, 500))) return started;
      if (Date.now() - t0 > REPAIR_WITHIN_MS) throw new Error(`${from} still answered ${REPAIR_WITHIN_MS} ms after the change`);
      await sleep(50);
    }
  };

  /**
   * Applies `tamper`, waits for the repair's log line and for `blocked` to be dropped again (through `reaches`:
   * the server, or the container behind it); `other` still gets through. The ms to the log line and to the drop,
   * with the log mark and the drift count from before the change.
   */
  const repaired = async (tamper: () => void, message: RegExp, blocked = '192.0.2.66', other = '192.0.2.67', reaches: Reaches = (a, ms) => lab.reaches(a, ms)) => {
    const before = await drift();
    const mark = running().mark();
    const t0 = Date.now();
    tamper();
    await running().waitFor(message, REPAIR_WITHIN_MS, mark);
    const logged = Date.now() - t0;
    const dropped = await droppedSince(t0, blocked, reaches);
    expect(await drift()).toBeGreaterThan(before);
    expect(await reaches(other, 800)).toBe(true);
    return { logged, dropped, ms: Date.now() - t0, mark, before };
  };

  return {
    lab,
    container,
    daemon: running,
    drift,
    repaired,
    ipt: (...args: string[]) => lab.inServerRun(['iptables', '-w', ...args]),
    ip6t: (...args: string[]) => lab.inServerRun(['ip6tables', '-w', ...args]),
    jumps: (list: string, hook: string) => list.split('\n').filter((l) => l === `-A ${hook} -j logwarden`).length,
  };
}
