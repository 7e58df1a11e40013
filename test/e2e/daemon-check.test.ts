// `logwarden run --check` changes nothing; a backend that cannot be set up stops `run` at once; `run --dry-run`
// says "would block", touches no firewall, records its blocks as simulated, and a later real run does not apply
// them. In the lab's server namespace.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, syslogLine } from './lab.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const IP = spawnSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).stdout.trim();
const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`daemon check and dry-run tests skipped: ${unavailable}`);

describe.skipIf(unavailable)(`logwarden run --check, bad backends, --dry-run${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const daemons: DaemonProcess[] = [];
  let dir = '';
  const log = () => join(dir, 'auth.log');
  const db = () => join(dir, 'state.db');
  const base = () => ['--db', db(), '--pid-file', join(dir, 'run.pid')];
  /** `logwarden run ARGS` to its end, in the server namespace, with its own PATH if given */
  const runToEnd = (args: string[], path = process.env.PATH) => {
    const t0 = Date.now();
    const r = spawnSync(IP, ['netns', 'exec', lab.server, process.execPath, CLI, 'run', ...args], { encoding: 'utf8', env: { ...process.env, PATH: path }, timeout: 20_000 });
    return { ...r, ms: Date.now() - t0 };
  };
  const start = async (...extra: string[]) => {
    const d = lab.startDaemon([...base(), ...extra, log()]);
    daemons.push(d);
    await d.waitFor(/^logwarden running/);
    return d;
  };
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'logwarden-daemon-'));
    writeFileSync(log(), syslogLine('Server listening on 0.0.0.0 port 22.'));
  });
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.stop('SIGTERM').catch(() => d.kill());
  });

  it('run --check says ok and creates nothing: no table, no store, no PID file', () => {
    const r = runToEnd(['--check', '--backend', 'nft', ...base(), log()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('firewall: nft, objects named logwarden');
    expect(r.stdout).toMatch(/ok: logwarden run would start\n$/);
    expect(lab.nftTables()).toEqual([]);
    expect(readdirSync(dir)).toEqual(['auth.log']);
  });

  it('run exits non-zero at once, with a clear message, when iptables is not installed', () => {
    const empty = mkdtempSync(join(tmpdir(), 'logwarden-nopath-'));
    const args = ['--backend', 'iptables', ...base(), log()];
    const r = runToEnd(args, empty);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.ms).toBeLessThan(10_000);
    // the first iptables command run is named, with the package that provides them all
    expect(r.stdout + r.stderr).toMatch(/cannot start: ip6?tables(-save|-restore)? is not installed .*install the iptables package/);
    expect(existsSync(join(dir, 'run.pid'))).toBe(false);
    // the firewall is asked before anything is created: no database file is left behind
    expect(existsSync(args[args.indexOf('--db') + 1])).toBe(false);
    // and --check says so too
    const check = runToEnd(['--check', '--backend', 'iptables', ...base(), log()], empty);
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/firewall iptables: .*iptables/);
  });

  it('run exits non-zero at once, naming the option, for an invalid --fw-name', () => {
    const r = runToEnd(['--backend', 'nft', '--fw-name', 'my.fw', ...base(), log()]);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr).toMatch(/--fw-name: .*"my\.fw"/);
    expect(lab.nftTables()).toEqual([]);
  });

  it('run --dry-run logs "would block", creates no table, records the block as simulated; a real run does not apply it', async () => {
    let d = await start('--dry-run', '--backend', 'nft');
    appendFileSync(log(), failures('192.0.2.66', 3));
    const would = await d.waitFor(blockedMessage('192.0.2.66', true));
    expect(would.attacks).toBe(3);
    expect(lab.nftTables()).toEqual([]);
    expect(await lab.reaches('192.0.2.66')).toBe(true);
    expect((await d.stop('SIGTERM')).code).toBe(0);
    const store = new Database(db(), { readonly: true });
    const rows = store.prepare('SELECT key, state, simulated FROM blocks').all();
    store.close();
    expect(rows).toEqual([{ key: '192.0.2.66', state: 'active', simulated: 1 }]);

    d = await start('--backend', 'nft');
    expect((await d.waitFor(/^firewall nft ready/)).restored).toBe(0);
    expect(lab.nftTables()).toEqual(['table inet logwarden']);
    expect(await lab.reaches('192.0.2.66')).toBe(true);
    expect(lab.inServerRun(['nft', 'list', 'table', 'inet', 'logwarden'])).not.toContain('192.0.2.66');
  });
});
