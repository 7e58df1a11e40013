// The --lapi-* options from real parsed arguments and configuration files: secrets inline or from a file, and
// every incomplete combination refused naming the flag or the file, line and key.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { runConfigFixture } from '../config/run-fixture.js';
const { dir, file, load: loadArgs } = runConfigFixture('fleet-config');
const log = file('auth.log', '');
const load = (...argv: string[]) => loadArgs(log, ...argv);

describe('the --lapi-* options', () => {
  it('are off by default', () => {
    expect(load().fleet).toBeNull();
  });

  it('take the URL, the machine and its password, the bouncer key, the interval', () => {
    const c = load('--lapi-url', 'http://10.0.0.5:8080', '--lapi-machine', 'web1', '--lapi-password', 'pw', '--lapi-key', 'k1', '--lapi-interval', '30');
    expect(c.fleet).toEqual({ url: 'http://10.0.0.5:8080', ca: null, machine: { id: 'web1', password: 'pw' }, bouncerKey: 'k1', machineCert: null, bouncerCert: null, interval: 30, shareEvidence: false });
    expect(load('--lapi-url', 'http://10.0.0.5:8080', '--lapi-key', 'k1').fleet).toMatchObject({ machine: null, bouncerKey: 'k1', machineCert: null, bouncerCert: null, interval: 10 });
  });

  it('read secrets from files (their first line) and from the configuration file', () => {
    const password = file('password', 'secret-pw\n');
    const key = file('key', 'bouncer-key\nignored\n');
    chmodSync(password, 0o600);
    const conf = file('fleet.conf', `lapi-url=https://lapi.example:8080\nlapi-machine=web2\nlapi-password-file=${password}\nlapi-key-file=${key}\nlapi-share-evidence=true\n`);
    expect(load('--config', conf).fleet).toEqual({
      url: 'https://lapi.example:8080',
      ca: null,
      machine: { id: 'web2', password: 'secret-pw' },
      bouncerKey: 'bouncer-key', machineCert: null, bouncerCert: null,
      interval: 10,
      shareEvidence: true,
    });
  });

  it('refuse what is incomplete or contradictory, naming the flag or the file, line and key', () => {
    expect(() => load('--lapi-key', 'k')).toThrow(/--lapi-key.*needs --lapi-url/);
    expect(() => load('--lapi-url', 'http://10.0.0.5:8080')).toThrow(/--lapi-url.*--lapi-machine and --lapi-password to push/);
    expect(() => load('--lapi-url', 'http://10.0.0.5:8080', '--lapi-machine', 'web1')).toThrow(/--lapi-machine.*needs both --lapi-machine and --lapi-password/);
    expect(() => load('--lapi-url', '10.0.0.5:8080', '--lapi-key', 'k')).toThrow(/--lapi-url.*expected an http or https URL|expected a URL/);
    expect(() => load('--lapi-url', 'http://x', '--lapi-key', 'k', '--lapi-key-file', join(dir, 'key'))).toThrow(/not both/);
    expect(() => load('--lapi-url', 'http://x', '--lapi-key-file', join(dir, 'missing'))).toThrow(/--lapi-key-file.*cannot read .*missing: ENOENT/);
    const empty = file('empty', '\n');
    const conf = file('bad.conf', `lapi-url=http://x\nlapi-key-file=${empty}\n`);
    expect(() => load('--config', conf)).toThrow(`${conf}:2: lapi-key-file`);
    expect(() => load('--lapi-url', 'http://x', '--lapi-key', 'k', '--lapi-interval', '0')).toThrow(/lapi-interval/);
  });
});
