// An https LAPI with a certificate of its own CA (a real CrowdSec LAPI serving TLS, certificates made here with
// openssl): with --lapi-ca-file's CA the client logs in, pushes and reads the stream; without it, or with another
// CA, it refuses the certificate and says why.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LapiClient, LapiUnreachable } from '../../src/fleet/client.js';
import { crowdsecMissing, Lapi } from './lapi.js';

const opensslMissing = spawnSync('openssl', ['version']).status === 0 ? null : 'openssl is not installed';
const missing = crowdsecMissing() ?? opensslMissing;
if (missing) console.warn(`fleet TLS tests skipped: ${missing}`);

/** A CA, and a certificate it signs for 127.0.0.1 (P-256 keys: quick to make) */
function makeCertificates(dir: string): { ca: string; otherCa: string; cert: string; key: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=logwarden test CA');
  openssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=another CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: join(dir, 'ca.pem'), otherCa: join(dir, 'other.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

describe.skipIf(missing)(`an https LAPI with its own CA${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let lapi: Lapi;
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  const machine = { id: 'host-tls', password: 'host-tls-password-123' };
  const bouncerKey = 'host-tls-bouncer-key-123';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'logwarden-tls-'));
    certs = makeCertificates(dir);
    lapi = await Lapi.start('127.0.0.1', [], { cert: certs.cert, key: certs.key });
    lapi.addMachine(machine.id, machine.password);
    lapi.addBouncer('host-tls', bouncerKey);
  }, 30_000);
  afterAll(async () => {
    await lapi?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('with the CA: logs in, pushes a decision and reads it back from the stream', async () => {
    expect(lapi.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = new LapiClient({ url: lapi.url, ca: readFileSync(certs.ca, 'utf8'), machine, bouncerKey });
    lapi.cscli('decisions', 'add', '-i', '203.0.113.44', '-d', '1h', '-R', 'over tls');
    const stream = await client.stream(true);
    expect(stream.new.map((d) => d.value)).toContain('203.0.113.44');
    await client.login();
    expect(client.logins).toBe(1);
  });

  it("without it (the system's CAs) or with another CA: the certificate is refused, and the error says so", async () => {
    for (const ca of [null, readFileSync(certs.otherCa, 'utf8')]) {
      const client = new LapiClient({ url: lapi.url, ca, bouncerKey });
      const error = await client.stream(true).then(() => null, (e: Error) => e);
      expect(error).toBeInstanceOf(LapiUnreachable);
      expect(error!.message).toMatch(/^GET https:\/\/127\.0\.0\.1:\d+\/v1\/decisions\/stream\?startup=true: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
    }
  });
});
