import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/file.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'logwarden-config-'));

// As Debian ships /etc/sshguard/sshguard.conf, with values changed
const SSHGUARD_CONF = `#!/bin/sh
# sshguard.conf -- SSHGuard configuration

#### REQUIRED CONFIGURATION ####
# Full path to backend executable (required, no default)
BACKEND="/usr/libexec/sshguard/sshg-fw-nft-sets"

# Shell command that provides logs on standard output. (optional, no default)
LOGREADER="LANG=C /bin/journalctl -afb -p info -n1 -t sshd -o cat"

#### OPTIONS ####
THRESHOLD=20
BLOCK_TIME=300
DETECTION_TIME=3600   # seconds
IPV6_SUBNET=56
IPV4_SUBNET=32
WHITELIST_FILE=/etc/sshguard/whitelist
`;

describe('configuration files', () => {
  it('reads sshguard.conf as it is, mapping its keys through the option table', () => {
    const config = parseConfigText(SSHGUARD_CONF, 'sshguard.conf', 'audit');
    expect(config.values).toEqual({
      threshold: 20,
      'block-time': 300,
      'detection-time': 3600,
      'ipv6-subnet': 56,
      'ipv4-subnet': 32,
      whitelist: ['/etc/sshguard/whitelist'],
    });
    expect(config.warnings.map((w) => [w.key, w.message])).toEqual([
      ['BACKEND', 'not used by audit'],
      ['LOGREADER', 'not used by audit'],
    ]);
  });

  it('accepts logwarden’s own option names', () => {
    expect(parseConfigText('trust-time = 600\npenalty-half-life="86400"\n', 'f', 'audit').values).toEqual({ 'trust-time': 600, 'penalty-half-life': 86400 });
  });

  it('names the file, line and key of a mistake', () => {
    expect(parseConfigText('THRESHOLD=30\nTRESHOLD=40\n', '/etc/logwarden/logwarden.conf', 'audit').warnings).toEqual([
      { file: '/etc/logwarden/logwarden.conf', line: 2, key: 'TRESHOLD', message: 'unknown key, ignored' },
    ]);
    expect(() => parseConfigText('\n\nBLOCK_TIME="two minutes"\n', 'x.conf', 'audit')).toThrow('x.conf:3: BLOCK_TIME: expected a number, got "two minutes"');
    expect(() => parseConfigText('just words\n', 'x.conf', 'audit')).toThrow('x.conf:1: expected KEY=value');
  });

  it('lets the command line win, and adds whitelists from both', () => {
    const conf = join(dir, 'sshguard.conf');
    const wl = join(dir, 'whitelist');
    writeFileSync(wl, '192.0.2.10\n');
    writeFileSync(conf, `THRESHOLD=20\nWHITELIST_FILE=${wl}\n`);
    const log = join(dir, 'auth.log');
    const lines = ['192.0.2.10', '192.0.2.11', '203.0.113.5'].flatMap((a) =>
      [0, 1].map((i) => `2026-05-01T10:00:0${i}Z web sshd[${i}]: Failed password for root from ${a} port 22 ssh2`),
    );
    writeFileSync(log, `${lines.join('\n')}\n`);
    const audit = (...args: string[]) => JSON.parse(spawnSync(process.execPath, [CLI, 'audit', '--json', '--config', conf, ...args, log], { encoding: 'utf8' }).stdout);
    // THRESHOLD=20 from the file: two attacks block; 192.0.2.10 is whitelisted by the file
    expect(audit().blocks.map((b: { addr: string }) => b.addr)).toEqual(['192.0.2.11', '203.0.113.5']);
    // -a on the command line wins; -w adds to the file's whitelist
    expect(audit('-a', '30').blocks).toEqual([]);
    expect(audit('-w', '192.0.2.11').blocks.map((b: { addr: string }) => b.addr)).toEqual(['203.0.113.5']);
  });

  it('exits 2 with the file and line on a bad configuration', () => {
    const conf = join(dir, 'bad.conf');
    writeFileSync(conf, 'THRESHOLD=thirty\n');
    const r = spawnSync(process.execPath, [CLI, 'audit', '--config', conf, 'x.log'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${conf}:1: THRESHOLD: expected a number`);
  });
});
