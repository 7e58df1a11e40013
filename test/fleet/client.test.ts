// The LAPI client against a real CrowdSec Local API (1.4.6, unpacked from Debian's package): login and JWT
// renewal, alerts with their decisions, deletion, the decision stream, and the errors it tells apart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LapiClient, LapiError, LapiUnreachable, parseGoDuration } from '../../src/fleet/client.js';
import { alertOf } from '../../src/fleet/alert.js';
import { crowdsecMissing, freePort, Lapi } from './lapi.js';

const missing = crowdsecMissing();
if (missing) console.warn(`LAPI client tests skipped: ${missing}`);

describe('parseGoDuration', () => {
  it("reads Go's duration texts", () => {
    expect(parseGoDuration('3h59m58.5s')).toBe(3 * 3_600_000 + 59 * 60_000 + 58_500);
    expect(parseGoDuration('1m59.272579171s')).toBeCloseTo(119_272.579, 2);
    expect(parseGoDuration('-90.308633ms')).toBeCloseTo(-90.308633, 5);
    expect(parseGoDuration('120s')).toBe(120_000);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('soon')).toBeNull();
    expect(parseGoDuration('5 s')).toBeNull();
  });
});

describe.skipIf(missing)(`the LAPI client against a real LAPI${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let lapi: Lapi;
  beforeAll(async () => {
    lapi = await Lapi.start();
    lapi.addMachine('host-a', 'host-a-password-123');
    lapi.addBouncer('host-a', 'host-a-bouncer-key');
  }, 30_000);
  afterAll(async () => lapi?.close());

  it('logs in, and renews the JWT before it expires', async () => {
    let now = Date.now();
    const client = new LapiClient({ url: lapi.url, machine: { id: 'host-a', password: 'host-a-password-123' }, now: () => now });
    await client.login();
    expect(client.logins).toBe(1);
    // CrowdSec's tokens last an hour
    expect(client.tokenExpiresAt - Date.now()).toBeGreaterThan(50 * 60_000);
    await client.pushAlerts([]);
    expect(client.logins).toBe(1);
    // 4 minutes before the expiry (inside the 5 minutes of margin): a new token first
    now = client.tokenExpiresAt - 4 * 60_000;
    await client.pushAlerts([]);
    expect(client.logins).toBe(2);
  });

  it('refuses a wrong password with the status the LAPI gave', async () => {
    const client = new LapiClient({ url: lapi.url, machine: { id: 'host-a', password: 'wrong' } });
    const error = await client.login().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LapiError);
    expect((error as LapiError).status).toBe(401);
  });

  it('pushes an alert with its decision, finds its id, streams it, and deletes it', async () => {
    const client = new LapiClient({ url: lapi.url, machine: { id: 'host-a', password: 'host-a-password-123' }, bouncerKey: 'host-a-bouncer-key' });
    const now = Date.now();
    const alert = alertOf({ net: { addr: '203.0.113.7', cidr: 32, kind: 4 }, start: now, until: now + 600_000, rules: ['sshd-invalid-user'], attacks: 4, score: 40, firstSeen: now - 30_000, evidence: [] }, now)!;
    const [alertId] = await client.pushAlerts([alert]);
    const [decision] = await client.alertDecisions(alertId);
    expect(decision).toMatchObject({ origin: 'logwarden', type: 'ban', scope: 'Ip', value: '203.0.113.7', scenario: 'logwarden/sshd-invalid-user' });
    const listed = lapi.decisions().find((d) => d.id === decision.id);
    expect(listed).toMatchObject({ origin: 'logwarden', value: '203.0.113.7' });
    const ms = parseGoDuration(listed!.duration)!;
    expect(ms).toBeGreaterThan(590_000);
    expect(ms).toBeLessThanOrEqual(600_000);

    const startup = await client.stream(true);
    expect(startup.new.map((d) => d.id)).toContain(decision.id);
    expect(await client.deleteDecision(decision.id)).toBe(true);
    // 1.4.6 soft-deletes (ends the decision now): a second delete also counts one; an unknown id is an error
    expect(await client.deleteDecision(987_654)).toBe(false);
    const next = await client.stream(false);
    expect(next.deleted.map((d) => d.id)).toContain(decision.id);
    expect(lapi.decisions().some((d) => d.id === decision.id)).toBe(false);
  });

  it('tells a refused bouncer key from an unreachable LAPI', async () => {
    const bad = new LapiClient({ url: lapi.url, bouncerKey: 'not-a-key' });
    expect(await bad.stream(true).catch((e: unknown) => e)).toMatchObject({ status: 403 });
    const nobody = new LapiClient({ url: `http://127.0.0.1:${await freePort()}`, bouncerKey: 'k', timeoutMs: 2000 });
    const error = await nobody.stream(true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LapiUnreachable);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});
