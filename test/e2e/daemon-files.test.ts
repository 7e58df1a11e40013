// `logwarden run` (nft) following a log file through rename rotation and copytruncate, and reloading its
// whitelist file when it is edited, in the lab's server namespace.
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, syslogLine } from './lab.js';

const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`daemon file tests against the kernel skipped: ${unavailable}`);

/** "Within a second" (rotation) and "within 2 s" (whitelist), with room for a loaded 2-core machine */
const BLOCK_WITHIN_MS = 2000;
const RELEASE_WITHIN_MS = 3000;

describe.skipIf(unavailable)(`logwarden run with nft, files and whitelist changes${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  let dir = '';
  let daemon: DaemonProcess | null = null;
  const log = () => join(dir, 'auth.log');
  const start = async (...extra: string[]) => {
    daemon = lab.startDaemon(['--backend', 'nft', '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'run.pid'), ...extra, log()]);
    await daemon.waitFor(/^logwarden running/);
    return daemon;
  };
  const blocks = (d: DaemonProcess) => d.records.filter((r) => /^blocked /.test(r.msg)).map((r) => r.addr);
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'logwarden-daemon-'));
    writeFileSync(log(), syslogLine('Server listening on 0.0.0.0 port 22.'));
  });
  afterEach(async () => {
    await daemon?.stop('SIGTERM').catch(() => daemon?.kill());
    daemon = null;
  });

  it('blocks attacks written after a rename rotation, then after a copytruncate, reading no line twice', async () => {
    const d = await start();
    // two failures read before the rotations: read again, they would make a third and a block
    let mark = d.mark();
    appendFileSync(log(), failures('192.0.2.10', 2) + failures('2001:db8::10', 3));
    await d.waitFor(blockedMessage('2001:db8::/64'), 5000, mark);

    // logrotate's default: rename, create an empty file, the writer reopens it
    renameSync(log(), `${log()}.1`);
    writeFileSync(log(), '');
    mark = d.mark();
    appendFileSync(log(), failures('192.0.2.66', 3));
    expect(await lab.until('192.0.2.66', false, BLOCK_WITHIN_MS)).toBeLessThanOrEqual(BLOCK_WITHIN_MS);
    await d.waitFor(/^file rotated/, 5000, mark);

    // copytruncate: the writer keeps its descriptor, the file starts again at 0
    copyFileSync(log(), `${log()}.2`);
    truncateSync(log(), 0);
    mark = d.mark();
    appendFileSync(log(), failures('192.0.2.67', 3));
    expect(await lab.until('192.0.2.67', false, BLOCK_WITHIN_MS)).toBeLessThanOrEqual(BLOCK_WITHIN_MS);
    await d.waitFor(/^file truncated/, 5000, mark);

    expect(blocks(d)).toEqual(['2001:db8::/64', '192.0.2.66', '192.0.2.67']);
    expect(await lab.reaches('192.0.2.10')).toBe(true);
  });

  it('lets a blocked client in within 2 s of being added to the whitelist file, and blocks it again once removed', async () => {
    const whitelist = join(dir, 'whitelist');
    writeFileSync(whitelist, '192.0.2.10\n');
    const d = await start('--whitelist', whitelist);
    appendFileSync(log(), failures('192.0.2.66', 3));
    await lab.until('192.0.2.66', false, BLOCK_WITHIN_MS);

    let mark = d.mark();
    writeFileSync(whitelist, '192.0.2.10\n192.0.2.66\n');
    const ms = await lab.until('192.0.2.66', true, RELEASE_WITHIN_MS);
    console.log(`answered again ${ms} ms after the whitelist file was written`);
    expect(ms).toBeLessThanOrEqual(2000);
    await d.waitFor(/^released 192\.0\.2\.66: whitelisted/, 5000, mark);

    // protected now: failures are not scored
    appendFileSync(log(), failures('192.0.2.66', 5));
    mark = d.mark();
    appendFileSync(log(), failures('192.0.2.67', 3));
    await d.waitFor(blockedMessage('192.0.2.67'), 5000, mark);
    expect(await lab.reaches('192.0.2.66')).toBe(true);

    // an entry removed stops protecting
    mark = d.mark();
    writeFileSync(whitelist, '192.0.2.10\n');
    await d.waitFor(/^whitelist reloaded/, 5000, mark);
    appendFileSync(log(), failures('192.0.2.66', 3));
    await d.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    expect(await lab.until('192.0.2.66', false, BLOCK_WITHIN_MS)).toBeLessThanOrEqual(BLOCK_WITHIN_MS);
  });
});
