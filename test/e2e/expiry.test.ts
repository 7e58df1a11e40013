// iptables rules have no timeout: logwarden's scheduler lifts a timed block itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { DEFAULT_FIREWALL } from '../../src/firewall/backend.js';
import { ExpiryScheduler } from '../../src/firewall/expiry.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { iptablesBackend } from '../../src/firewall/iptables.js';
import { Lab, labUnavailable } from './lab.js';

const unavailable = labUnavailable(['iptables', 'ip6tables', 'iptables-restore']);
if (unavailable) console.warn(`iptables expiry test skipped: ${unavailable}`);

describe.skipIf(unavailable)(`iptables blocks lifted by logwarden${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());

  it('lets the client in again when the block’s time is over', async () => {
    const firewall = new Firewall(iptablesBackend, DEFAULT_FIREWALL, silentLogger, { prefix: lab.inServer });
    await firewall.setup([]);
    const errors: string[] = [];
    const scheduler = new ExpiryScheduler((n) => firewall.apply([{ op: 'unblock', net: n }]), (_n, e) => errors.push(e.message));
    const net = { addr: '192.0.2.66', cidr: 32, kind: 4 } as const;
    await firewall.apply([{ op: 'block', entry: { net, timeout: 2 } }]);
    scheduler.schedule(net, Date.now() + 2000);
    expect(lab.connects('192.0.2.66')).toBe(false);
    await new Promise((r) => setTimeout(r, 2500));
    expect(errors).toEqual([]);
    expect(lab.connects('192.0.2.66')).toBe(true);
    scheduler.stop();
    await firewall.teardown();
  });
});
