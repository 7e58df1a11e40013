// sshguard.conf read as it is: every key of sshguard's sample configuration, its quoting, and its mistakes.
import { describe, expect, it } from 'vitest';
import { backendFromSshguard, parseConfigText } from '../../src/config/file.js';

// Every key of sshguard's current sample configuration (2.5), with the quoting forms sh accepts
const SAMPLE = `#!/bin/sh
# sshguard.conf -- SSHGuard configuration
BACKEND="/usr/libexec/sshguard/sshg-fw-nft-sets"
FILES="/var/log/auth.log /var/log/maillog"
LOGREADER="LANG=C /usr/bin/journalctl -afb -p info -n1 -t sshd -o cat"
THRESHOLD="30" # block at 30
BLOCK_TIME=120
DETECTION_TIME='3600'   # one hour
BLOCK_TIME_MULTIPLIER=1.5
BLACKLIST_FILE=120:/var/lib/sshguard/enemies
WHITELIST_FILE=/etc/sshguard/whitelist
IPV4_SUBNET=24
IPV6_SUBNET=64
MASK_SUBNET_BY=subnet
PID_FILE=/run/sshguard.pid
PARSER="/usr/libexec/sshguard/sshg-parser"
POST_PARSER="grep -v 192.0.2.1"
SSHGUARD_USER=nobody
STATS_DIR=/var/lib/prometheus/node-exporter

export LOG_LEVEL_UNUSED=1
`;

describe('sshguard.conf', () => {
  it('understands every key of sshguard’s sample configuration', () => {
    const config = parseConfigText(SAMPLE, '/etc/sshguard/sshguard.conf', 'run');
    expect(config.values).toEqual({
      backend: 'nft',
      source: ['/var/log/auth.log', '/var/log/maillog'],
      logreader: 'LANG=C /usr/bin/journalctl -afb -p info -n1 -t sshd -o cat',
      threshold: 30,
      'block-time': 120,
      'detection-time': 3600,
      'block-time-multiplier': 1.5,
      blacklist: '120:/var/lib/sshguard/enemies',
      whitelist: ['/etc/sshguard/whitelist'],
      'ipv4-subnet': 24,
      'ipv6-subnet': 64,
      'mask-subnet-by': 'subnet',
      'pid-file': '/run/sshguard.pid',
      parser: '/usr/libexec/sshguard/sshg-parser',
      'post-parser': 'grep -v 192.0.2.1',
      user: 'nobody',
      'stats-dir': '/var/lib/prometheus/node-exporter',
    });
    expect(config.origins.threshold).toEqual(['/etc/sshguard/sshguard.conf:6: THRESHOLD']);
    expect(config.origins.source).toEqual(['/etc/sshguard/sshguard.conf:4: FILES', '/etc/sshguard/sshguard.conf:4: FILES']);
    expect(config.warnings).toEqual([{ file: '/etc/sshguard/sshguard.conf', line: 21, key: 'LOG_LEVEL_UNUSED', message: 'unknown key, ignored' }]);
  });

  it('reads sh quoting: escapes inside double quotes, # inside quotes, empty values as unset', () => {
    const v = parseConfigText(`POST_PARSER="grep -v \\"a b\\" # not a comment"\nPARSER=''\nLOGREADER='tail -F /var/log/a#b'\n`, 'f', 'run').values;
    expect(v).toEqual({ 'post-parser': 'grep -v "a b" # not a comment', logreader: 'tail -F /var/log/a#b' });
  });

  it('takes a relative WHITELIST_FILE from the configuration’s folder, always as a file', () => {
    expect(parseConfigText('WHITELIST_FILE=whitelist\n', '/etc/sshguard/sshguard.conf', 'run').values.whitelist).toEqual(['/etc/sshguard/whitelist']);
  });

  it('names file, line and key of an invalid value (never as if it were a flag)', () => {
    const bad = (text: string) => () => parseConfigText(`# first\n${text}\n`, '/etc/sshguard/sshguard.conf', 'run');
    expect(bad('THRESHOLD=abc')).toThrow('/etc/sshguard/sshguard.conf:2: THRESHOLD: expected a number, got "abc"');
    expect(bad('THRESHOLD=0')).toThrow('/etc/sshguard/sshguard.conf:2: THRESHOLD: expected a whole number >= 1, got 0');
    expect(bad('IPV4_SUBNET=33')).toThrow('/etc/sshguard/sshguard.conf:2: IPV4_SUBNET: expected a whole number from 0 to 32, got 33');
    expect(bad('IPV6_SUBNET=64.5')).toThrow('sshguard.conf:2: IPV6_SUBNET: expected a whole number from 0 to 128, got 64.5');
    expect(bad('BLOCK_TIME_MULTIPLIER=0.5')).toThrow('sshguard.conf:2: BLOCK_TIME_MULTIPLIER: expected a number from 1 to 100, got 0.5');
    expect(bad('BLACKLIST_FILE=/var/lib/sshguard/enemies')).toThrow('sshguard.conf:2: BLACKLIST_FILE: expected THRESH:FILE');
    expect(bad('sync-interval=0')).toThrow('sshguard.conf:2: sync-interval: expected a whole number from 1 to 86400, got 0');
    expect(bad('log-level=loud')).toThrow('sshguard.conf:2: log-level: expected one of debug, info, warn, error, got "loud"');
    expect(bad('FILES=/var/log/auth.log /var/log/maillog')).toThrow('sshguard.conf:2: FILES: unexpected "/var/log/maillog" after the value (quote a value that contains spaces)');
    expect(bad('THRESHOLD="30')).toThrow('sshguard.conf:2: THRESHOLD: unterminated " quote');
    expect(bad('THRESHOLD="30"x')).toThrow('sshguard.conf:2: THRESHOLD: unexpected "x" after the value');
    expect(bad('config=/etc/other.conf')).not.toThrow();
    expect(parseConfigText('help=true\n', 'f', 'run').warnings[0]).toMatchObject({ key: 'help', message: 'unknown key, ignored' });
  });

  it('maps BACKEND paths to our backends, and names what we have for one we lack', () => {
    const ours = ['nft', 'iptables', 'ipset', 'null'];
    expect(backendFromSshguard('/usr/libexec/sshguard/sshg-fw-nft-sets', ours)).toBe('nft');
    expect(backendFromSshguard('/usr/local/libexec/sshg-fw-iptables', ours)).toBe('iptables');
    expect(backendFromSshguard('/usr/libexec/sshguard/sshg-fw-ipset', ours)).toBe('ipset');
    expect(backendFromSshguard('/usr/libexec/sshguard/sshg-fw-null', ours)).toBe('null');
    expect(backendFromSshguard('ipset', ours)).toBe('ipset');
    const conf = (backend: string) => () => parseConfigText(`THRESHOLD=30\nBACKEND="${backend}"\n`, '/etc/sshguard/sshguard.conf', 'run');
    expect(conf('/usr/libexec/sshguard/sshg-fw-firewalld')).toThrow(
      "/etc/sshguard/sshguard.conf:2: BACKEND: sshguard's sshg-fw-firewalld has no logwarden equivalent (firewalld runs on nftables: the nft backend works beside it, in its own table); logwarden has nft, iptables, ipset, null",
    );
    expect(conf('/usr/libexec/sshguard/sshg-fw-pf')).toThrow("sshguard.conf:2: BACKEND: sshguard's sshg-fw-pf has no logwarden equivalent; logwarden has nft, iptables, ipset, null");
    expect(conf('/opt/my-firewall')).toThrow('sshguard.conf:2: BACKEND: "/opt/my-firewall" is not a backend logwarden knows; logwarden has nft, iptables, ipset, null');
  });
});
