// `logwarden explain` in the lab's server namespace: after the daemon blocks an address it names the rule, the
// evidence lines and the unblock command; rules of other tools (an iptables `sshguard` chain, a fail2ban-style
// `f2b-sshd` chain rejecting a /28, an nft set of another table) are reported with table and chain.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedMessage, type DaemonProcess, failures, Lab, labUnavailable, syslogLine } from './lab.js';

const unavailable = labUnavailable(['nft', 'iptables']);
if (unavailable) console.warn(`explain tests against the kernel skipped: ${unavailable}`);

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe.skipIf(unavailable)(`logwarden explain${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-explain-'));
  const log = join(dir, 'auth.log');
  const db = join(dir, 'state.db');
  let daemon: DaemonProcess;
  const explain = (...args: string[]) => {
    const r = spawnSync(lab.inServer[0], [...lab.inServer.slice(1), process.execPath, CLI, 'explain', '--db', db, ...args], { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  beforeAll(async () => {
    await lab.start();
    writeFileSync(log, syslogLine('Server listening on 0.0.0.0 port 22.'));
    daemon = lab.startDaemon(['--backend', 'nft', '--db', db, '--pid-file', join(dir, 'run.pid'), log]);
    await daemon.waitFor(/^logwarden running/);
  });
  afterAll(async () => {
    await daemon?.stop('SIGTERM').catch(() => daemon.kill());
    lab.stop();
  });

  it("after the daemon blocks an address, names logwarden's rule, the evidence lines and the unblock command; exit 1", async () => {
    const mark = daemon.mark();
    appendFileSync(log, failures('192.0.2.66', 3));
    await daemon.waitFor(blockedMessage('192.0.2.66'), 5000, mark);
    const { code, out, err } = explain('192.0.2.66');
    expect(code, err).toBe(1);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^192\.0\.2\.66 is blocked until \d{4}-\d\d-\d\dT.* \(by logwarden, policy\)$/);
    expect(out).toContain(`lift it: logwarden --db ${db} unblock 192.0.2.66`);
    expect(out).toMatch(/why: score 30; 3 attack\(s\) over \d+ s .*rules ssh-failed-password/);
    expect(out.match(/\| .*Failed password for root from 192\.0\.2\.66 port 4000[0-2] ssh2/g)?.length).toBeGreaterThanOrEqual(3);
    expect(out).toContain(`${log}`);
    expect(out).toMatch(/logwarden: nft: table inet logwarden, chain input, set blocked4: 192\.0\.2\.66 .*-> DROP/);
    expect(out).toContain('rule: ip saddr @blocked4 drop');
    const json = JSON.parse(explain('192.0.2.66', '--json').out) as {
      verdict: { state: string };
      evidence: { lines: { source: string; text: string }[] };
      firewall: { findings: { tool: string; table: string; set: string; blocks: boolean }[] };
      blocked: boolean;
    };
    expect(json.verdict.state).toBe('blocked');
    expect(json.blocked).toBe(true);
    expect(json.evidence.lines[0]).toEqual(expect.objectContaining({ source: log }));
    expect(json.firewall.findings).toContainEqual(expect.objectContaining({ tool: 'logwarden', table: 'inet logwarden', set: 'blocked4', blocks: true }));
  });

  it("reports a hand-written DROP in a chain named sshguard, and a fail2ban-style f2b-sshd chain rejecting a /28, with table and chain", () => {
    for (const argv of [
      ['iptables', '-N', 'sshguard'],
      ['iptables', '-A', 'INPUT', '-j', 'sshguard'],
      ['iptables', '-A', 'sshguard', '-s', '192.0.2.67', '-j', 'DROP'],
      ['iptables', '-N', 'f2b-sshd'],
      ['iptables', '-A', 'f2b-sshd', '-s', '198.51.100.16/28', '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'],
      ['iptables', '-A', 'f2b-sshd', '-j', 'RETURN'],
      ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'f2b-sshd'],
    ]) lab.inServerRun(argv);
    const sshguard = explain('192.0.2.67');
    expect(sshguard.code, sshguard.err).toBe(1);
    expect(sshguard.out.split('\n')[0]).toMatch(/^192\.0\.2\.67 is blocked in the firewall by sshguard \(iptables(-nft)?-save: table filter, chain sshguard\)/);
    expect(sshguard.out).toContain('logwarden has never seen 192.0.2.67');
    expect(sshguard.out).toContain('rule: -A sshguard -s 192.0.2.67/32 -j DROP');
    const f2b = explain('198.51.100.20');
    expect(f2b.code, f2b.err).toBe(1);
    expect(f2b.out).toMatch(/fail2ban: iptables(-nft)?-save: table filter, chain f2b-sshd: 198\.51\.100\.16\/28 -> REJECT/);
    expect(f2b.out).toContain('lift it: fail2ban-client set sshd unbanip 198.51.100.20');
    // the /28 and nothing more
    expect(explain('198.51.100.32').code).toBe(0);
  });

  it("reports an nft set of another table that holds a prefix covering the address", () => {
    lab.inServerRun(['nft', 'add', 'table', 'ip', 'crowdsec']);
    lab.inServerRun(['nft', 'add', 'set', 'ip', 'crowdsec', 'crowdsec-blacklists', '{ type ipv4_addr; flags interval, timeout; }']);
    lab.inServerRun(['nft', 'add', 'element', 'ip', 'crowdsec', 'crowdsec-blacklists', '{ 203.0.113.0/26 timeout 4h }']);
    lab.inServerRun(['nft', 'add', 'chain', 'ip', 'crowdsec', 'crowdsec-chain', '{ type filter hook input priority -10; }']);
    lab.inServerRun(['nft', 'add', 'rule', 'ip', 'crowdsec', 'crowdsec-chain', 'ip', 'saddr', '@crowdsec-blacklists', 'drop']);
    const { code, out, err } = explain('203.0.113.9', '--json');
    expect(code, err).toBe(1);
    const json = JSON.parse(out) as { verdict: { state: string; by: string }; known: boolean; firewall: { findings: unknown[] } };
    expect(json.verdict).toEqual(expect.objectContaining({ state: 'blocked-elsewhere', by: 'crowdsec' }));
    expect(json.known).toBe(false);
    expect(json.firewall.findings).toEqual([
      expect.objectContaining({ source: 'nft', tool: 'crowdsec', table: 'ip crowdsec', chain: 'crowdsec-chain', set: 'crowdsec-blacklists', matched: '203.0.113.0/26', blocks: true }),
    ]);
  });

  it('an address never seen and not in the firewall: says so, exit 0; a bad address is a usage error, exit 2', () => {
    const { code, out } = explain('::ffff:203.0.113.200');
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe('203.0.113.200 is not blocked');
    expect(out).toContain('logwarden has never seen 203.0.113.200');
    expect(out).toContain('Firewall: nothing matches 203.0.113.200.');
    expect(explain('192.0.2.300').code).toBe(2);
  });
});
