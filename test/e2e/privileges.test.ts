// The daemon needs no root: as nobody (65534) with only CAP_NET_ADMIN and CAP_NET_RAW (ambient, so that the nft
// and iptables it runs have them too), with a log it can read and a state folder it can write, it blocks.
import { appendFileSync, chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedMessage, failures, Lab, labUnavailable, startDaemonInside, syslogLine } from './lab.js';

const NOBODY = 65534;
const unavailable = labUnavailable(['nft', 'iptables', 'setpriv']);
if (unavailable) console.warn(`privilege tests skipped: ${unavailable}`);

/** setpriv: nobody, no groups, only the capabilities the firewall needs, kept across exec (ambient) */
const AS_NOBODY = (caps: string) => [
  'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', `--inh-caps=-all,${caps}`, `--ambient-caps=-all,${caps}`, `--bounding-set=-all,${caps}`, '--no-new-privs',
];

describe.skipIf(unavailable)(`logwarden run without root${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  let dir = '';
  beforeAll(async () => {
    await lab.start();
    // a folder nobody can reach: under a world-searchable root, nothing else of the test's
    dir = mkdtempSync(join(tmpdir(), 'logwarden-priv-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'auth.log'), syslogLine('Server listening on 0.0.0.0 port 22.'), { mode: 0o644 });
    mkdirSync(join(dir, 'state'), { mode: 0o750 });
    chownSync(join(dir, 'state'), NOBODY, NOBODY);
  });
  afterAll(() => {
    lab.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    { backend: 'nft', caps: '+net_admin', bits: 1n << 12n, what: 'CAP_NET_ADMIN only' },
    { backend: 'iptables', caps: '+net_admin,+net_raw', bits: (1n << 12n) | (1n << 13n), what: 'CAP_NET_ADMIN and CAP_NET_RAW only' },
  ] as const;
  for (const { backend, caps, bits, what } of cases) {
    it(`${backend}: as nobody with ${what}, it blocks, and SIGTERM removes its objects`, async () => {
      const state = join(dir, 'state');
      const d = startDaemonInside(lab, AS_NOBODY(caps), [
        '--backend', backend, '--db', join(state, `${backend}.db`), '--pid-file', join(state, `${backend}.pid`), join(dir, 'auth.log'),
      ]);
      await d.waitFor(/^logwarden running/);
      const pid = readFileSync(join(state, `${backend}.pid`), 'utf8').trim();
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}$`, 'm'));
      // effective capabilities: exactly these (CAP_NET_ADMIN is 12, CAP_NET_RAW 13)
      expect(/^CapEff:\s+([0-9a-f]+)$/m.exec(status)![1]).toBe(bits.toString(16).padStart(16, '0'));
      const mark = d.mark();
      appendFileSync(join(dir, 'auth.log'), failures('192.0.2.66', 3));
      await d.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
      await lab.until('192.0.2.66', false, 3000);
      expect(await lab.reaches('192.0.2.67')).toBe(true);
      expect(statSync(join(state, `${backend}.db`)).uid).toBe(NOBODY);
      const { code } = await d.stop('SIGTERM');
      expect(code, d.transcript()).toBe(0);
      expect(await lab.reaches('192.0.2.66')).toBe(true);
    });
  }

  it('without CAP_NET_ADMIN it refuses to start, loudly, naming the firewall command that failed', async () => {
    const d = startDaemonInside(lab, AS_NOBODY('+net_raw'), ['--backend', 'nft', '--db', join(dir, 'state', 'nocap.db'), '--pid-file', join(dir, 'state', 'nocap.pid'), join(dir, 'auth.log')]);
    const { code } = await d.exited;
    expect(code).not.toBe(0);
    const error = d.records.find((r) => /^cannot start: /.test(r.msg));
    expect(error, d.transcript()).toBeDefined();
    console.log(error!.msg);
    expect(error!.msg).toMatch(/nft/);
    expect(error!.msg).toMatch(/Operation not permitted/);
  });
});
