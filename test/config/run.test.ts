// loadRunConfig from real parsed arguments: flags over the configuration file over defaults, errors naming
// their origin, sshguard's sources and whitelist rules.
import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/command.js';
import { defaultPaths } from '../../src/config/paths.js';
import { loadRunConfig } from '../../src/config/run.js';
import { DEFAULT_JOURNAL_IDENTIFIERS } from '../../src/sources/journal.js';

import { RUN, runConfigFixture } from './run-fixture.js';
const { dir, env, file, load } = runConfigFixture('run-config');

describe('loadRunConfig', () => {
  it('takes flags over the configuration file over defaults', () => {
    const conf = file('precedence.conf', 'THRESHOLD=20\nBLOCK_TIME=300\nIPV6_SUBNET=56\nFILES="/var/log/auth.log"\nsync-interval=30\n');
    const c = load('--config', conf, '-p', '600');
    expect(c.policy).toMatchObject({ threshold: 20, blockTime: 600, ipv6Subnet: 56, detectionTime: 1800, ipv4Subnet: 32 });
    expect(c.syncInterval).toBe(30);
    expect(c.configFile).toBe(conf);
    expect(c.sources).toEqual({ files: ['/var/log/auth.log'], stdin: false, journal: null, logreader: null });
    expect(c).toMatchObject({ db: env.paths.db, pidFile: env.paths.pidFile, logLevel: 'info', dryRun: false, keepOnExit: false });
    expect(c.firewall).toEqual({ backend: 'nft', name: 'logwarden', hooks: ['input'], priority: -10 });
  });

  it('combines lists as documented: -l adds to FILES, FILE arguments replace FILES and LOGREADER, --journal-match replaces', () => {
    const conf = file('lists.conf', 'FILES="/var/log/auth.log /var/log/mail.log"\nLOGREADER="tail -F /var/log/x | cat"\n');
    const journalConf = file('journal.conf', 'journal=yes\njournal-match=sshd\n');
    expect(load('--config', conf, '-l', '/var/log/extra.log').sources).toEqual({
      files: ['/var/log/auth.log', '/var/log/mail.log', '/var/log/extra.log'],
      stdin: false,
      journal: null,
      logreader: 'tail -F /var/log/x | cat',
    });
    const only = load('--config', conf, '/srv/app.log', '-l', '-');
    expect(only.sources).toEqual({ files: ['/srv/app.log'], stdin: true, journal: null, logreader: null });
    const journal = load('--config', journalConf, '--journal-match', '_SYSTEMD_UNIT=ssh.service');
    expect(journal.sources.journal).toEqual({ identifiers: [], units: ['ssh.service'], file: null });
    expect(load('--config', journalConf).sources.journal).toEqual({ identifiers: ['sshd'], units: [], file: null });
    expect(load('--journal').sources.journal!.identifiers).toEqual([...DEFAULT_JOURNAL_IDENTIFIERS]);
  });

  it('reads a plain journalctl LOGREADER natively, adding sshd-session, and says so', () => {
    const conf = file('logreader.conf', 'LOGREADER="LANG=C journalctl -afb -p info -n1 -t sshd -o cat"\n');
    const c = load('--config', conf);
    expect(c.sources).toEqual({ files: [], stdin: false, journal: { identifiers: ['sshd', 'sshd-session', 'sshd-auth'], units: [], file: null, priority: 'info' }, logreader: null });
    expect(c.warnings).toEqual([{ origin: `${conf}:1: LOGREADER`, message: expect.stringContaining('read natively as the journal (identifiers: sshd, sshd-session, sshd-auth)') }]);
  });

  it('names the flag, or the file, line and key, of a value that fails a check across options', () => {
    const conf = file('cross.conf', 'THRESHOLD=40\n\nBLACKLIST_FILE=30:/var/lib/sshguard/enemies\n');
    expect(() => load('--config', conf, '/var/log/auth.log')).toThrow(
      `${conf}:3: BLACKLIST_FILE: THRESH (30) must be at least the threshold (40, ${conf}:1: THRESHOLD)`,
    );
    expect(() => load('-b', '20:/tmp/x', 'a.log')).toThrow('--blacklist: THRESH (20) must be at least the threshold (30, --threshold)');
    expect(() => load('--fw-name', 'bad name', 'a.log')).toThrow('--fw-name: letters, digits, - and _ only');
    expect(() => load('--journal', '--journal-match=--output=x')).toThrow('--journal-match: expected IDENTIFIER, SYSLOG_IDENTIFIER=IDENTIFIER or _SYSTEMD_UNIT=UNIT, got "--output=x"');
    expect(() => load('--journal-match', 'sshd', 'a.log')).toThrow('--journal-match: needs --journal or --journal-file');
    expect(() => load('-w', 'not an address!', 'a.log')).toThrow('--whitelist: "not an address!" is not an address, CIDR or hostname');
    expect(() => load('--user', 'nosuchuser', 'a.log')).toThrow('--user: no such user "nosuchuser"');
    expect(() => load()).toThrow('no log to read');
  });

  it('refuses flags out of range, as the configuration file does', () => {
    expect(() => load('-n', '33', 'a.log')).toThrow('--ipv4-subnet: expected a whole number from 0 to 32, got 33');
    expect(() => load('--sync-interval', '0', 'a.log')).toThrow('--sync-interval: expected a whole number from 1 to 86400, got 0');
    expect(() => load('--threshold=-5', 'a.log')).toThrow('--threshold: expected a whole number >= 1, got -5');
  });

  it('makes an unreadable whitelist file fatal at start, naming where it was configured', () => {
    const conf = file('wl.conf', 'THRESHOLD=30\nWHITELIST_FILE=/nonexistent/whitelist\n');
    expect(() => load('--config', conf, 'a.log')).toThrow(`${conf}:2: WHITELIST_FILE: cannot read whitelist file /nonexistent/whitelist: ENOENT`);
    // root reads any file whatever its mode: the unreadable case is a folder in its place
    const folder = dir;
    expect(() => load('-w', folder, 'a.log')).toThrow(`--whitelist: cannot read whitelist file ${folder}: EISDIR`);
  });

  it('merges -w entries, configured files and the default file, with problems as warnings', () => {
    const wl = file('whitelist', '192.0.2.10 # office\n198.51.100.0/24\nnot_a host!\nbackup.example.org\n');
    file('default-whitelist', '203.0.113.7\n');
    const c = load('-w', '2001:db8::1', '-w', wl, 'a.log');
    expect(c.whitelist.entries.networks.map((n) => `${n.net.addr}/${n.net.cidr}`)).toEqual(['2001:db8::1/128', '192.0.2.10/32', '198.51.100.0/24', '203.0.113.7/32']);
    expect(c.whitelist.entries.hostnames.map((h) => h.name)).toEqual(['backup.example.org']);
    expect(c.whitelist.files.map((f) => [f.path, f.required])).toEqual([[wl, true], [env.paths.whitelist, false]]);
    expect(c.warnings).toEqual([{ origin: `${wl}:3`, message: 'whitelist entry "not_a" skipped: not an address, CIDR or hostname' }]);
  });

  it('warns, saying what logwarden does instead, for sshguard settings it does differently', () => {
    const conf = file('compat.conf', 'MASK_SUBNET_BY=subnet\nSSHGUARD_USER=nobody\nSTATS_DIR=/var/lib/node-exporter\nBOGUS_KEY=1\n');
    const c = load('--config', conf, '-f', '100:/run/sshd.pid', 'a.log');
    expect(c.user).toEqual({ name: 'nobody', uid: 65534, gid: 65534 });
    expect(c.statsDir).toBe('/var/lib/node-exporter');
    // SSHGUARD_USER is done as sshguard does it (privilege separation): no warning
    expect(c.warnings.map((w) => w.origin)).toEqual([`${conf}:4: BOGUS_KEY`, '--service-pid-file', `${conf}:1: MASK_SUBNET_BY`, `${conf}:3: STATS_DIR`]);
    expect(c.warnings[1].message).toContain('read the journal (--journal)');
  });

  it('answers sshguard’s -v and -h before anything else is checked', () => {
    expect(parseCommandArgs(RUN, ['-v', '-n', '99'])).toMatchObject({ version: true });
    expect(parseCommandArgs(RUN, ['-h'])).toMatchObject({ help: true });
  });
});

describe('default paths', () => {
  it('uses the system folders as root', () => {
    expect(defaultPaths({ uid: 0, env: { XDG_STATE_HOME: '/x' }, home: '/root' })).toEqual({
      config: '/etc/logwarden/logwarden.conf',
      whitelist: '/etc/logwarden/whitelist',
      db: '/var/lib/logwarden/state.db',
      pidFile: '/run/logwarden.pid',
    });
  });

  it('uses the XDG folders otherwise, ignoring relative XDG values', () => {
    expect(defaultPaths({ uid: 1000, env: { XDG_CONFIG_HOME: '/c', XDG_STATE_HOME: '/s', XDG_RUNTIME_DIR: '/run/user/1000' }, home: '/home/ann' })).toEqual({
      config: '/c/logwarden/logwarden.conf',
      whitelist: '/c/logwarden/whitelist',
      db: '/s/logwarden/state.db',
      pidFile: '/run/user/1000/logwarden.pid',
    });
    expect(defaultPaths({ uid: 1000, env: { XDG_CONFIG_HOME: 'relative' }, home: '/home/ann' })).toEqual({
      config: '/home/ann/.config/logwarden/logwarden.conf',
      whitelist: '/home/ann/.config/logwarden/whitelist',
      db: '/home/ann/.local/state/logwarden/state.db',
      pidFile: '/home/ann/.local/state/logwarden/logwarden.pid',
    });
  });
});
