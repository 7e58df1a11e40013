// block, unblock and flush with the null backend: the store side, and the messages (the kernel side is in test/e2e).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--backend', 'null'], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('logwarden block / unblock / flush (null backend)', () => {
  const db = join(mkdtempSync(join(tmpdir(), 'logwarden-fw-')), 'state.db');

  it('records a block in the store and says what it would do', () => {
    const r = run(['block', '192.0.2.66', '--for', '60', '--reason', 'port scan', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('blocked 192.0.2.66 for 60s\n');
    expect(r.stderr).toContain('null backend: would block 192.0.2.66 for 60s');
    const store = Store.open(db);
    const [block] = store.activeBlocks();
    expect(block).toMatchObject({ key: '192.0.2.66', cidr: 32, origin: 'manual', reason: { text: 'port scan' } });
    expect(block.expires! - block.start).toBe(60_000);
    store.close();
  });

  it('blocks a CIDR as a prefix, host bits cleared, whitelisted addresses inside kept reachable', () => {
    const r = run(['block', '198.51.100.7/24', '-w', '198.51.100.9', '--db', db]);
    expect(r.stdout).toBe('blocked 198.51.100.0/24 until unblocked (whitelisted addresses inside it stay reachable)\n');
  });

  it('refuses a prefix that overlaps an active prefix block', () => {
    const r = run(['block', '198.51.0.0/16', '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('198.51.0.0/16 overlaps the active block 198.51.100.0/24: unblock that first');
  });

  it('refuses to block a whitelisted address', () => {
    const r = run(['block', '192.0.2.10', '-w', '192.0.2.10', '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('192.0.2.10 is whitelisted (-w: 192.0.2.10/32): not blocked');
    expect(run(['block', '::1', '--db', db]).stderr).toContain('whitelisted (loopback');
  });

  it('releases a block in the store and clears the offender’s window', () => {
    const r = run(['unblock', '192.0.2.66', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('unblocked 192.0.2.66\n');
    const store = Store.open(db);
    expect(store.activeBlocks().map((b) => b.key)).toEqual(['198.51.100.0/24']);
    store.close();
    expect(run(['unblock', '192.0.2.66', '--db', db]).stdout).toContain('was not blocked');
  });

  it('rejects what is not an address, and bad durations, with exit 2', () => {
    expect(run(['block', '192.0.2.300', '--db', db]).code).toBe(2);
    expect(run(['block', 'example.org', '--db', db]).code).toBe(2);
    expect(run(['block', '192.0.2.7', '--for', '-5', '--db', db]).code).toBe(2);
    expect(run(['block', '192.0.2.7', '--fw-name', 'x;rm', '--db', db]).code).toBe(2);
  });

  it('flush removes the firewall objects and leaves the store alone', () => {
    const r = run(['flush', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('would remove every firewall object named logwarden');
  });
});

describe('logwarden block / unblock when the firewall refuses: store and kernel agree', () => {
  const db = join(mkdtempSync(join(tmpdir(), 'logwarden-fw-')), 'state.db');
  // no nft, iptables or ipset on this PATH: every firewall command fails to start
  const runWithout = (args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('records nothing when nft is missing, and says so in one line', () => {
    const r = runWithout(['block', '192.0.2.70', '--backend', 'nft', '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('logwarden: nft is not installed (not found in PATH): install the nftables package (apt-get install nftables); nothing was changed\n');
    const store = Store.open(db);
    expect(store.activeBlocks()).toEqual([]);
    store.close();
  });

  it('refuses a firewall name the backend cannot use before opening anything', () => {
    const r = runWithout(['block', '192.0.2.70', '--backend', 'nft', '--fw-name', 'my-fw', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid firewall name "my-fw"');
  });

  it('keeps an active block recorded when the kernel refuses to lift it', () => {
    expect(run(['block', '192.0.2.71', '--db', db]).code).toBe(0);
    const r = runWithout(['unblock', '192.0.2.71', '--backend', 'iptables', '--db', db]);
    expect(r.code).toBe(1);
    const store = Store.open(db);
    expect(store.activeBlocks().map((b) => b.key)).toEqual(['192.0.2.71']);
    store.close();
  });
});

describe('logwarden flush when the kernel refuses half-way', () => {
  it('does not claim that nothing was changed', () => {
    // iptables stand-ins: listing and flushing succeed, deleting the chains is refused
    const bin = mkdtempSync(join(tmpdir(), 'logwarden-fakebin-'));
    const restore = '#!/bin/sh\nif grep -q -- "^-X"; then echo "iptables-restore: line 2 failed" >&2; exit 1; fi\n';
    for (const name of ['iptables-restore', 'ip6tables-restore']) writeFileSync(join(bin, name), restore, { mode: 0o755 });
    for (const name of ['iptables', 'ip6tables', 'iptables-save', 'ip6tables-save']) writeFileSync(join(bin, name), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const r = spawnSync(process.execPath, [CLI, 'flush', '--yes', '--backend', 'iptables'], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the firewall refused part of the removal; what ran before it stays removed');
    expect(r.stderr).not.toContain('nothing was changed');
  });
});

describe('logwarden block / unblock guard the owner and say what still blocks', () => {
  const db = join(mkdtempSync(join(tmpdir(), 'logwarden-fw-')), 'state.db');

  it('refuses a prefix wider than /8 or /32 without --force, and one holding this host always', () => {
    const wide = run(['block', '0.0.0.0/0', '--db', db]);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toContain('0.0.0.0/0 is wider than /8');
    expect(run(['block', '2001:db8::/16', '--db', db]).stderr).toContain('wider than /32');
    // loopback is this host's: even with --force
    const own = run(['block', '127.0.0.0/8', '--force', '--db', db]);
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/127\.0\.0\.0\/8 (contains 127\.0\.0\.1 \(an address of this host\)|is whitelisted)/);
    const forced = run(['block', '100.0.0.0/6', '--force', '--db', db]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(run(['unblock', '100.0.0.0/6', '--db', db]).code).toBe(0);
  });

  it('unblock of an address inside a blocked prefix says which prefix still blocks it', () => {
    expect(run(['block', '198.51.100.0/24', '--for', '600', '--db', db]).code).toBe(0);
    const r = run(['unblock', '198.51.100.7', '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/198\.51\.100\.7 is still blocked as part of 198\.51\.100\.0\/24 \(until .*\): to lift that, logwarden unblock 198\.51\.100\.0\/24/);
  });
});
