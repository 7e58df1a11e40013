// An https LAPI with a certificate of its own CA (a real CrowdSec LAPI serving TLS, certificates made here with
// openssl): with --lapi-ca-file's CA the client logs in, pushes and reads the stream; without it, or with another
// CA, it refuses the certificate and says why. Client certificates (the LAPI's TLS authentication: OU agent-ou
// pushes, OU bouncer-ou pulls) replace the password and the key, from the options to the LAPI.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Command, parseCommandArgs } from '../../src/cli/command.js';
import { loadRunConfig, type RunEnvironment } from '../../src/config/run.js';
import { LapiClient, LapiError, LapiUnreachable } from '../../src/fleet/client.js';
import { Fleet } from '../../src/fleet/fleet.js';
import { Applier } from '../../src/firewall/applier.js';
import { DEFAULT_FIREWALL } from '../../src/firewall/backend.js';
import { Firewall } from '../../src/firewall/firewall.js';
import { nullBackend } from '../../src/firewall/null.js';
import { silentLogger } from '../../src/log/logger.js';
import { Store } from '../../src/store/store.js';
import { collectingLogger } from './helpers.js';
import { crowdsecMissing, Lapi } from './lapi.js';

const opensslMissing = spawnSync('openssl', ['version']).status === 0 ? null : 'openssl is not installed';
const missing = crowdsecMissing() ?? opensslMissing;
if (missing) console.warn(`fleet TLS tests skipped: ${missing}`);

/** A CA, a certificate it signs for 127.0.0.1, and client certificates of web1 (P-256 keys: quick to make) */
function makeCertificates(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=logwarden test CA');
  openssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=another CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, ou] of [['agent', 'agent-ou'], ['bouncer', 'bouncer-ou']]) {
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/OU=${ou}/CN=web1`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', 'client.ext');
  }
  const at = (name: string) => join(dir, name);
  return {
    ca: at('ca.pem'), otherCa: at('other.pem'), cert: at('server.pem'), key: at('server.key'),
    agent: { cert: at('agent.pem'), key: at('agent.key') }, bouncer: { cert: at('bouncer.pem'), key: at('bouncer.key') },
  };
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
    lapi = await Lapi.start('127.0.0.1', [], { cert: certs.cert, key: certs.key, clientCa: certs.ca });
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

  const pem = (c: { cert: string; key: string }) => ({ cert: readFileSync(c.cert, 'utf8'), key: readFileSync(c.key, 'utf8') });

  it('client certificates instead of the password and the key: the LAPI names the machine CN@ADDRESS; a bouncer certificate cannot push', async () => {
    const ca = readFileSync(certs.ca, 'utf8');
    const store = Store.open(join(dir, 'tls.db'));
    const applier = new Applier(new Firewall(nullBackend, DEFAULT_FIREWALL, silentLogger), silentLogger, () => ({ blocks: [], allow: [] }));
    const log = collectingLogger();
    const fleet = new Fleet(
      { url: lapi.url, ca, machine: null, bouncerKey: null, machineCert: pem(certs.agent), bouncerCert: pem(certs.bouncer), interval: 3600, shareEvidence: false },
      { store, applier, log },
    );
    expect(fleet.status()).toMatchObject({ push: { machine: 'web1 (client certificate)' }, pull: { intervalSeconds: 3600 } });
    const now = Date.now();
    fleet.pusher!.block({ net: { addr: '203.0.113.45', cidr: 32, kind: 4 }, start: now, until: now + 600_000, rules: ['sshd-invalid-user'], attacks: 5, score: 50, firstSeen: now, evidence: [] });
    await fleet.pusher!.settled();
    expect(fleet.pusher!.stats).toMatchObject({ sent: 1, failingSince: null });
    expect(lapi.decisions().find((d) => d.value === '203.0.113.45')).toMatchObject({ origin: 'logwarden', scenario: 'logwarden/sshd-invalid-user' });
    const machines = JSON.parse(lapi.cscli('machines', 'list', '-o', 'json')) as { machineId: string; auth_type: string }[];
    expect(machines).toContainEqual(expect.objectContaining({ machineId: 'web1@127.0.0.1', auth_type: 'tls' }));
    lapi.cscli('decisions', 'add', '-i', '203.0.113.46', '-d', '1h', '-R', 'pulled over tls');
    await fleet.puller!.poll();
    expect(fleet.puller!.stats.failingSince).toBeNull();
    expect(store.fleet.decisions().map((d) => [d.key, d.state])).toEqual(expect.arrayContaining([['203.0.113.45', 'own'], ['203.0.113.46', 'applied']]));
    await fleet.stop();
    store.close();
    // the certificate's OU says what it may do
    const wrong = new LapiClient({ url: lapi.url, ca, machineCert: pem(certs.bouncer) });
    const error = await wrong.login().then(() => null, (e: Error) => e);
    expect(error).toBeInstanceOf(LapiError);
  });

  it('the options: both halves of a certificate, readable PEM, an https LAPI, and not with the password or the key', () => {
    const RUN: Command = { name: 'run', describe: 'test', positionals: [{ name: 'files', variadic: true, describe: 'log files' }], logsConfigWarnings: true, handler: () => {} };
    const env: RunEnvironment = {
      paths: { config: join(dir, 'none.conf'), whitelist: join(dir, 'none-whitelist'), db: join(dir, 'state.db'), pidFile: join(dir, 'run.pid') },
      lookupUser: () => null,
    };
    const log = join(dir, 'auth.log');
    writeFileSync(log, '');
    const load = (...argv: string[]) => loadRunConfig(parseCommandArgs(RUN, [log, '--lapi-url', 'https://127.0.0.1:8443', ...argv]), env).fleet;
    const agent = ['--lapi-machine-cert', certs.agent.cert, '--lapi-machine-cert-key', certs.agent.key];
    const bouncer = ['--lapi-bouncer-cert', certs.bouncer.cert, '--lapi-bouncer-cert-key', certs.bouncer.key];
    expect(load(...agent, ...bouncer)).toMatchObject({ machine: null, bouncerKey: null, machineCert: pem(certs.agent), bouncerCert: pem(certs.bouncer) });
    expect(() => load('--lapi-machine-cert', certs.agent.cert)).toThrow('--lapi-machine-cert: --lapi-machine-cert and --lapi-machine-cert-key go together');
    expect(() => load('--lapi-bouncer-cert', certs.bouncer.key, '--lapi-bouncer-cert-key', certs.bouncer.key)).toThrow(`--lapi-bouncer-cert: ${certs.bouncer.key} holds no PEM certificate`);
    expect(() => load('--lapi-bouncer-cert', certs.bouncer.cert, '--lapi-bouncer-cert-key', certs.agent.key)).toThrow(`--lapi-bouncer-cert-key: ${certs.agent.key} is not the key of ${certs.bouncer.cert}`);
    expect(() => load(...agent, '--lapi-machine', 'web1', '--lapi-password', 'pw')).toThrow('--lapi-machine-cert: give --lapi-machine and --lapi-password, or --lapi-machine-cert, not both');
    expect(() => load(...bouncer, '--lapi-key', 'k')).toThrow('--lapi-bouncer-cert: give --lapi-key or --lapi-bouncer-cert, not both');
    expect(() => loadRunConfig(parseCommandArgs(RUN, [log, '--lapi-url', 'http://127.0.0.1:8080', ...bouncer]), env)).toThrow('--lapi-bouncer-cert: a client certificate is for an https LAPI');
    const conf = join(dir, 'certs.conf');
    writeFileSync(conf, `LAPI_URL=https://127.0.0.1:8443\nLAPI_BOUNCER_CERT_FILE=${certs.bouncer.cert}\n`);
    expect(() => loadRunConfig(parseCommandArgs(RUN, [log, '--config', conf]), env)).toThrow(`${conf}:2: LAPI_BOUNCER_CERT_FILE: --lapi-bouncer-cert and --lapi-bouncer-cert-key go together`);
  });
});
