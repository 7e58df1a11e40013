// `logwarden status` and /metrics against a real daemon with nft in the lab's server namespace: exactly the
// active blocks, the source with its last line, the kernel in sync (and drift when someone deletes an element),
// /metrics over HTTP inside the namespace, and "not running" after SIGTERM.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, syslogLine } from './lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`status tests against the kernel skipped: ${unavailable}`);

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe.skipIf(unavailable)(`status and metrics of a daemon with nft${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-e2e-status-'));
  const log = join(dir, 'auth.log');
  const db = join(dir, 'state.db');
  let daemon: DaemonProcess;
  const status = (...extra: string[]) => {
    const r = spawnSync('ip', ['netns', 'exec', lab.server, process.execPath, CLI, 'status', '--db', db, ...extra], { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const scrape = () => {
    const script = `fetch('http://127.0.0.1:9150/metrics').then(async (r) => { process.stdout.write(String(r.status) + '\\n' + await r.text()); }, (e) => { console.error(e.message); process.exit(1); })`;
    const r = spawnSync('ip', ['netns', 'exec', lab.server, process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    await lab.start();
    writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
    daemon = lab.startDaemon(['--backend', 'nft', '--db', db, '--pid-file', join(dir, 'run.pid'), '--metrics', '127.0.0.1:9150', log]);
    await daemon.waitFor(/^logwarden running/);
  });
  afterAll(() => lab.stop());

  it('after two blocks: status --json lists exactly them, the source with its last line, the backend in sync; exit 0', async () => {
    const mark = daemon.mark();
    appendFileSync(log, failures('192.0.2.66', 3) + failures('2001:db8::66', 3));
    await daemon.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    await daemon.waitFor(blockedMessage('2001:db8::/64'), 5000, mark);
    await lab.until('192.0.2.66', false, 3000);
    await new Promise((r) => setTimeout(r, 2500)); // a heartbeat after the lines
    const { code, out, err } = status('--json');
    expect(code, `${out}\n${err}`).toBe(0);
    const report = JSON.parse(out);
    expect(report.daemon).toMatchObject({ running: true, metrics: '127.0.0.1:9150' });
    const blocks = report.blocks.map((b: { addr: string; cidr: number; until: string | null }) => [b.addr, b.cidr, b.until === null]);
    expect(blocks.sort()).toEqual([['192.0.2.66', 32, false], ['2001:db8::', 64, false]]);
    expect(report.sources).toEqual([expect.objectContaining({ name: log, state: 'reading', lines: 6, lag_bytes: 0 })]);
    expect(Date.now() - Date.parse(report.sources[0].last_line_at)).toBeLessThan(30_000);
    expect(report.backend).toMatchObject({ name: 'nft', fw_name: 'logwarden', present: true, in_sync: true, drift_count: 0, error: null });
    expect(report.counts).toMatchObject({ blocks: 2, attacks: 6 });
  });

  it('/metrics answers over HTTP inside the namespace, with the attacks and blocks', () => {
    const text = scrape();
    expect(text.startsWith('200\n')).toBe(true);
    expect(text).toContain('logwarden_attacks_total{rule="ssh-failed-password",service="OpenSSH",service_code="100"} 6\n');
    expect(text).toContain('logwarden_blocks_total 2\n');
    expect(text).toContain('logwarden_active_blocks 2\n');
    expect(text).toContain('logwarden_firewall_up 1\n');
  });

  it('an element deleted by hand from the kernel: drift, exit 1', () => {
    lab.inServerRun(['nft', 'delete', 'element', 'inet', 'logwarden', 'blocked4', '{ 192.0.2.66 }']);
    const { code, out } = status('--json');
    expect(code).toBe(1);
    const report = JSON.parse(out);
    expect(report.backend).toMatchObject({ present: true, in_sync: false, drift_count: 1, drift: { missing: ['192.0.2.66'], extra: [], allow_differs: false } });
    expect(report.problems).toEqual([expect.stringMatching(/^firewall drift: 1 block\(s\) missing from the kernel \(192\.0\.2\.66\)/)]);
  });

  it('after SIGTERM: status exits 3 and says not running', async () => {
    const { code } = await daemon.stop('SIGTERM');
    expect(code, daemon.transcript()).toBe(0);
    const text = status();
    expect(text.code).toBe(3);
    expect(text.out).toMatch(/^daemon: NOT RUNNING: stopped at /);
    // SIGTERM removed our table: the blocks recorded are reported as not in the kernel
    expect(text.out).toContain('objects NOT in the kernel');
  });
});
