// The lab itself: without a firewall every client reaches the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS4, CLIENTS6, Lab, labUnavailable } from './lab.js';

const unavailable = labUnavailable();
if (unavailable) console.warn(`network lab tests skipped: ${unavailable}`);

describe.skipIf(unavailable)(`network lab${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  beforeAll(() => lab.start());
  afterAll(() => lab.stop());

  it('connects every client address, IPv4 and IPv6', () => {
    for (const a of [...CLIENTS4, ...CLIENTS6]) expect(lab.connects(a), a).toBe(true);
  });
});
