// With --user two processes write the daemon's log to one stdout: each record must be one write that fits
// PIPE_BUF, or records of the two could be spliced into each other.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fitted } from '../../src/log/pino.js';

describe('fitted: a record on a shared stdout', () => {
  it('is left as it is when it fits one atomic write', () => {
    const record = `${JSON.stringify({ level: 40, time: 't', name: 'logwarden', msg: 'blocked 192.0.2.9 for 120 s' })}\n`;
    expect(fitted(record)).toBe(record);
  });

  it('is cut to its level, time, origin and message when it does not, and stays one JSON line', () => {
    const record = `${JSON.stringify({ level: 40, time: 't', name: 'logwarden', process: 'firewall', addr: '192.0.2.9', detail: 'é'.repeat(3000), msg: `blocked 192.0.2.9: ${'x'.repeat(5000)}` })}\n`;
    const cut = fitted(record);
    expect(Buffer.byteLength(cut)).toBeLessThan(4096);
    expect(cut.endsWith('\n')).toBe(true);
    expect(cut.indexOf('\n')).toBe(cut.length - 1);
    const parsed = JSON.parse(cut) as Record<string, string | number>;
    expect(parsed).toMatchObject({ level: 40, time: 't', name: 'logwarden', process: 'firewall', addr: '192.0.2.9' });
    expect(String(parsed.msg).startsWith('blocked 192.0.2.9: xxx')).toBe(true);
    expect(String(parsed.cut)).toMatch(/^record of \d+ bytes cut/);
  });

  it('counts bytes, not characters: a record of 2,000 three-byte characters is cut', () => {
    const record = `${JSON.stringify({ level: 30, time: 't', msg: '€'.repeat(2000) })}\n`;
    expect(record.length).toBeLessThan(4096);
    expect(Buffer.byteLength(fitted(record))).toBeLessThan(4096);
  });
});

describe('the logger on a shared stdout', () => {
  it('writes every record whole, cut to fit one atomic write', () => {
    const script = `
      import { daemonLogger } from ${JSON.stringify(fileURLToPath(new URL('../../dist/log/pino.js', import.meta.url)))};
      const log = daemonLogger('info', { pretty: false, sharedStdout: true });
      for (let i = 0; i < 3; i++) log.warn({ line: 'y'.repeat(6000) }, 'record ' + i + ' ' + 'x'.repeat(6000));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const [i, line] of lines.entries()) {
      expect(Buffer.byteLength(line) + 1).toBeLessThan(4096);
      expect((JSON.parse(line) as { msg: string }).msg.startsWith(`record ${i} xxx`)).toBe(true);
    }
  });
});
