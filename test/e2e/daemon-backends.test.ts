// The basic flow of `logwarden run` with the iptables and the ipset backends: three failed passwords from one
// client in the log file → its connections are dropped within a second, others still connect, SIGTERM removes
// our chains and sets. In the lab's server namespace.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedMessage, failures, Lab, labUnavailable, syslogLine } from './lab.js';

const BLOCK_WITHIN_MS = 2000;

const backends = [
  { backend: 'iptables', needs: ['iptables', 'ip6tables'] },
  { backend: 'ipset', needs: ['ipset', 'iptables', 'ip6tables'] },
] as const;

for (const { backend, needs } of backends) {
  const unavailable = labUnavailable([...needs]);
  if (unavailable) console.warn(`daemon tests with ${backend} skipped: ${unavailable}`);

  describe.skipIf(unavailable)(`logwarden run with ${backend}${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
    const lab = new Lab();
    const dir = mkdtempSync(join(tmpdir(), `logwarden-daemon-${backend}-`));
    const log = join(dir, 'auth.log');
    /** Everything of ours in the kernel: rules and chains mentioning the name, and sets */
    const ours = () => {
      const rules = ['iptables', 'ip6tables'].flatMap((cmd) => lab.inServerRun([cmd, '-w', '-S']).split('\n')).filter((l) => l.includes('logwarden'));
      const sets = backend === 'ipset' ? lab.inServerRun(['ipset', 'list', '-n']).split('\n').filter((l) => l.includes('logwarden')) : [];
      return [...rules, ...sets];
    };
    beforeAll(async () => {
      await lab.start();
      writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
    });
    afterAll(() => lab.stop());

    it('drops a client within a second of its third failed password (IPv4 and IPv6); others still connect; SIGTERM cleans up', async () => {
      const d = lab.startDaemon(['--backend', backend, '--db', join(dir, 'state.db'), '--pid-file', join(dir, 'run.pid'), log]);
      await d.waitFor(/^logwarden running/);
      expect(await lab.reaches('192.0.2.66')).toBe(true);
      appendFileSync(log, failures('192.0.2.66', 3));
      const ms = await lab.until('192.0.2.66', false, BLOCK_WITHIN_MS);
      console.log(`${backend}: dropped ${ms} ms after the third failure was written`);
      expect((await d.waitFor(blockedMessage('192.0.2.66'))).attacks).toBe(3);
      appendFileSync(log, failures('2001:db8::66', 3));
      await lab.until('2001:db8::66', false, BLOCK_WITHIN_MS);
      expect(await lab.reaches('192.0.2.67')).toBe(true);
      expect(await lab.reaches('192.0.2.10')).toBe(true);
      expect(ours().length).toBeGreaterThan(0);

      const { code, ms: stopMs } = await d.stop('SIGTERM');
      expect(code, d.transcript()).toBe(0);
      expect(stopMs).toBeLessThan(5000);
      expect(ours()).toEqual([]);
      expect(await lab.reaches('192.0.2.66')).toBe(true);
    });
  });
}
