import { describe, expect, it } from 'vitest';
import { ConnectionNames, connectionOf } from '../../src/correlate/connections.js';
import { Parser } from '../../src/parse/parser.js';
import { loadRuleSet } from '../../src/parse/rules.js';

const parser = new Parser(loadRuleSet({ localDir: null, disable: [], danger: [] }).rules);

// Runs of one connection's lines, the same pid on another host, another pid on the same host, another program,
// a line without pid, RFC 5424, a session-keyed daemon, and pids whose text differs only in length
const LINES = [
  'May  1 00:00:01 web1 sshd[3023]: Invalid user jenkins from 198.51.100.9 port 21811',
  'May  1 00:00:01 web1 sshd[3023]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.9',
  'May  1 00:00:01 web1 sshd[3023]: Failed password for invalid user jenkins from 198.51.100.9 port 21811 ssh2',
  'May  1 00:00:02 web2 sshd[3023]: Failed password for root from 198.51.100.10 port 21812 ssh2',
  'May  1 00:00:02 web1 sshd[3024]: Failed password for root from 198.51.100.11 port 21813 ssh2',
  'May  1 00:00:02 web1 sshd[3025]: Failed password for root from 198.51.100.11 port 21813 ssh2',
  'May  1 00:00:02 web1 sshd-session[3025]: Failed password for root from 198.51.100.11 port 21813 ssh2',
  'May  1 00:00:02 web1 sshd[302]: Failed password for root from 198.51.100.11 port 21813 ssh2',
  'May  1 00:00:02 web1 sshd[30234]: Failed password for root from 198.51.100.11 port 21813 ssh2',
  'May  1 00:00:02 web1 sshd-session[3024]: Failed password for root from 198.51.100.12 port 21814 ssh2',
  'May  1 00:00:02 web1 sshd-session[3024]: Failed password for root from 198.51.100.12 port 21814 ssh2',
  'May  1 00:00:03 web1 sshd: Failed password for root from 198.51.100.13 port 21815 ssh2',
  '<38>1 2026-05-01T00:00:05.972810+02:00 web1 sshd 3023 - - Invalid user mysql from 198.51.100.175 port 48405',
  '<38>1 2026-05-01T00:00:05.972810+02:00 web1 sshd 3023 - - Failed password for invalid user mysql from 198.51.100.175 port 48405 ssh2',
  'May  1 00:00:03 web1 sshd[3023]: Failed password for root from 198.51.100.9 port 21811 ssh2',
  'May  1 00:00:04 mx1 smtpd[700]: 3fd8a5a9b1c2d3e4 smtp connected address=203.0.113.20 host=unknown',
  'May  1 00:00:04 mx1 smtpd[700]: 3fd8a5a9b1c2d3e4 smtp failed-command command="AUTH LOGIN (password)" result="535 Authentication failed"',
  'May  1 00:00:05 web1 dovecot: pop3-login: Disconnected (auth failed, 1 attempts in 13 secs): user=<info>, method=PLAIN, rip=192.0.2.152, lip=192.0.2.1, TLS',
];

describe('ConnectionNames', () => {
  it('names each line as connectionOf does, and a run of one connection with the same string', () => {
    const names = new ConnectionNames();
    let previous: string | null = null;
    let reused = 0;
    for (const line of LINES) {
      const event = parser.parse(line, false);
      expect(event, line).not.toBeNull();
      const key = names.of(event!);
      expect(key, line).toBe(connectionOf(event!));
      if (key !== null && key === previous) reused++;
      previous = key;
    }
    expect(reused).toBeGreaterThanOrEqual(3);
  });

  it('gives keys of different connections apart', () => {
    const names = new ConnectionNames();
    const keys = LINES.slice(2, 10).map((line) => names.of(parser.parse(line, false)!));
    expect(new Set(keys).size).toBe(keys.length);
  });
});
