// The local syslog's network inputs, found in rsyslog's and syslog-ng's configuration text.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSyslogConfigs, rsyslogNetworkInputs, syslogNetworkInputs, syslogNgNetworkInputs } from '../../src/daemon/syslog-network.js';

const rs = (text: string) => rsyslogNetworkInputs({ path: 'r.conf', text }).map((n) => `${n.line}:${n.what}`);
const ng = (text: string) => syslogNgNetworkInputs({ path: 'n.conf', text }).map((n) => `${n.line}:${n.what}`);

describe('rsyslog', () => {
  it('finds imudp, imtcp and imrelp in both syntaxes, with their line', () => {
    expect(rs('module(load="imuxsock")\nmodule(load="imudp")\ninput(type="imudp" port="514")\n')).toEqual(['2:imudp', '3:imudp']);
    expect(rs('module( load = "imtcp" MaxSessions="500")\n')).toEqual(['1:imtcp']);
    expect(rs('$ModLoad imudp\n$UDPServerRun 514\n$ModLoad imtcp\n$InputTCPServerRun 514\n')).toEqual(['1:imudp', '2:$UDPServerRun', '3:imtcp', '4:$InputTCPServerRun']);
    expect(rs('module(load="imrelp")\ninput(type="imrelp" port="2514")')).toEqual(['1:imrelp', '2:imrelp']);
  });

  it('ignores commented-out inputs (the stock Debian file) and local ones', () => {
    const debian = '#module(load="imudp")\n#input(type="imudp" port="514")\n# $ModLoad imtcp\n  #$UDPServerRun 514\nmodule(load="imuxsock")\nmodule(load="imklog")\n';
    expect(rs(debian)).toEqual([]);
    expect(rs('*.* action(type="omfwd" target="10.0.0.1" port="514" protocol="udp") # forwards, does not listen\n')).toEqual([]);
    expect(rs('template(name="t" type="string" string="# not a comment") module(load="imtcp")\n')).toEqual(['1:imtcp']);
  });
});

describe('syslog-ng', () => {
  it('finds network drivers inside source blocks only', () => {
    const conf = [
      'source s_src { system(); internal(); };',
      'source s_net {',
      '  udp(ip(0.0.0.0) port(514));',
      '  network(transport("tcp") port(601));',
      '};',
      'destination d_remote { tcp("10.0.0.1" port(514)); syslog("10.0.0.2"); };',
      '# source s_old { udp(); };',
      'source s_nested { channel { source { syslog(port(6514)); }; }; };',
    ].join('\n');
    expect(ng(conf)).toEqual(['3:udp()', '4:network()', '8:syslog()']);
    expect(ng('source s_local { unix-dgram("/dev/log"); file("/proc/kmsg"); };')).toEqual([]);
  });
});

describe('reading the configuration files', () => {
  it('reads rsyslog.conf, rsyslog.d/*.conf and syslog-ng files under a root; missing ones are left out', () => {
    const root = mkdtempSync(join(tmpdir(), 'logwarden-syslog-'));
    expect(syslogNetworkInputs(readSyslogConfigs(root))).toEqual([]);
    writeFileSync(join(root, 'rsyslog.conf'), 'module(load="imuxsock")\n$IncludeConfig /etc/rsyslog.d/*.conf\n');
    mkdirSync(join(root, 'rsyslog.d'));
    writeFileSync(join(root, 'rsyslog.d', '10-remote.conf'), '\nmodule(load="imtcp")\n');
    writeFileSync(join(root, 'rsyslog.d', 'notes.txt'), 'module(load="imudp")\n');
    mkdirSync(join(root, 'syslog-ng', 'conf.d'), { recursive: true });
    writeFileSync(join(root, 'syslog-ng', 'conf.d', 'net.conf'), 'source s { tcp(port(514)); };\n');
    expect(syslogNetworkInputs(readSyslogConfigs(root))).toEqual([
      { path: join(root, 'rsyslog.d', '10-remote.conf'), line: 2, what: 'imtcp' },
      { path: join(root, 'syslog-ng', 'conf.d', 'net.conf'), line: 1, what: 'tcp()' },
    ]);
  });
});
