// A real daemon (`logwarden run --backend null`, a real store file) configured by LAPI_* keys in its configuration
// file, against a real CrowdSec LAPI: what `status`, `explain` and /metrics say of the fleet, while the LAPI
// answers and while it is stopped.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedMessage, DaemonProcess, failures, sleep, syslogLine } from '../e2e/lab.js';
import { crowdsecMissing, Lapi } from './lapi.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const missing = crowdsecMissing() ?? (existsSync(CLI) ? null : 'dist/ is not built (npx tsc -p .)');
if (missing) console.warn(`fleet daemon tests skipped: ${missing}`);

/** One status heartbeat and a bit */
const HEARTBEAT_WAIT_MS = 2600;

describe.skipIf(missing)(`a daemon in a fleet: status, explain, metrics${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let lapi: Lapi;
  let daemon: DaemonProcess;
  let metricsUrl = '';
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-fleet-daemon-'));
  const log = join(dir, 'auth.log');
  const db = join(dir, 'state.db');
  const whitelist = join(dir, 'whitelist');
  const conf = join(dir, 'logwarden.conf');

  const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const status = (...extra: string[]) => cli(['status', '--db', db, ...extra]);
  // no firewall tool in PATH: explain says what the store knows, and skips the (host's) firewall
  const explain = (addr: string, ...extra: string[]) => cli(['explain', addr, '--db', db, '--config', conf, ...extra], { ...process.env, PATH: join(dir, 'no-tools') });
  const metrics = async () => {
    const text = await (await fetch(metricsUrl)).text();
    return (name: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
  };
  const until = async (what: () => boolean, ms: number, why: string) => {
    for (const end = Date.now() + ms; !what(); await sleep(100)) if (Date.now() > end) throw new Error(`${why} within ${ms} ms\n${daemon.transcript()}`);
  };

  beforeAll(async () => {
    lapi = await Lapi.start();
    lapi.addMachine('web1', 'web1-password-123');
    lapi.addBouncer('web1', 'web1-bouncer-key-123');
    writeFileSync(join(dir, 'password'), 'web1-password-123\n');
    writeFileSync(whitelist, '# the monitoring host\n192.0.2.10\n');
    writeFileSync(
      conf,
      `LAPI_URL=${lapi.url}\nLAPI_MACHINE_ID=web1\nLAPI_PASSWORD_FILE=${join(dir, 'password')}\nLAPI_BOUNCER_KEY="web1-bouncer-key-123"\n` +
        `lapi-interval=1\nWHITELIST_FILE=whitelist\nBLACKLIST_FILE=60:${join(dir, 'blacklist')}\n`,
    );
    // sshguard's format; restored at start as a permanent block, which the LAPI has never seen
    writeFileSync(join(dir, 'blacklist'), '1700000000|100|4|203.0.113.50\n');
    writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
    daemon = new DaemonProcess(
      [process.execPath, CLI, 'run', '--config', conf, '--backend', 'null', '--db', db, '--pid-file', join(dir, 'run.pid'), '--metrics', '127.0.0.1:0', log],
      process.env,
    );
    metricsUrl = `http://${(await daemon.waitFor(/^metrics at /)).metrics as string}/metrics`;
    await daemon.waitFor(/^logwarden running/);
    await daemon.waitFor(/^fleet: CrowdSec LAPI .*pushing its blocks as machine web1, enforcing the fleet's decisions/);
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop().catch(() => daemon.kill());
    await lapi?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes the blacklist entry it restored at start as a ten-year ban', async () => {
    await until(() => lapi.decisions().some((d) => d.value === '203.0.113.50'), 5000, 'the blacklist entry was not pushed');
    const [d] = lapi.decisions().filter((x) => x.value === '203.0.113.50');
    expect(d).toMatchObject({ origin: 'logwarden', scope: 'Ip', type: 'ban', scenario: 'logwarden/blacklist' });
    expect(d.duration).toMatch(/^8759\dh/);
  });

  it('keeps fleet blocks apart from its own in status; explain names the decision; metrics count both ways', async () => {
    appendFileSync(log, failures('192.0.2.66', 3));
    await daemon.waitFor(blockedMessage('192.0.2.66'), 5000);
    await until(() => lapi.decisions().some((d) => d.value === '192.0.2.66'), 5000, 'the block was not pushed');
    lapi.cscli('decisions', 'add', '-i', '198.51.100.7', '-d', '1h', '-R', 'seen elsewhere');
    lapi.cscli('decisions', 'add', '-i', '192.0.2.10', '-d', '1h', '-R', 'false positive');
    await daemon.waitFor(/^blocked 198\.51\.100\.7 for \d+ s: fleet decision \d+ from origin cscli \(scenario seen elsewhere\)/, 5000);
    await daemon.waitFor(/^fleet: decision \d+ on 192\.0\.2\.10 .*not applied: whitelisted by config/, 5000);
    const [fleetDecision] = lapi.decisions().filter((d) => d.value === '198.51.100.7');
    await sleep(HEARTBEAT_WAIT_MS);

    const json = status('--json');
    expect(json.code, json.err).toBe(0);
    const r = JSON.parse(json.out);
    expect(r.blocks.map((b: { addr: string }) => b.addr).sort()).toEqual(['192.0.2.66', '203.0.113.50']);
    expect(r.fleet_blocks).toEqual([
      { addr: '198.51.100.7', cidr: 32, kind: 4, until: expect.any(String), decision: fleetDecision.id, origin: 'cscli', scenario: 'seen elsewhere', detail: '' },
    ]);
    expect(Date.parse(r.fleet_blocks[0].until) - Date.now()).toBeGreaterThan(3500_000);
    expect(r.fleet_refused).toEqual([expect.objectContaining({ addr: '192.0.2.10', origin: 'cscli', detail: `whitelisted by config ${whitelist} (192.0.2.10)` })]);
    expect(r.counts).toMatchObject({ blocks: 2, fleet_blocks: 1 });
    expect(r.lapi.url).toBe(lapi.url);
    expect(r.lapi.pull).toMatchObject({ interval_s: 1, failing_since: null, last_error: null, applied: 1, refused: 1 });
    expect(Date.now() - Date.parse(r.lapi.pull.last_ok_at)).toBeLessThan(5000);
    expect(r.lapi.push).toMatchObject({ machine: 'web1', failing_since: null, queued: 0, sent: 2, dropped: 0 });
    expect(Date.parse(r.lapi.push.last_ok_at)).toBeGreaterThan(Date.now() - 30_000);
    expect(r.problems).toEqual([]);
    const text = status().out;
    expect(text).toMatch(/\nactive blocks: 2\n {2}(203\.0\.113\.50 .*permanent {2}blacklist: in the blacklist file\n {2}192\.0\.2\.66 |192\.0\.2\.66 .*\n {2}203\.0\.113\.50 )/);
    expect(text).toMatch(new RegExp(`\\nfleet blocks \\(decisions of the CrowdSec LAPI enforced here\\): 1\\n  198\\.51\\.100\\.7  until \\S+  decision ${fleetDecision.id} from origin cscli \\(scenario seen elsewhere\\)\\n`));
    expect(text).toMatch(/\n {2}pull \(every 1 s\): last ok \S+ \(\d+ s ago\); 1 applied, 1 refused/);
    expect(text).toMatch(/\n {2}push \(machine web1\): last ok \S+ \(\d+ s ago\); 0 queued, 2 sent/);

    const blocked = explain('198.51.100.7');
    expect(blocked.code, blocked.err).toBe(1);
    expect(blocked.out.split('\n')[0]).toMatch(new RegExp(`^198\\.51\\.100\\.7 is blocked by the fleet: decision ${fleetDecision.id} from origin cscli \\(scenario seen elsewhere\\), until \\S+Z$`));
    expect(blocked.out).toContain(`  lift it: cscli decisions delete --id ${fleetDecision.id}`);
    const kept = explain('192.0.2.10', '--json');
    expect(kept.code, kept.err).toBe(0);
    const e = JSON.parse(kept.out);
    expect(e.verdict.state).toBe('whitelisted');
    expect(e.fleet).toEqual([expect.objectContaining({ network: '192.0.2.10', origin: 'cscli', state: 'refused', blocks: false, keptBy: `the whitelist entry ${whitelist}:2` })]);
    expect(e.fleet[0].text).toMatch(new RegExp(`^a fleet decision covers it but the whitelist entry ${whitelist}:2 keeps it reachable: decision \\d+ from origin cscli`));
    // our own block, come back through the stream, is this host's block, not a fleet one
    const own = explain('192.0.2.66', '--json');
    expect(JSON.parse(own.out).verdict.state).toBe('blocked');
    expect(JSON.parse(own.out).fleet).toEqual([expect.objectContaining({ origin: 'logwarden', state: 'own', blocks: false })]);

    const m = await metrics();
    expect(m('logwarden_fleet_pushes_total{result="sent"}')).toBe(2);
    expect(m('logwarden_fleet_pushes_total{result="failed"}')).toBe(0);
    expect(m('logwarden_fleet_push_queue')).toBe(0);
    expect(m('logwarden_fleet_pulls_total{result="ok"}')).toBeGreaterThanOrEqual(2);
    expect(m('logwarden_fleet_pulls_total{result="failed"}')).toBe(0);
    expect(m('logwarden_fleet_decisions_total{result="applied"}')).toBe(1);
    expect(m('logwarden_fleet_decisions_total{result="refused"}')).toBe(1);
    expect(m('logwarden_fleet_decisions_total{result="own"}')).toBe(2);
    expect(m('logwarden_fleet_active_blocks')).toBe(1);
    expect(m('logwarden_active_blocks')).toBe(2);
    expect(m('logwarden_fleet_lapi_up{role="pull"}')).toBe(1);
    expect(m('logwarden_fleet_lapi_up{role="push"}')).toBe(1);

    lapi.cscli('decisions', 'delete', '-i', '198.51.100.7');
    await daemon.waitFor(/^fleet: decision \d+ on 198\.51\.100\.7 deleted/, 5000);
    expect((await metrics())('logwarden_fleet_decisions_total{result="deleted"}')).toBe(1);
    expect((await metrics())('logwarden_fleet_active_blocks')).toBe(0);
  }, 40_000);

  it('while the LAPI is stopped: status shows the outage (exit 1) and the queue; metrics say it is down; all is sent when it is back', async () => {
    await lapi.stop();
    const mark = daemon.mark();
    appendFileSync(log, failures('203.0.113.9', 3));
    await daemon.waitFor(blockedMessage('203.0.113.9'), 5000, mark);
    await daemon.waitFor(/^fleet: the LAPI is unreachable/, 5000, mark);
    await daemon.waitFor(/^fleet: cannot read the LAPI decision stream/, 5000, mark);
    await sleep(HEARTBEAT_WAIT_MS);

    const json = status('--json');
    expect(json.code).toBe(1);
    const r = JSON.parse(json.out);
    expect(r.lapi.push).toMatchObject({ queued: 1, failing_since: expect.any(String), last_error: expect.stringContaining('ECONNREFUSED') });
    expect(r.lapi.pull).toMatchObject({ failing_since: expect.any(String), last_error: expect.stringContaining('ECONNREFUSED') });
    expect(r.problems).toEqual([
      expect.stringMatching(/^the LAPI decision stream cannot be read since \S+: .*ECONNREFUSED/),
      expect.stringMatching(/^pushing to the LAPI fails since \S+: .*ECONNREFUSED.* \(1 push\(es\) wait in the outbox\)$/),
    ]);
    expect(status().out).toMatch(/\n {2}push \(machine web1\): UNREACHABLE since \S+ \(\d+ s ago\): .*; last ok \S+ \(\d+ s ago\); 1 queued/);
    const m = await metrics();
    expect(m('logwarden_fleet_lapi_up{role="pull"}')).toBe(0);
    expect(m('logwarden_fleet_lapi_up{role="push"}')).toBe(0);
    expect(m('logwarden_fleet_push_queue')).toBe(1);
    expect(m('logwarden_fleet_pushes_total{result="failed"}')).toBeGreaterThanOrEqual(1);
    expect(m('logwarden_fleet_pulls_total{result="failed"}')).toBeGreaterThanOrEqual(1);

    await lapi.run();
    await daemon.waitFor(/^fleet: the LAPI .* answers again/, 15_000, mark);
    await until(() => lapi.decisions().some((d) => d.value === '203.0.113.9'), 5000, 'the queued block did not arrive');
    await sleep(HEARTBEAT_WAIT_MS);
    const after = JSON.parse(status('--json').out);
    expect(after.lapi.push).toMatchObject({ queued: 0, failing_since: null, sent: 3 });
    expect(after.problems).toEqual([]);
    expect((await metrics())('logwarden_fleet_lapi_up{role="push"}')).toBe(1);
  }, 40_000);

  it('stops at once at SIGTERM (no connection to the LAPI holds it)', async () => {
    const { code, ms } = await daemon.stop('SIGTERM', 5000);
    expect(code, daemon.transcript()).toBe(0);
    console.log(`stopped ${ms} ms after SIGTERM`);
  });
});

describe.skipIf(missing)(`a dry run in a fleet${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let lapi: Lapi;
  let daemon: DaemonProcess;
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-fleet-dry-'));
  const db = join(dir, 'state.db');

  beforeAll(async () => {
    lapi = await Lapi.start();
    lapi.addBouncer('dry', 'dry-bouncer-key-123');
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    daemon = new DaemonProcess(
      [process.execPath, CLI, 'run', '--dry-run', '--db', db, '--pid-file', join(dir, 'run.pid'), '--lapi-url', lapi.url, '--lapi-key', 'dry-bouncer-key-123', '--lapi-interval', '1', log],
      process.env,
    );
    await daemon.waitFor(/^logwarden running/);
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop().catch(() => daemon.kill());
    await lapi?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the decision it would enforce: status lists it apart, explain does not call it blocked', async () => {
    lapi.cscli('decisions', 'add', '-i', '198.51.100.8', '-d', '1h', '-R', 'seen elsewhere');
    await daemon.waitFor(/^would block 198\.51\.100\.8 for \d+ s: fleet decision/, 5000);
    await sleep(HEARTBEAT_WAIT_MS);
    const r = JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--db', db, '--json'], { encoding: 'utf8' }).stdout);
    expect(r.daemon.dry_run).toBe(true);
    expect(r.fleet_blocks).toEqual([]);
    expect(r.fleet_simulated).toEqual([expect.objectContaining({ addr: '198.51.100.8', origin: 'cscli' })]);
    expect(r.counts.fleet_blocks).toBe(0);
    const e = spawnSync(process.execPath, [CLI, 'explain', '198.51.100.8', '--db', db, '--json'], { encoding: 'utf8', env: { ...process.env, PATH: join(dir, 'no-tools') } });
    expect(e.status, e.stderr).toBe(0);
    const answer = JSON.parse(e.stdout);
    expect(answer.verdict.state).toBe('not-blocked');
    expect(answer.fleet[0].text).toMatch(/^a fleet decision covers it, not applied \(dry run\): decision \d+ from origin cscli/);
  }, 20_000);
});
