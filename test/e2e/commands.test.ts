// logwarden block / unblock / flush as an administrator runs them, inside the lab's server namespace (nft).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, labUnavailable } from './lab.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const unavailable = labUnavailable(['nft']);
if (unavailable) console.warn(`command tests against the kernel skipped: ${unavailable}`);

describe.skipIf(unavailable)(`block, unblock, flush with nft${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const db = join(mkdtempSync(join(tmpdir(), 'logwarden-e2e-')), 'state.db');
  const cli = (...args: string[]) => spawnSync('ip', ['netns', 'exec', lab.server, process.execPath, CLI, ...args, '--db', db], { encoding: 'utf8' });
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());

  it('blocks an address, and only that address', () => {
    const r = cli('block', '192.0.2.66', '--for', '600', '--reason', 'test');
    expect(r.status, r.stderr).toBe(0);
    expect(lab.connects('192.0.2.66')).toBe(false);
    expect(lab.connects('192.0.2.67')).toBe(true);
  });

  it('blocks a prefix with a whitelisted address inside it still reachable', () => {
    lab.addClient('192.0.2.70');
    const r = cli('block', '192.0.2.64/28', '-w', '192.0.2.70');
    expect(r.status, r.stderr).toBe(0);
    expect(lab.connects('192.0.2.67')).toBe(false);
    expect(lab.connects('192.0.2.70')).toBe(true);
    // the -w entry is recorded: a later command without it keeps it in the kernel's allow set
    expect(cli('block', '192.0.2.67', '--for', '60').status).toBe(0);
    expect(lab.connects('192.0.2.70')).toBe(true);
    expect(cli('unblock', '192.0.2.67').status).toBe(1); // still blocked as part of the /28: says so
    expect(cli('unblock', '192.0.2.64/28').status).toBe(0);
    expect(lab.connects('192.0.2.67')).toBe(true);
  });

  it('refuses a prefix that holds this host', () => {
    const r = cli('block', '192.0.2.0/24');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('192.0.2.0/24 contains 192.0.2.1 (an address of this host)');
  });

  it('unblock restores access', () => {
    expect(cli('unblock', '192.0.2.66').stdout).toBe('unblocked 192.0.2.66\n');
    expect(lab.connects('192.0.2.66')).toBe(true);
  });

  it('blocks IPv6 with a kernel expiry, then lets the client in again without logwarden running', async () => {
    expect(cli('block', '2001:db8::66', '--for', '2').status).toBe(0);
    expect(lab.connects('2001:db8::66')).toBe(false);
    await new Promise((r) => setTimeout(r, 2500));
    expect(lab.connects('2001:db8::66')).toBe(true);
  });

  it('flush removes the table and nothing else', () => {
    lab.inServerRun(['nft', 'add', 'table', 'inet', 'other']);
    expect(cli('flush', '--yes').status).toBe(0);
    expect(lab.inServerRun(['nft', 'list', 'tables'])).toBe('table inet other\n');
  });
});
