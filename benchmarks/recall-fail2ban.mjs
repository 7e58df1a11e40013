#!/usr/bin/env node
// Recall on material this project does not hold: fail2ban's annotated test logs (each failure line is preceded
// by `# failJSON: {"match": true, "host": ...}`), from Debian's fail2ban package, unpacked under
// benchmarks/data. For each log of a service logwarden covers, counts the annotated failures whose host
// logwarden reports (recall), the lines annotated as not failures that it reports as attacks (false alarms),
// and the same for sshguard 2.4.2's sshg-parser over the same lines, side by side.
//
// Usage: node benchmarks/recall-fail2ban.mjs [--json] [--misses FILTER]   (needs `npx tsc -p .` first)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureComparisonTools, fail2banPythonPath, parseArgs, PKGS, ROOT, SSHG_PARSER } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), { json: false, misses: '' }, 'node benchmarks/recall-fail2ban.mjs [--json] [--misses FILTER]');
ensureComparisonTools({ sshguard: true, fail2ban: true });
const { Parser } = await import(join(ROOT, 'dist/parse/parser.js'));
const { loadRules } = await import(join(ROOT, 'dist/parse/rules.js'));
const { parseAddress } = await import(join(ROOT, 'dist/parse/address.js'));
const parser = new Parser(loadRules());

/** fail2ban filter → the service logwarden covers it with. Filters of services logwarden does not know are left out. */
const COVERED = {
  sshd: 'OpenSSH', 'sshd-journal': 'OpenSSH', 'zzz-sshd-obsolete-multiline': 'OpenSSH', dropbear: 'Dropbear',
  dovecot: 'Dovecot', postfix: 'Postfix', exim: 'Exim', 'sendmail-auth': 'Sendmail', 'sendmail-reject': 'Sendmail',
  'courier-auth': 'Courier', 'courier-smtp': 'Courier', 'cyrus-imap': 'Cyrus', 'uwimap-auth': 'UW IMAP',
  proftpd: 'ProFTPD', 'pure-ftpd': 'Pure-FTPd', vsftpd: 'vsftpd', 'named-refused': 'BIND', 'mssql-auth': 'MSSQL',
  'mysqld-auth': 'MySQL', 'pam-generic': 'PAM', 'roundcube-auth': 'Roundcube', 'apache-auth': 'web 401',
  'nginx-http-auth': 'web 401', 'lighttpd-auth': 'web 401', 'gitea': 'Gitea', 'openvpn': 'OpenVPN', 'bsd': 'FreeBSD',
};

const logsDir = join(fail2banPythonPath(), 'fail2ban/tests/files/logs');

function canonical(host) {
  const a = parseAddress(host);
  if (a === null) return host.toLowerCase();
  return 'addr' in a ? a.addr : a.hostname.toLowerCase();
}

/** [{ line, match, host }] for the annotated lines of one log. */
function annotated(text) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^#\s*failJSON:\s*(\{.*\})\s*$/.exec(lines[i]);
    if (!m) continue;
    let spec;
    try {
      spec = JSON.parse(m[1]);
    } catch {
      continue;
    }
    let j = i + 1;
    while (j < lines.length && lines[j].startsWith('#')) j++;
    if (j >= lines.length || lines[j] === '') continue;
    out.push({ line: lines[j], match: spec.match === true, host: spec.host ? canonical(String(spec.host)) : null });
  }
  return out;
}

function sshguardHosts(lines) {
  const r = spawnSync(SSHG_PARSER, ['-a'], { input: lines.map((l) => l.line).join('\n') + '\n', encoding: 'utf8' });
  // -a marks attack lines with "* "; the address is printed on the following output line
  const marked = [];
  const out = r.stdout.split('\n');
  for (let i = 0; i < out.length; i++) {
    if (out[i].startsWith('* ')) marked.push(out[i].slice(2));
  }
  const plain = spawnSync(SSHG_PARSER, [], { input: lines.map((l) => l.line).join('\n') + '\n', encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  const byLine = new Map();
  for (let k = 0; k < marked.length && k < plain.length; k++) byLine.set(marked[k], canonical(plain[k].split(' ')[1]));
  return lines.map((l) => byLine.get(l.line) ?? null);
}

const rows = [];
for (const name of readdirSync(logsDir).sort()) {
  const path = join(logsDir, name);
  if (!(name in COVERED) || statSync(path).isDirectory()) continue;
  const lines = annotated(readFileSync(path, 'utf8'));
  const sg = sshguardHosts(lines);
  const row = { filter: name, service: COVERED[name], failures: 0, found: 0, sshguard: 0, clean: 0, falseAlarms: 0, sshguardFalse: 0, misses: [] };
  lines.forEach((l, k) => {
    const e = parser.parse(l.line);
    const ours = e !== null && e.event === 'attack' ? e.addr.toLowerCase() : null;
    if (l.match) {
      row.failures++;
      if (ours !== null && (l.host === null || ours === l.host)) row.found++;
      else row.misses.push(l.line);
      if (sg[k] !== null && (l.host === null || sg[k] === l.host)) row.sshguard++;
    } else {
      row.clean++;
      if (ours !== null) row.falseAlarms++;
      if (sg[k] !== null) row.sshguardFalse++;
    }
  });
  rows.push(row);
}

if (opts.json) process.stdout.write(`${JSON.stringify(rows.map(({ misses, ...r }) => r), null, 1)}\n`);
else {
  const pct = (a, b) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(0)}%`);
  console.log('| fail2ban log | service | failures | logwarden | sshguard 2.4.2 | clean lines | false alarms (lw / sg) |');
  console.log('|---|---|---|---|---|---|---|');
  const t = { failures: 0, found: 0, sshguard: 0, clean: 0, falseAlarms: 0, sshguardFalse: 0 };
  for (const r of rows) {
    for (const k of Object.keys(t)) t[k] += r[k];
    console.log(`| ${r.filter} | ${r.service} | ${r.failures} | ${r.found} (${pct(r.found, r.failures)}) | ${r.sshguard} (${pct(r.sshguard, r.failures)}) | ${r.clean} | ${r.falseAlarms} / ${r.sshguardFalse} |`);
  }
  console.log(`| **all** | | ${t.failures} | ${t.found} (${pct(t.found, t.failures)}) | ${t.sshguard} (${pct(t.sshguard, t.failures)}) | ${t.clean} | ${t.falseAlarms} / ${t.sshguardFalse} |`);
}
if (opts.misses) for (const r of rows) if (r.filter === opts.misses || opts.misses === 'all') for (const m of r.misses) console.log(`MISS ${r.filter}: ${m}`);
