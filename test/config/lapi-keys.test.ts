// The fleet's keys in an sshguard.conf-style file (LAPI_URL, LAPI_MACHINE_ID, LAPI_PASSWORD[_FILE],
// LAPI_BOUNCER_KEY[_FILE]): read like the option names, and a mistake named by file, line and key as written.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/file.js';

import { runConfigFixture } from './run-fixture.js';
const { dir, file, load: loadArgs } = runConfigFixture('lapi-keys');
const log = file('auth.log', '');
const load = (conf: string, ...argv: string[]) => loadArgs(log, '--config', conf, ...argv);

describe('LAPI_* keys in a configuration file', () => {
  it('map to the --lapi-* options: inline secrets', () => {
    const conf = file('inline.conf', 'LAPI_URL="http://10.0.0.5:8080"\nLAPI_MACHINE_ID=web1\nLAPI_PASSWORD=\'pw with # inside\'\nLAPI_BOUNCER_KEY=k1  # this host\'s own\n');
    expect(load(conf).fleet).toEqual({ url: 'http://10.0.0.5:8080', ca: null, machine: { id: 'web1', password: 'pw with # inside' }, bouncerKey: 'k1', machineCert: null, bouncerCert: null, interval: 10, shareEvidence: false });
  });

  it('and secrets from files (their first line)', () => {
    const password = file('password', 'secret-pw\n');
    const key = file('key', 'bouncer-key\n');
    const conf = file('files.conf', `LAPI_URL=https://lapi.example:8080\nLAPI_MACHINE_ID=web2\nLAPI_PASSWORD_FILE=${password}\nLAPI_BOUNCER_KEY_FILE=${key}\n`);
    expect(load(conf).fleet).toEqual({ url: 'https://lapi.example:8080', ca: null, machine: { id: 'web2', password: 'secret-pw' }, bouncerKey: 'bouncer-key', machineCert: null, bouncerCert: null, interval: 10, shareEvidence: false });
  });

  it('the command line wins over them', () => {
    const conf = file('override.conf', 'LAPI_URL=http://10.0.0.5:8080\nLAPI_BOUNCER_KEY=from-file\n');
    expect(load(conf, '--lapi-key', 'from-flag').fleet).toMatchObject({ bouncerKey: 'from-flag' });
  });

  it('a mistake names the file, the line and the key as written', () => {
    const badUrl = file('bad-url.conf', '# fleet\nLAPI_URL=10.0.0.5:8080\nLAPI_BOUNCER_KEY=k\n');
    expect(() => load(badUrl)).toThrow(`${badUrl}:2: LAPI_URL: expected`);
    const alone = file('alone.conf', 'LAPI_URL=http://10.0.0.5:8080\nLAPI_MACHINE_ID=web1\n');
    expect(() => load(alone)).toThrow(`${alone}:2: LAPI_MACHINE_ID: pushing to the LAPI needs both`);
    const empty = file('empty', '\n');
    const emptyKey = file('empty-key.conf', `LAPI_URL=http://10.0.0.5:8080\nLAPI_BOUNCER_KEY_FILE=${empty}\n`);
    expect(() => load(emptyKey)).toThrow(`${emptyKey}:2: LAPI_BOUNCER_KEY_FILE: ${empty} is empty`);
    const both = file('both.conf', `LAPI_URL=http://10.0.0.5:8080\nLAPI_PASSWORD=pw\nLAPI_MACHINE_ID=web1\nLAPI_PASSWORD_FILE=${file('pw2', 'x\n')}\n`);
    expect(() => load(both)).toThrow(`${both}:4: LAPI_PASSWORD_FILE: give --lapi-password or --lapi-password-file, not both`);
    const stray = file('stray.conf', 'LAPI_BOUNCER_KEY=k\n');
    expect(() => load(stray)).toThrow(`${stray}:1: LAPI_BOUNCER_KEY: needs --lapi-url`);
  });

  it('LAPI_CA_FILE: its PEM text for an https LAPI; refused for http, unreadable or not PEM', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const ca = file('ca.pem', pem);
    const ok = file('ca.conf', `LAPI_URL=https://lapi.example:8080\nLAPI_BOUNCER_KEY=k\nLAPI_CA_FILE=${ca}\n`);
    expect(load(ok).fleet).toMatchObject({ url: 'https://lapi.example:8080', ca: pem });
    const plain = file('ca-http.conf', `LAPI_URL=http://lapi.example:8080\nLAPI_BOUNCER_KEY=k\nLAPI_CA_FILE=${ca}\n`);
    expect(() => load(plain)).toThrow(`${plain}:3: LAPI_CA_FILE: a CA is for an https LAPI`);
    const notPem = file('ca-bad.conf', `LAPI_URL=https://lapi.example:8080\nLAPI_BOUNCER_KEY=k\nLAPI_CA_FILE=${log}\n`);
    expect(() => load(notPem)).toThrow(`${notPem}:3: LAPI_CA_FILE: ${log} holds no PEM certificate`);
    const gone = file('ca-gone.conf', `LAPI_URL=https://lapi.example:8080\nLAPI_BOUNCER_KEY=k\nLAPI_CA_FILE=${join(dir, 'missing.pem')}\n`);
    expect(() => load(gone)).toThrow(`${gone}:3: LAPI_CA_FILE: cannot read ${join(dir, 'missing.pem')}: ENOENT`);
    expect(() => load(file('ca-stray.conf', `LAPI_CA_FILE=${ca}\n`))).toThrow(/:1: LAPI_CA_FILE: needs --lapi-url/);
  });

  it('one set twice (under either name) warns naming both lines; other commands ignore them with a warning', () => {
    const c = parseConfigText('LAPI_URL=http://a:8080\nlapi-url=http://b:8080\n', 'x.conf', 'run');
    expect(c.values['lapi-url']).toBe('http://b:8080');
    expect(c.warnings).toEqual([{ file: 'x.conf', line: 2, key: 'lapi-url', message: 'set again: replaces x.conf:1: LAPI_URL' }]);
    expect(parseConfigText('LAPI_BOUNCER_KEY=k\n', 'x.conf', 'audit').warnings).toEqual([{ file: 'x.conf', line: 1, key: 'LAPI_BOUNCER_KEY', message: 'not used by audit' }]);
  });
});
