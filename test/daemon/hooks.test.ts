// --on-block / --on-release with real programs: argument arrays (no shell), the timeout, failures, and the cap
// on hooks running at once.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Hooks } from '../../src/daemon/hooks.js';
import type { Logger } from '../../src/log/logger.js';

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_f: object, m: string) => lines.push(`${level}: ${m}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('hooks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-hooks-'));

  it('runs the program with ADDRESS PREFIX DURATION REASON as separate arguments, never through a shell', async () => {
    const out = join(dir, 'args');
    const program = script(dir, 'record.sh', `for a in "$@"; do printf '%s\\n' "$a"; done > ${out}; echo "$LOGWARDEN_EVENT" >> ${out}`);
    const log = recorder();
    const hooks = new Hooks({ onBlock: program, onRelease: null, log });
    // attacker-made text in the reason stays one argument: no shell ever sees it
    hooks.notify({ event: 'block', addr: '192.0.2.7', cidr: 32, duration: 120, reason: '3 attack(s); $(touch /tmp/pwned) `id`' });
    await hooks.settle();
    expect(readFileSync(out, 'utf8')).toBe('192.0.2.7\n32\n120\n3 attack(s); $(touch /tmp/pwned) `id`\nblock\n');
    hooks.notify({ event: 'release', addr: '192.0.2.7', cidr: 32, duration: 120, reason: 'expired' });
    await hooks.settle();
    expect(hooks.stats).toMatchObject({ started: 1, succeeded: 1, failed: 0 });
  });

  it('says permanent for a block without end, and passes the release arguments to --on-release', async () => {
    const out = join(dir, 'release');
    const program = script(dir, 'release.sh', `echo "$LOGWARDEN_EVENT $*" > ${out}`);
    const hooks = new Hooks({ onBlock: program, onRelease: program, log: recorder() });
    hooks.notify({ event: 'block', addr: '2001:db8::', cidr: 64, duration: null, reason: 'by hand' });
    await hooks.settle();
    expect(readFileSync(out, 'utf8')).toBe('block 2001:db8:: 64 permanent by hand\n');
    hooks.notify({ event: 'release', addr: '2001:db8::', cidr: 64, duration: 3600, reason: 'released by hand' });
    await hooks.settle();
    expect(readFileSync(out, 'utf8')).toBe('release 2001:db8:: 64 3600 released by hand\n');
  });

  it('logs a failing exit with its standard error, and a missing program, and goes on', async () => {
    const failing = script(dir, 'fail.sh', 'echo "mail server down" >&2; exit 3');
    const log = recorder();
    const hooks = new Hooks({ onBlock: failing, onRelease: join(dir, 'no-such-program'), log });
    hooks.notify({ event: 'block', addr: '192.0.2.8', cidr: 32, duration: 120, reason: 'r' });
    hooks.notify({ event: 'release', addr: '192.0.2.8', cidr: 32, duration: 120, reason: 'expired' });
    await hooks.settle();
    expect(hooks.stats).toMatchObject({ started: 2, succeeded: 0, failed: 2 });
    expect(log.lines).toContainEqual(expect.stringMatching(/^error: --on-block .*fail\.sh 192\.0\.2\.8 failed \(exit 3\): mail server down$/));
    expect(log.lines).toContainEqual(expect.stringMatching(/^error: --on-release .*no-such-program could not be run \(no such program\)$/));
  });

  it('kills a hook (and what it started) after its timeout', async () => {
    const out = join(dir, 'slow');
    const slow = script(dir, 'slow.sh', `sleep 30 & wait; echo finished > ${out}`);
    const log = recorder();
    const hooks = new Hooks({ onBlock: slow, onRelease: null, log, timeoutMs: 300 });
    const t0 = Date.now();
    hooks.notify({ event: 'block', addr: '192.0.2.9', cidr: 32, duration: 120, reason: 'r' });
    await hooks.settle();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(hooks.stats).toMatchObject({ timedOut: 1, succeeded: 0 });
    expect(log.lines).toContainEqual(expect.stringMatching(/was killed after 0\.3 s/));
    expect(() => readFileSync(out)).toThrow();
  });

  it('runs at most N at once, queues up to M more, and drops and counts the rest; notify never waits', async () => {
    const out = join(dir, 'many');
    writeFileSync(out, '');
    const program = script(dir, 'many.sh', `sleep 0.3; echo "$1" >> ${out}`);
    const log = recorder();
    const hooks = new Hooks({ onBlock: program, onRelease: null, log, maxRunning: 2, maxQueued: 3 });
    const t0 = Date.now();
    for (let i = 1; i <= 8; i++) hooks.notify({ event: 'block', addr: `192.0.2.${i}`, cidr: 32, duration: 120, reason: 'r' });
    expect(Date.now() - t0).toBeLessThan(100);
    expect(hooks.stats).toMatchObject({ running: 2, queued: 3, dropped: 3 });
    expect(log.lines).toContainEqual(expect.stringMatching(/^warn: --on-block hook not run for 192\.0\.2\.6: 2 are running and 3 waiting/));
    await hooks.settle();
    const ran = readFileSync(out, 'utf8').trim().split('\n').sort();
    expect(ran).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']);
    expect(hooks.stats).toMatchObject({ started: 5, succeeded: 5, dropped: 3, running: 0, queued: 0 });
  });

  it('at stop, drops what is queued and kills what still runs after the grace time', async () => {
    const slow = script(dir, 'stop.sh', 'sleep 30');
    const log = recorder();
    const hooks = new Hooks({ onBlock: slow, onRelease: null, log, maxRunning: 1 });
    hooks.notify({ event: 'block', addr: '192.0.2.1', cidr: 32, duration: 1, reason: 'r' });
    hooks.notify({ event: 'block', addr: '192.0.2.2', cidr: 32, duration: 1, reason: 'r' });
    const t0 = Date.now();
    await hooks.stop(200);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(hooks.stats).toMatchObject({ started: 1, dropped: 1, running: 0 });
    expect(log.lines).toContainEqual('warn: stopping: 1 queued hook(s) not run');
  });
});
