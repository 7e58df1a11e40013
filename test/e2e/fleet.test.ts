// Two logwarden daemons on two "servers" (network namespaces) sharing one real CrowdSec LAPI: an attack on A
// blocks the attacker on A at once and on B within the poll interval; a cscli decision blocks on both and its
// deletion unblocks on both; a fleet decision on B's whitelisted address leaves it reachable on B; while the
// LAPI is stopped, A's new block waits and arrives once when it is back.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crowdsecMissing, Lapi } from '../fleet/lapi.js';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, sleep, syslogLine } from './lab.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const missing = crowdsecMissing() ?? labUnavailable(['nft']);
if (missing) console.warn(`fleet end-to-end tests skipped: ${missing}`);

const LAPI_HOST = '10.99.0.1';
const POLL_S = 1;

describe.skipIf(missing)(`two daemons sharing one LAPI${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const a = new Lab();
  const b = new Lab();
  let lapi: Lapi;
  let dir = '';
  let daemonA: DaemonProcess;
  let daemonB: DaemonProcess;
  const logOf = (host: string) => join(dir, `${host}.log`);

  const start = (lab: Lab, host: string, extra: string[] = []) => {
    writeFileSync(join(dir, `${host}.password`), `${host}-password-123\n`);
    writeFileSync(join(dir, `${host}.key`), `${host}-bouncer-key-123\n`);
    writeFileSync(logOf(host), syslogLine('Server listening on 0.0.0.0 port 22.'));
    lapi.addMachine(host, `${host}-password-123`);
    lapi.addBouncer(host, `${host}-bouncer-key-123`);
    return lab.startDaemon([
      '--backend', 'nft', '--db', join(dir, `${host}.db`), '--pid-file', join(dir, `${host}.pid`),
      '--lapi-url', `http://${LAPI_HOST}:8081`, '--lapi-machine', host, '--lapi-password-file', join(dir, `${host}.password`),
      '--lapi-key-file', join(dir, `${host}.key`), '--lapi-interval', String(POLL_S), ...extra, logOf(host),
    ]);
  };

  /** A logwarden command run on a server (its namespace), with B's store */
  const cliOn = (lab: Lab, host: string, ...args: string[]) => {
    const r = spawnSync(lab.inServer[0], [...lab.inServer.slice(1), process.execPath, CLI, ...args, '--db', join(dir, `${host}.db`)], { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  beforeAll(async () => {
    await a.start();
    await b.start();
    for (const lab of [a, b]) lab.addClient('192.0.2.20');
    // the servers' own link: the LAPI listens on A's side of it
    execFileSync('ip', ['link', 'add', 'fleet-a', 'netns', a.server, 'type', 'veth', 'peer', 'name', 'fleet-b', 'netns', b.server]);
    execFileSync('ip', ['-n', a.server, 'addr', 'add', `${LAPI_HOST}/30`, 'dev', 'fleet-a']);
    execFileSync('ip', ['-n', b.server, 'addr', 'add', '10.99.0.2/30', 'dev', 'fleet-b']);
    execFileSync('ip', ['-n', a.server, 'link', 'set', 'fleet-a', 'up']);
    execFileSync('ip', ['-n', b.server, 'link', 'set', 'fleet-b', 'up']);
    lapi = await Lapi.start(LAPI_HOST, a.inServer);
    dir = mkdtempSync(join(tmpdir(), 'logwarden-fleet-e2e-'));
    writeFileSync(join(dir, 'b.whitelist'), '192.0.2.10  # B trusts its monitoring host\n');
    daemonA = start(a, 'host-a');
    daemonB = start(b, 'host-b', ['--whitelist', join(dir, 'b.whitelist')]);
    await Promise.all([daemonA.waitFor(/^logwarden running/), daemonB.waitFor(/^logwarden running/)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([daemonA?.stop().catch(() => daemonA.kill()), daemonB?.stop().catch(() => daemonB.kill())]);
    await lapi?.close();
    a.stop();
    b.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an attack on A blocks the attacker on A at once and on B within the poll interval', async () => {
    const mark = daemonA.mark();
    appendFileSync(logOf('host-a'), failures('192.0.2.66', 3));
    await daemonA.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    expect(await a.until('192.0.2.66', false, 2000)).toBeLessThanOrEqual(2000);
    const onB = await b.until('192.0.2.66', false, (POLL_S + 3) * 1000, 200).catch((e: Error) => {
      throw new Error(`${e.message}\nA:\n${daemonA.transcript()}\nB:\n${daemonB.transcript()}\nLAPI: ${JSON.stringify(lapi.decisions())}`);
    });
    console.log(`blocked on B ${onB} ms after it was blocked on A`);
    expect(await b.reaches('192.0.2.67')).toBe(true);
    const pushed = lapi.decisions().filter((d) => d.value === '192.0.2.66');
    expect(pushed).toHaveLength(1);
    expect(pushed[0]).toMatchObject({ origin: 'logwarden', scope: 'Ip', type: 'ban' });
    expect(pushed[0].scenario).toMatch(/^logwarden\//);
  });

  it("`logwarden unblock` on A deletes A's decision from the LAPI, and B lifts it", async () => {
    const r = spawnSync('ip', ['netns', 'exec', a.server, process.execPath, CLI, 'unblock', '192.0.2.66', '--db', join(dir, 'host-a.db'), '--backend', 'nft'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    await a.until('192.0.2.66', true, 2000, 200);
    await b.until('192.0.2.66', true, (POLL_S + 4) * 1000, 200).catch((e: Error) => {
      throw new Error(`${e.message}\nA:\n${daemonA.transcript()}\nB:\n${daemonB.transcript()}\nLAPI: ${JSON.stringify(lapi.decisions())}`);
    });
    expect(lapi.decisions().filter((d) => d.value === '192.0.2.66')).toEqual([]);
  });

  it('a decision added with cscli blocks on both; deleting it unblocks on both', async () => {
    lapi.cscli('decisions', 'add', '-i', '192.0.2.67', '-d', '1h', '-R', 'reported by a partner');
    await Promise.all([a.until('192.0.2.67', false, 5000, 200), b.until('192.0.2.67', false, 5000, 200)]);
    // B's status: the fleet block apart from its own, and in the kernel as the store wants it (no drift)
    await sleep(2500);
    const st = cliOn(b, 'host-b', 'status', '--json');
    const report = JSON.parse(st.out);
    expect(report.fleet_blocks.map((f: { addr: string; origin: string }) => [f.addr, f.origin]), st.out).toEqual([['192.0.2.67', 'cscli']]);
    expect(report.blocks).toEqual([]);
    expect(report.backend).toMatchObject({ name: 'nft', present: true, in_sync: true, drift_count: 0 });
    expect(report.lapi.pull).toMatchObject({ failing_since: null });
    expect(st.code, st.out).toBe(0);
    const why = cliOn(b, 'host-b', 'explain', '192.0.2.67');
    expect(why.code).toBe(1);
    expect(why.out.split('\n')[0]).toMatch(/^192\.0\.2\.67 is blocked by the fleet: decision \d+ from origin cscli \(scenario reported by a partner\), until /);
    lapi.cscli('decisions', 'delete', '-i', '192.0.2.67');
    await Promise.all([a.until('192.0.2.67', true, 5000, 200), b.until('192.0.2.67', true, 5000, 200)]);
  });

  it("a fleet decision on B's whitelisted address leaves it reachable on B", async () => {
    const mark = daemonB.mark();
    lapi.cscli('decisions', 'add', '-i', '192.0.2.10', '-d', '1h', '-R', 'false positive elsewhere');
    await a.until('192.0.2.10', false, 5000, 200);
    const refusal = await daemonB.waitFor(/^fleet: decision \d+ on 192\.0\.2\.10 .*not applied: whitelisted/, 5000, mark);
    expect(refusal.msg).toContain('b.whitelist');
    expect(await b.reaches('192.0.2.10')).toBe(true);
    const why = cliOn(b, 'host-b', 'explain', '192.0.2.10', '--whitelist', join(dir, 'b.whitelist'));
    expect(why.code, why.out).toBe(0);
    expect(why.out).toMatch(new RegExp(`\n {2}a fleet decision covers it but the whitelist entry ${join(dir, 'b.whitelist')}:1 keeps it reachable: decision \\d+ from origin cscli`));
    lapi.cscli('decisions', 'delete', '-i', '192.0.2.10');
    await a.until('192.0.2.10', true, 5000, 200);
  });

  it("while the LAPI is stopped A blocks alone; A's block arrives once when it is back, and B follows", async () => {
    lapi.cscli('decisions', 'add', '-i', '192.0.2.67', '-d', '1h', '-R', 'before the outage');
    await b.until('192.0.2.67', false, 5000, 200);
    const markB = daemonB.mark();
    await lapi.stop();
    const mark = daemonA.mark();
    appendFileSync(logOf('host-a'), failures('192.0.2.20', 3));
    await daemonA.waitFor(blockedMessage('192.0.2.20'), 5000, mark);
    await a.until('192.0.2.20', false, 2000);
    await daemonA.waitFor(/^fleet: the LAPI is unreachable/, 10_000, mark);
    // fleet blocks B already holds stay through the outage
    expect(await b.reaches('192.0.2.20')).toBe(true);
    await sleep(2 * POLL_S * 1000);
    expect(await b.reaches('192.0.2.67')).toBe(false);
    await daemonB.waitFor(/^fleet: cannot read the LAPI decision stream/, 5000, markB);
    await lapi.run();
    await daemonA.waitFor(/^fleet: the LAPI .* answers again/, 15_000, mark);
    await b.until('192.0.2.20', false, 8000, 200);
    expect(lapi.decisions().filter((d) => d.value === '192.0.2.20')).toHaveLength(1);
  }, 40_000);
});
