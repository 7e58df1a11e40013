// A real daemon (`logwarden run --backend null`, tailing a real file, a real store file): what it publishes,
// `logwarden status` while it runs and after it stopped, /metrics over HTTP, and an --on-block program.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonView } from '../../src/cli/commands/status.js';
import { HEARTBEAT_STALE_MS } from '../../src/daemon/health.js';
import { DaemonProcess, failures, syslogLine } from '../e2e/lab.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const built = existsSync(CLI);
if (!built) console.warn('status tests skipped: dist/ is not built (npx tsc -p .)');

function status(db: string, ...extra: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, 'status', '--db', db, ...extra], { encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

const sample = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('which daemon runs', () => {
  const row = { pid: process.pid, host: '', startedAt: 0, heartbeatAt: 0, stoppedAt: null, state: {} };
  it('a fresh heartbeat of a live pid: running; stopped, gone or stale: not, with why', () => {
    const now = 1_000_000;
    expect(daemonView({ ...row, heartbeatAt: now - 1000 }, now, () => true)).toMatchObject({ running: true, why: null });
    expect(daemonView({ ...row, heartbeatAt: now, stoppedAt: now - 5 }, now).why).toMatch(/^stopped at /);
    expect(daemonView({ ...row, heartbeatAt: now - HEARTBEAT_STALE_MS - 1000 }, now, () => true).why).toMatch(/^no heartbeat for 11 s/);
    expect(daemonView(null, now).why).toBe('no daemon has run with this store');
  });
});

describe.skipIf(!built)(`logwarden run, then status and /metrics${built ? '' : ' (skipped: dist/ not built)'}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-status-'));
  const log = join(dir, 'auth.log');
  const db = join(dir, 'state.db');
  const hookOut = join(dir, 'hook.out');
  let daemon: DaemonProcess;
  let metricsUrl = '';

  beforeAll(async () => {
    // read from its end the first time: this line is not read
    writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
    const hook = join(dir, 'hook.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$LOGWARDEN_EVENT $1 $2 $3" >> ${hookOut}\n`);
    chmodSync(hook, 0o755);
    daemon = new DaemonProcess(
      [process.execPath, CLI, 'run', '--backend', 'null', '--db', db, '--pid-file', join(dir, 'run.pid'), '--metrics', '127.0.0.1:0', '--on-block', hook, log],
      process.env,
    );
    const served = await daemon.waitFor(/^metrics at /);
    metricsUrl = `http://${served.metrics as string}/metrics`;
    await daemon.waitFor(/^logwarden running/);
  });
  afterAll(() => daemon?.kill());

  it('serves /metrics, whose counts change after attack lines; other paths are 404', async () => {
    const before = await scrape(metricsUrl);
    expect(before).toContain('# TYPE logwarden_lines_total counter');
    expect(sample(before, 'logwarden_blocks_total')).toBe(0);
    expect(before).not.toContain('logwarden_attacks_total{');
    const mark = daemon.mark();
    appendFileSync(log, failures('192.0.2.66', 3));
    await daemon.waitFor(/^blocked 192\.0\.2\.66 /, 5000, mark);
    const after = await scrape(metricsUrl);
    expect(sample(after, 'logwarden_attacks_total{rule="ssh-failed-password",service="OpenSSH",service_code="100"}')).toBe(3);
    expect(sample(after, 'logwarden_blocks_total')).toBe(1);
    expect(sample(after, 'logwarden_active_blocks')).toBe(1);
    expect(sample(after, `logwarden_lines_total{source="${log}"}`)).toBe(3);
    expect(sample(after, 'logwarden_parse_seconds_count')).toBe(3);
    expect(sample(after, `logwarden_source_lag_bytes{source="${log}"}`)).toBe(0);
    expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('ran the --on-block program with the address, prefix length and duration', async () => {
    for (let i = 0; i < 50 && !existsSync(hookOut); i++) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(hookOut, 'utf8')).toBe('block 192.0.2.66 32 120\n');
  });

  it('status --json, while it runs: the block, the counts, the source with its last line, exit 0', async () => {
    await new Promise((r) => setTimeout(r, 2500)); // one heartbeat after the block
    const { code, out, err } = status(db, '--json');
    expect(code, err).toBe(0);
    const report = JSON.parse(out);
    expect(report.daemon).toMatchObject({ running: true, pid: daemon.pid, dry_run: false });
    expect(report.blocks).toEqual([
      { addr: '192.0.2.66', cidr: 32, kind: 4, since: expect.any(String), until: expect.any(String), reason: '3 attack(s), score 30 (ssh-failed-password)', origin: 'policy' },
    ]);
    expect(Date.parse(report.blocks[0].until) - Date.parse(report.blocks[0].since)).toBe(120_000);
    expect(report.counts).toMatchObject({ blocks: 1, attacks: 3, rules: [{ rule: 'ssh-failed-password', service: 100, service_name: 'OpenSSH', attacks: 3 }] });
    expect(report.sources).toEqual([expect.objectContaining({ name: log, kind: 'file', state: 'reading', lines: 3, lag_bytes: 0 })]);
    expect(Date.now() - Date.parse(report.sources[0].last_line_at)).toBeLessThan(30_000);
    expect(report.backend).toMatchObject({ name: 'null', present: null, failures: 0 });
    expect(report.problems).toEqual([]);
    const text = status(db);
    expect(text.out).toMatch(/^daemon: running, pid \d+/);
    expect(text.out).toMatch(/\n {2}192\.0\.2\.66 {2}since \S+ {2}until \S+ {2}3 attack\(s\), score 30 \(ssh-failed-password\)\n/);
    expect(text.out).toContain('top services: OpenSSH 3');
  });

  it('after SIGTERM: exit 3, "not running", the block still listed', async () => {
    const { code } = await daemon.stop('SIGTERM');
    expect(code, daemon.transcript()).toBe(0);
    const text = status(db);
    expect(text.code).toBe(3);
    expect(text.out).toMatch(/^daemon: NOT RUNNING: stopped at /);
    const json = JSON.parse(status(db, '--json').out);
    expect(json.daemon.running).toBe(false);
    expect(json.blocks.map((b: { addr: string }) => b.addr)).toEqual(['192.0.2.66']);
    expect(existsSync(`${db}-wal`)).toBe(false);
  });

  it('a store that does not exist: exit 3, saying so', () => {
    const r = status(join(dir, 'none.db'));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/no store at .*none\.db/);
    expect(existsSync(join(dir, 'none.db'))).toBe(false);
  });
});

describe.skipIf(!built)('a daemon killed without a word', () => {
  it('status says its pid is gone, exit 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logwarden-status-kill-'));
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    const db = join(dir, 'state.db');
    const d = new DaemonProcess([process.execPath, CLI, 'run', '--backend', 'null', '--db', db, '--pid-file', join(dir, 'run.pid'), log], process.env);
    await d.waitFor(/^logwarden running/);
    expect(status(db).code).toBe(0);
    await d.stop('SIGKILL');
    const r = status(db);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^daemon: NOT RUNNING: pid \d+ is gone/);
  });
});
