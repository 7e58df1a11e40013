// A clean stop that hangs (here: nft never answers the teardown) is forced after the deadline, loudly, instead of
// leaving a process that neither stops nor blocks until systemd's own stop timeout kills it.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

// an nft stand-in: no table at first, setup and blocks accepted, the teardown (`delete table`) never answered
const FAKE_NFT = `#!/bin/sh
case "$*" in
  *-j*list*) exit 1;;
  *-i*) cat >/dev/null; exit 0;;
esac
input=$(cat)
case "$input" in *"delete table"*) exec sleep 40;; esac
exit 0
`;

describe('logwarden run: the stop deadline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-stop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('forces the exit (code 1, logged) when the clean stop does not end within 20 s', async () => {
    writeFileSync(join(dir, 'nft'), FAKE_NFT);
    chmodSync(join(dir, 'nft'), 0o755);
    writeFileSync(join(dir, 'auth.log'), '');
    const child = spawn(process.execPath, [CLI, 'run', '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'pid'), join(dir, 'auth.log')], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while (!output.includes('logwarden running')) {
      if (child.exitCode !== null) throw new Error(`the daemon exited at start: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sent = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const seconds = (Date.now() - sent) / 1000;
    expect(code).toBe(1);
    expect(output).toContain('forced exit: not stopped within 20 s');
    expect(seconds).toBeGreaterThanOrEqual(19.5);
    expect(seconds).toBeLessThan(40);
  }, 60_000);
});
