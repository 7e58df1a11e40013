// `logwarden whitelist add|remove` against the kernel, in the lab's server namespace (nft): with the daemon
// running, and with no daemon at all.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, syslogLine } from './lab.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`whitelist tests against the kernel skipped: ${unavailable}`);

/** "Restored within a second", measured from the command's exit */
const WITHIN_MS = 1000;

describe.skipIf(unavailable)(`logwarden whitelist with nft${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  let dir = '';
  let daemon: DaemonProcess | null = null;
  const db = () => join(dir, 'state.db');
  const file = () => join(dir, 'whitelist');
  const log = () => join(dir, 'auth.log');
  const cli = (...args: string[]) =>
    spawnSync('ip', ['netns', 'exec', lab.server, process.execPath, CLI, ...args, '--db', db(), '--backend', 'nft'], { encoding: 'utf8' });
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'logwarden-wl-e2e-'));
    writeFileSync(file(), '# trusted hosts\n192.0.2.67  # monitoring\n');
    writeFileSync(log(), syslogLine('Server listening on 0.0.0.0 port 22.'));
  });
  afterEach(async () => {
    await daemon?.stop('SIGTERM').catch(() => daemon?.kill());
    daemon = null;
    // the daemon removes its table on SIGTERM; the commands alone leave it
    if (lab.nftTables().some((t) => t.includes('logwarden'))) lab.inServerRun(['nft', 'delete', 'table', 'inet', 'logwarden']);
  });

  it('after the daemon blocks a client, whitelist add restores its connectivity within a second', async () => {
    daemon = lab.startDaemon(['--backend', 'nft', '--db', db(), '--pid-file', join(dir, 'run.pid'), '--whitelist', file(), log()]);
    await daemon.waitFor(/^logwarden running/);
    const mark = daemon.mark();
    appendFileSync(log(), failures('192.0.2.66', 3));
    await daemon.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    expect(await lab.until('192.0.2.66', false, 2000)).toBeLessThanOrEqual(2000);

    const r = cli('whitelist', 'add', '192.0.2.66', '--whitelist', file());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`added 192.0.2.66 to ${file()}\nunblocked 192.0.2.66\n`);
    const ms = await lab.until('192.0.2.66', true, WITHIN_MS, 200);
    console.log(`reachable ${ms} ms after whitelist add exited`);
    expect(ms).toBeLessThanOrEqual(WITHIN_MS);
    expect(readFileSync(file(), 'utf8')).toBe('# trusted hosts\n192.0.2.67  # monitoring\n192.0.2.66\n');
    // the daemon reads the file too, and never blocks the address again
    await daemon.waitFor(/^whitelist reloaded/, 5000, mark);
    const again = daemon.mark();
    appendFileSync(log(), failures('192.0.2.66', 6) + failures('192.0.2.10', 3));
    await daemon.waitFor(blockedMessage('192.0.2.10'), 5000, again);
    expect(await lab.reaches('192.0.2.66')).toBe(true);
    expect(await lab.reaches('192.0.2.10')).toBe(false);
  });

  it('without the daemon: add lifts the block (kernel and store); remove takes the address out of the allow set', async () => {
    expect(cli('block', '192.0.2.66', '--for', '600').status).toBe(0);
    expect(lab.connects('192.0.2.66')).toBe(false);
    const r = cli('whitelist', 'add', '192.0.2.64/30', '--whitelist', file());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('unblocked 192.0.2.66');
    expect(lab.connects('192.0.2.66')).toBe(true);
    const allow = () => lab.inServerRun(['nft', 'list', 'set', 'inet', 'logwarden', 'allow4']);
    expect(allow()).toContain('192.0.2.64/30');
    // a block the entry covers is refused from now on, by the store's allow list
    const refused = cli('block', '192.0.2.65');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('whitelisted');

    const again = cli('whitelist', 'add', '192.0.2.64/30', '--whitelist', file());
    expect(again.stdout).toContain(`192.0.2.64/30 is already in ${file()}:3`);
    expect(cli('whitelist', 'remove', '192.0.2.64/30', '--whitelist', file()).stdout).toBe(`removed 192.0.2.64/30 from ${file()} (line 3)\n`);
    expect(allow()).not.toContain('192.0.2.64/30');
    expect(readFileSync(file(), 'utf8')).toBe('# trusted hosts\n192.0.2.67  # monitoring\n');
    const missing = cli('whitelist', 'remove', '192.0.2.64/30', '--whitelist', file());
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`192.0.2.64/30 is not in ${file()}`);
  });
});
