#!/usr/bin/env node
// Deterministic generator of a realistic mixed syslog file for benchmarks.
//
//   node benchmarks/generate-log.mjs [--lines N] [--seed S] [--out FILE] [--attack-share 0.30] [--ipv6-share 0.15]
//
// About 70% benign lines from many programs and about 30% attack lines of many kinds, from a pool of a few
// thousand attacker addresses in the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
// 2001:db8::/32). Banners: mostly BSD syslog, some ISO 8601, some RFC 5424. Timestamps increase through the file.
// The same --lines/--seed always give the same bytes. A summary (counts per kind) is written next to the
// output as FILE.meta.json and printed on stderr.
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opts = {
    lines: 1_000_000,
    seed: 'logwarden',
    out: null,
    attackShare: 0.3,
    ipv6Share: 0.15,
    quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--lines' || a === '-n') opts.lines = Number(next().replaceAll('_', ''));
    else if (a === '--seed') opts.seed = next();
    else if (a === '--out' || a === '-o') opts.out = next();
    else if (a === '--attack-share') opts.attackShare = Number(next());
    else if (a === '--ipv6-share') opts.ipv6Share = Number(next());
    else if (a === '--quiet' || a === '-q') opts.quiet = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: generate-log.mjs [--lines N] [--seed S] [--out FILE] [--attack-share F] [--ipv6-share F] [--quiet]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.lines) || opts.lines < 1) throw new Error('--lines must be a positive integer');
  if (opts.out === null) {
    opts.out = opts.lines === 1_000_000
      ? resolve(HERE, 'data/mixed-1m.log')
      : resolve(HERE, `data/mixed-${shortCount(opts.lines)}.log`);
  }
  return opts;
}

export function shortCount(n) {
  if (n % 1_000_000 === 0) return `${n / 1_000_000}m`;
  if (n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

// ---------------------------------------------------------------- PRNG (seeded, deterministic)

function hashSeed(text) {
  // FNV-1a 32-bit
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function makeRng(seed) {
  // sfc32 seeded from the string
  let a = hashSeed(`a${seed}`), b = hashSeed(`b${seed}`), c = hashSeed(`c${seed}`), d = 1;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  return next;
}

// ---------------------------------------------------------------- generator

export function createGenerator({ seed = 'logwarden', attackShare = 0.3, ipv6Share = 0.15 } = {}) {
  const rnd = makeRng(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
  const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
  const chance = (p) => rnd() < p;
  const hex = (n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rnd() * 16)];
    return s;
  };
  const HEXU = '0123456789ABCDEF';
  const hexU = (n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += HEXU[Math.floor(rnd() * 16)];
    return s;
  };
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const b64 = (n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += B64[Math.floor(rnd() * 64)];
    return s;
  };
  const weighted = (table) => {
    // table: [[weight, value], ...] → picker
    const total = table.reduce((s, [w]) => s + w, 0);
    const cum = [];
    let acc = 0;
    for (const [w, v] of table) {
      acc += w / total;
      cum.push([acc, v]);
    }
    return () => {
      const r = rnd();
      for (const [c, v] of cum) if (r < c) return v;
      return cum[cum.length - 1][1];
    };
  };

  // ----- addresses
  // 192.0.2.1-31 is "our" network (servers, admins, good clients); attackers use the rest of the ranges
  const v4Pool = [];
  for (const net of ['192.0.2', '198.51.100', '203.0.113']) {
    for (let i = 1; i <= 254; i++) {
      if (net === '192.0.2' && i < 32) continue;
      v4Pool.push(`${net}.${i}`);
    }
  }
  const v6Pool = [];
  const v6Seen = new Set();
  while (v6Pool.length < 2600) {
    const r = rnd();
    let a;
    if (r < 0.5) a = `2001:db8:${hex(int(1, 4)).replace(/^0+(?=.)/, '')}:${hex(int(1, 4)).replace(/^0+(?=.)/, '')}::${hex(int(1, 4)).replace(/^0+(?=.)/, '')}`;
    else if (r < 0.8) a = `2001:db8::${hex(int(1, 4)).replace(/^0+(?=.)/, '')}`;
    else a = `2001:db8:${int(1, 0xffff).toString(16)}:${int(0, 0xffff).toString(16)}:${int(1, 0xffff).toString(16)}:${int(0, 0xffff).toString(16)}:${int(0, 0xffff).toString(16)}:${int(1, 0xffff).toString(16)}`;
    if (!v6Seen.has(a)) {
      v6Seen.add(a);
      v6Pool.push(a);
    }
  }
  // shuffle so that the heavy hitters (low indices) are spread across the ranges
  for (const pool of [v4Pool, v6Pool]) {
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
  }
  /** An attacker address: a few heavy hitters, a long tail. Returns [addr, kind]. */
  const attacker = () => {
    const r = rnd();
    const skew = r * r * r; // cubic: low indices much more frequent
    if (chance(ipv6Share)) return [v6Pool[Math.floor(skew * v6Pool.length)], 6];
    return [v4Pool[Math.floor(skew * v4Pool.length)], 4];
  };
  const goodClients = ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.20', '192.0.2.21', '2001:db8:1::10', '2001:db8:1::11'];
  const peerMtas = [
    ['mail-ed1-f41.example.com', '198.51.100.41'], ['mx.example.net', '198.51.100.42'], ['smtp.example.org', '203.0.113.43'],
    ['out.example.com', '2001:db8:25::1'], ['relay.example.net', '198.51.100.44'], ['unknown', '203.0.113.45'],
  ];
  const SERVER4 = '192.0.2.1';

  // ----- names
  const adminUsers = ['alice', 'bob', 'carol', 'deploy', 'backup', 'git'];
  const attackUsers = [
    'root', 'admin', 'test', 'user', 'oracle', 'postgres', 'ubuntu', 'pi', 'guest', 'ftpuser', 'support', 'mysql',
    'git', 'jenkins', 'hadoop', 'nagios', 'www-data', 'tomcat', 'minecraft', 'steam', 'ec2-user', 'centos', 'debian',
    'administrator', 'user1', 'test123', 'ts3', 'teamspeak', 'odoo', 'elastic', 'es', 'zabbix', 'ansible', 'vagrant',
    'dev', 'developer', 'sysadmin', 'webmaster', 'info', 'sales', 'office', 'a', 'sa', 'server', 'demo', '123456',
  ];
  const mailUsers = ['info', 'admin', 'sales', 'contact', 'office', 'support', 'test', 'webmaster', 'postmaster', 'alice@example.org', 'bob@example.org'];
  const hosts = weighted([[55, 'web1'], [27, 'mx1'], [12, 'gw'], [6, 'db1']]);
  const uaGood = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0',
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) Mobile/15E148',
    'curl/8.5.0', 'Wget/1.21.3',
  ];
  const uaBad = ['Mozilla/5.0 (compatible; zgrab/0.x)', 'python-requests/2.31.0', 'Go-http-client/1.1', 'Mozilla/5.0', '-'];
  const goodPaths = ['/', '/index.html', '/about/', '/blog/2026/04/release-notes/', '/static/css/site.css', '/static/js/app.js', '/favicon.ico', '/feed.xml', '/robots.txt', '/images/logo.png'];
  const probePaths = [
    '/wp-login.php', '/wp-admin/', '/wordpress/wp-admin/setup-config.php', '/phpMyAdmin/', '/phpmyadmin/index.php',
    '/pma/', '/myadmin/scripts/setup.php', '/cgi-bin/test.cgi', '/webmail/', '/roundcube/', '/horde/',
    '/index.php?option=com_users&view=login', '/xmlrpc.php',
  ];

  // ----- time: one clock, "local" zone is +02:00; BSD prints the local wall clock
  const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const ZONE_MS = 2 * 3600 * 1000;
  let now = Date.UTC(2026, 4, 1, 0, 0, 0) - ZONE_MS; // 2026-05-01 00:00:00 local
  let cachedSec = -1, bsdText = '', isoPrefix = '';
  const p2 = (n) => (n < 10 ? `0${n}` : String(n));
  const advance = () => {
    // ~4 lines per second on average (exponential gaps), so 1M lines span about 3 days
    now += Math.floor(-Math.log(1 - rnd()) * 250);
  };
  const stamps = () => {
    const sec = Math.floor(now / 1000);
    if (sec !== cachedSec) {
      cachedSec = sec;
      const d = new Date(sec * 1000 + ZONE_MS);
      const day = d.getUTCDate();
      const clock = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
      bsdText = `${MON[d.getUTCMonth()]} ${day < 10 ? ` ${day}` : day} ${clock}`;
      isoPrefix = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(day)}T${clock}`;
    }
  };
  const usec = () => String((now % 1000) * 1000 + int(0, 999)).padStart(6, '0');

  // A central syslog of four hosts; each host's relay writes one banner style
  const HOST_STYLE = { web1: 'bsd', mx1: 'bsd', gw: 'iso', db1: 'rfc5424' };
  let curHost = 'web1';
  const FAC_PRI = { auth: 38, authpriv: 86, mail: 22, daemon: 30, kern: 6, cron: 78, user: 14, local7: 190 };
  /** A line to be rendered when it is emitted (so that time moves on within a session). */
  const line = (tag, pid, msg, fac = 'daemon') => [tag, pid, msg, fac, curHost];
  const render = ([tag, pid, msg, fac, host]) => {
    stamps();
    const style = HOST_STYLE[host];
    if (style === 'bsd') return `${bsdText} ${host} ${tag}${pid === null ? '' : `[${pid}]`}: ${msg}`;
    if (style === 'iso') return `${isoPrefix}.${usec()}+02:00 ${host} ${tag}${pid === null ? '' : `[${pid}]`}: ${msg}`;
    return `<${FAC_PRI[fac] ?? 30}>1 ${isoPrefix}.${usec()}+02:00 ${host} ${tag} ${pid === null ? '-' : pid} - - ${msg}`;
  };

  let pidCounter = 3000;
  const newPid = () => {
    pidCounter += int(1, 40);
    if (pidCounter > 4_000_000) pidCounter = 3000;
    return pidCounter;
  };
  const port = () => int(1024, 65535);
  const sha = () => `SHA256:${b64(43)}`;
  const keyType = weighted([[4, 'RSA'], [3, 'ED25519'], [1, 'ECDSA']]);
  const queueId = () => hexU(int(10, 12));
  let sessionNo = 100;
  const sshTag = weighted([[97, 'sshd'], [3, 'sshd-session']]);

  // Each scenario returns an array of [kind|null, text]; kind names an attack signature, null = benign
  const B = (text) => [null, text];
  const A = (kind, text) => [kind, text];

  // ------------------------------------------------------------ benign scenarios
  const benign = weighted([
    // kernel
    [2, () => {
      const [src] = attacker();
      return [B(line('kernel', null, `[${int(1000, 999999)}.${String(int(0, 999999)).padStart(6, '0')}] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:${hex(2)}:${hex(2)}:${hex(2)}:52:54:00:12:34:56:08:00 SRC=${src.includes(':') ? '203.0.113.9' : src} DST=${SERVER4} LEN=${int(40, 60)} TOS=0x00 PREC=0x00 TTL=${int(30, 250)} ID=${int(1, 65535)} PROTO=TCP SPT=${port()} DPT=${pick([23, 445, 3389, 8080, 5900, 6379])} WINDOW=1024 RES=0x00 SYN URGP=0`, 'kern'))];
    }],
    [1, () => [B(line('kernel', null, pick([
      `[${int(1, 99999)}.${String(int(0, 999999)).padStart(6, '0')}] EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro. Quota mode: none.`,
      `[${int(1, 99999)}.${String(int(0, 999999)).padStart(6, '0')}] TCP: request_sock_TCP: Possible SYN flooding on port 25. Sending cookies.  Check SNMP counters.`,
      `[${int(1, 99999)}.${String(int(0, 999999)).padStart(6, '0')}] audit: type=1400 audit(${int(1700000000, 1800000000)}.${int(100, 999)}:${int(10, 999)}): apparmor="DENIED" operation="open" profile="/usr/sbin/ntpd" name="/proc/${int(2, 99999)}/status" pid=${int(300, 9999)} comm="ntpd"`,
    ]), 'kern'))]],
    // cron
    [8, () => {
      const pid = newPid();
      const user = pick(['root', 'root', 'www-data', 'backup']);
      return [
        B(line('CRON', pid, `pam_unix(cron:session): session opened for user ${user}(uid=${user === 'root' ? 0 : int(33, 1000)}) by (uid=0)`, 'cron')),
        B(line('CRON', pid, `(${user}) CMD (${pick(['   cd / && run-parts --report /etc/cron.hourly', 'command -v debian-sa1 > /dev/null && debian-sa1 1 1', '/usr/local/bin/backup.sh --incremental >/dev/null 2>&1', 'php /var/www/nextcloud/cron.php'])})`, 'cron')),
        B(line('CRON', pid, `pam_unix(cron:session): session closed for user ${user}`, 'cron')),
      ];
    }],
    // systemd
    [7, () => [B(line('systemd', 1, pick([
      `Started session-${int(1, 9999)}.scope - Session ${int(1, 9999)} of User ${pick(adminUsers)}.`,
      'Starting apt-daily.service - Daily apt download activities...',
      'apt-daily.service: Deactivated successfully.',
      'Finished logrotate.service - Rotate log files.',
      `Started anacron.service - Run anacron jobs.`,
      `user@${int(1000, 1010)}.service: Consumed ${int(1, 900)}ms CPU time.`,
      'Starting systemd-tmpfiles-clean.service - Cleanup of Temporary Directories...',
      `phpsessionclean.service: Deactivated successfully.`,
      `certbot.service: Consumed ${int(100, 900)}ms CPU time, ${int(20, 80)}.${int(0, 9)}M memory peak.`,
    ])))]],
    // systemd-logind (with an admin's ssh session: login lines)
    [6, () => {
      const pid = newPid();
      const user = pick(adminUsers);
      const client = pick(goodClients);
      const p = port();
      const s = ++sessionNo;
      const tag = sshTag();
      const key = keyType();
      return [
        B(line(tag, pid, `Accepted publickey for ${user} from ${client} port ${p} ssh2: ${key} ${sha()}`, 'auth')),
        B(line(tag, pid, `pam_unix(sshd:session): session opened for user ${user}(uid=${int(1000, 1010)}) by (uid=0)`, 'authpriv')),
        B(line('systemd-logind', int(400, 900), `New session ${s} of user ${user}.`, 'authpriv')),
        B(line(tag, pid, `Received disconnect from ${client} port ${p}:11: disconnected by user`, 'auth')),
        B(line(tag, pid, `Disconnected from user ${user} ${client} port ${p}`, 'auth')),
        B(line(tag, pid, `pam_unix(sshd:session): session closed for user ${user}`, 'authpriv')),
        B(line('systemd-logind', int(400, 900), `Session ${s} logged out. Waiting for processes to exit.`, 'authpriv')),
        B(line('systemd-logind', int(400, 900), `Removed session ${s}.`, 'authpriv')),
      ];
    }],
    // sshd misc
    [2, () => {
      const [a] = attacker();
      return [B(line(sshTag(), newPid(), pick([
        `Received disconnect from ${a} port ${port()}:11: Bye Bye [preauth]`,
        `Received disconnect from ${a} port ${port()}:11: Normal Shutdown, Thank you for playing [preauth]`,
        'Server listening on 0.0.0.0 port 22.',
        `pam_unix(sshd:auth): check pass; user unknown`,
        `reverse mapping checking getaddrinfo for host-${int(1, 254)}.example.net [${a}] failed - POSSIBLE BREAK-IN ATTEMPT!`,
      ]), 'auth'))];
    }],
    // postfix smtpd session with a legitimate peer
    [10, () => {
      const pid = newPid();
      const [name, addr] = pick(peerMtas);
      const q = queueId();
      const to = pick(['alice', 'bob', 'carol', 'info', 'sales']);
      return [
        B(line('postfix/smtpd', pid, `connect from ${name}[${addr}]`, 'mail')),
        B(line('postfix/smtpd', pid, `${q}: client=${name}[${addr}]`, 'mail')),
        B(line('postfix/cleanup', newPid(), `${q}: message-id=<${hex(16)}@${name === 'unknown' ? 'example.com' : name}>`, 'mail')),
        B(line('postfix/qmgr', 1234, `${q}: from=<${pick(['news', 'noreply', 'billing', 'team'])}@example.${pick(['com', 'net', 'org'])}>, size=${int(1200, 90000)}, nrcpt=1 (queue active)`, 'mail')),
        B(line('postfix/smtpd', pid, `disconnect from ${name}[${addr}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5`, 'mail')),
        B(line('postfix/local', newPid(), `${q}: to=<${to}@example.org>, relay=local, delay=0.${int(1, 9)}, dsn=2.0.0, status=sent (delivered to mailbox)`, 'mail')),
        B(line('postfix/qmgr', 1234, `${q}: removed`, 'mail')),
      ];
    }],
    // dovecot login / logout
    [6, () => {
      const user = pick(adminUsers);
      const client = pick(goodClients);
      const sess = b64(16);
      const proto = pick(['imap', 'imap', 'pop3']);
      const mpid = newPid();
      return [
        B(line('dovecot', null, `${proto}-login: Login: user=<${user}>, method=PLAIN, rip=${client}, lip=${SERVER4}, mpid=${mpid}, TLS`, 'mail')),
        B(line('dovecot', null, `${proto}(${user})<${mpid}><${sess}>: Logged out in=${int(10, 9999)} out=${int(100, 99999)}`, 'mail')),
      ];
    }],
    // nginx access 200/301
    [10, () => {
      stamps();
      const client = chance(0.5) ? pick(goodClients) : attacker()[0];
      const status = chance(0.85) ? 200 : 301;
      return [B(line('nginx', null, `${client} - - [${clfTime()}] "GET ${pick(goodPaths)} HTTP/${pick(['1.1', '2.0'])}" ${status} ${status === 200 ? int(150, 60000) : 162} "${pick(['-', '-', 'https://example.org/'])}" "${pick(uaGood)}"`, 'local7'))];
    }],
    // sudo
    [3, () => {
      const user = pick(adminUsers);
      const pid = newPid();
      return [
        B(line('sudo', null, `${user.padStart(8)} : TTY=pts/${int(0, 4)} ; PWD=/home/${user} ; USER=root ; COMMAND=${pick(['/usr/bin/apt update', '/usr/bin/systemctl restart nginx', '/usr/bin/journalctl -fu sshd', '/usr/bin/tail -f /var/log/auth.log'])}`, 'authpriv')),
        B(line('sudo', pid, `pam_unix(sudo:session): session opened for user root(uid=0) by ${user}(uid=${int(1000, 1010)})`, 'authpriv')),
        B(line('sudo', pid, 'pam_unix(sudo:session): session closed for user root', 'authpriv')),
      ];
    }],
    // rsyslogd, dhclient, ntpd, chronyd, named, postgres, an unknown app
    [1, () => [B(line('rsyslogd', null, `[origin software="rsyslogd" swVersion="8.2302.0" x-pid="${int(300, 900)}" x-info="https://www.rsyslog.com"] rsyslogd was HUPed`))]],
    [2, () => {
      const pid = newPid();
      return [
        B(line('dhclient', pid, `DHCPREQUEST for ${SERVER4} on eth0 to 192.0.2.254 port 67`)),
        B(line('dhclient', pid, `DHCPACK of ${SERVER4} from 192.0.2.254`)),
        B(line('dhclient', pid, `bound to ${SERVER4} -- renewal in ${int(1000, 40000)} seconds.`)),
      ];
    }],
    [2, () => [B(line('ntpd', int(500, 900), pick([
      `Soliciting pool server 198.51.100.${int(100, 130)}`,
      `receive: Unexpected origin timestamp 0x${hex(8)}.${hex(8)} does not match aorg 0000000000.00000000 from server@198.51.100.${int(100, 130)} xmt 0x${hex(8)}.${hex(8)}`,
      'kernel reports TIME_ERROR: 0x41: Clock Unsynchronized',
      `Listen normally on ${int(3, 9)} eth0 [${SERVER4}]:123`,
    ])))]],
    [1, () => [B(line('chronyd', int(500, 900), `Selected source 198.51.100.${int(100, 130)} (${int(0, 3)}.debian.pool.ntp.org)`))]],
    [2, () => {
      const [a] = attacker();
      return [B(line('named', int(500, 900), `client @0x7f${hex(10)} ${a}#${port()} (${pick(['example.org', 'www.example.org', 'mx1.example.org'])}): query: ${pick(['example.org', 'www.example.org'])} IN ${pick(['A', 'AAAA', 'MX', 'TXT'])} +E(0) (${SERVER4})`))];
    }],
    [2, () => [B(line('postgres', int(1000, 2000), `[${int(1, 99)}-1] LOG:  checkpoint complete: wrote ${int(1, 2000)} buffers (${int(0, 9)}.${int(0, 9)}%); 0 WAL file(s) added, 0 removed, ${int(0, 3)} recycled; write=${int(0, 200)}.${int(100, 999)} s`, 'local7'))]],
    [2, () => [B(line('myapp', int(1000, 9000), pick([
      `worker ${int(1, 8)} processed ${int(1, 500)} jobs in ${int(1, 9)}.${int(0, 9)}s`,
      `GET /api/v1/items?page=${int(1, 40)} 200 ${int(1, 90)}ms user=${pick(adminUsers)}`,
      `cache hit ratio ${int(60, 99)}.${int(0, 9)}% (${int(1000, 90000)} keys)`,
    ]), 'user'))]],
    [1, () => [B(line('systemd-resolved', int(300, 900), `Clock change detected. Flushing caches.`))]],
    [1, () => [B(line('mysqld', int(700, 900), `${isoStampZ()} ${int(1, 9999)} [Note] [MY-010914] [Server] Aborted connection ${int(1, 9999)} to db: 'app' user: 'app' host: 'localhost' (Got an error reading communication packets).`))]],
  ]);

  const clfTime = () => {
    stamps();
    const d = new Date(cachedSec * 1000 + ZONE_MS);
    return `${p2(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0200`;
  };
  const isoStampZ = () => {
    const d = new Date(now);
    return `${d.toISOString().slice(0, 23)}${String(int(0, 999)).padStart(3, '0')}Z`;
  };

  // ------------------------------------------------------------ attack scenarios
  const sshAttack = weighted([
    // invalid user + failed password for invalid user + closed/disconnected
    [30, () => {
      const [a] = attacker();
      const pid = newPid();
      const p = port();
      const tag = sshTag();
      const user = pick(attackUsers);
      const out = [
        A('ssh-invalid-user', line(tag, pid, `Invalid user ${user} from ${a} port ${p}`, 'auth')),
        B(line(tag, pid, 'pam_unix(sshd:auth): check pass; user unknown', 'authpriv')),
        A('ssh-pam-unix-failure', line(tag, pid, `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${a}`, 'authpriv')),
        A('ssh-failed-password-invalid', line(tag, pid, `Failed password for invalid user ${user} from ${a} port ${p} ssh2`, 'auth')),
      ];
      if (chance(0.5)) out.push(B(line(tag, pid, `Received disconnect from ${a} port ${p}:11: Bye Bye [preauth]`, 'auth')));
      out.push(A('ssh-disconnected-preauth', line(tag, pid, `Disconnected from invalid user ${user} ${a} port ${p} [preauth]`, 'auth')));
      return out;
    }],
    // failed password for an existing user
    [20, () => {
      const [a] = attacker();
      const pid = newPid();
      const p = port();
      const tag = sshTag();
      const user = pick(['root', 'root', 'root', 'admin', 'ubuntu', 'git']);
      const out = [
        A('ssh-pam-unix-failure', line(tag, pid, `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${a}  user=${user}`, 'authpriv')),
        A('ssh-failed-password', line(tag, pid, `Failed password for ${user} from ${a} port ${p} ssh2`, 'auth')),
      ];
      if (chance(0.3)) {
        out.push(A('ssh-failed-password', line(tag, pid, `Failed password for ${user} from ${a} port ${p} ssh2`, 'auth')));
        out.push(A('ssh-max-auth', line(tag, pid, `error: maximum authentication attempts exceeded for ${user} from ${a} port ${p} ssh2 [preauth]`, 'auth')));
        out.push(B(line(tag, pid, `Disconnecting authenticating user ${user} ${a} port ${p}: Too many authentication failures [preauth]`, 'auth')));
      } else {
        out.push(A('ssh-connection-closed', line(tag, pid, `Connection closed by authenticating user ${user} ${a} port ${p} [preauth]`, 'auth')));
      }
      return out;
    }],
    [6, () => {
      const [a] = attacker();
      return [A('ssh-failed-publickey', line(sshTag(), newPid(), `Failed publickey for ${pick(['root', 'git', 'ubuntu', 'admin'])} from ${a} port ${port()} ssh2: ${keyType()} ${sha()}`, 'auth'))];
    }],
    [10, () => {
      const [a] = attacker();
      return [A('ssh-connection-closed', line(sshTag(), newPid(), `Connection ${pick(['closed', 'closed', 'reset'])} by ${a} port ${port()} [preauth]`, 'auth'))];
    }],
    [6, () => {
      const [a] = attacker();
      return [A('ssh-no-identification', line(sshTag(), newPid(), `Did not receive identification string from ${a} port ${port()}`, 'auth'))];
    }],
    [6, () => {
      const [a] = attacker();
      return [A('ssh-unable-negotiate', line(sshTag(), newPid(), `Unable to negotiate with ${a} port ${port()}: no matching ${pick([
        'key exchange method found. Their offer: diffie-hellman-group1-sha1,diffie-hellman-group14-sha1 [preauth]',
        'host key type found. Their offer: ssh-rsa,ssh-dss [preauth]',
        'cipher found. Their offer: aes128-cbc,3des-cbc [preauth]',
      ])}`, 'auth'))];
    }],
    [4, () => {
      const [a] = attacker();
      return [A('ssh-bad-protocol', line(sshTag(), newPid(), `Bad protocol version identification '${pick(['GET / HTTP/1.1', '\\026\\003\\001', 'SSH-1.5-NmapNSE_1.0', 'MGLNDD_192.0.2.1_22'])}' from ${a} port ${port()}`, 'auth'))];
    }],
    [3, () => {
      const [a] = attacker();
      return [A('ssh-banner-exchange', line(sshTag(), newPid(), `banner exchange: Connection from ${a} port ${port()}: invalid format`, 'auth'))];
    }],
    [3, () => {
      const [a] = attacker();
      return [A('ssh-pam-error', line(sshTag(), newPid(), `error: PAM: Authentication failure for ${chance(0.5) ? 'illegal user ' : ''}${pick(attackUsers)} from ${a}`, 'auth'))];
    }],
  ]);

  const otherAttack = weighted([
    // postfix SASL
    [16, () => {
      const [a] = attacker();
      const pid = newPid();
      return [
        B(line('postfix/smtpd', pid, `connect from unknown[${a}]`, 'mail')),
        A('postfix-sasl', line('postfix/smtpd', pid, `warning: unknown[${a}]: SASL ${pick(['LOGIN', 'PLAIN'])} authentication failed: ${pick(['UGFzc3dvcmQ6', 'authentication failure', ''])}`.trimEnd(), 'mail')),
        A('postfix-lost-auth', line('postfix/smtpd', pid, `lost connection after AUTH from unknown[${a}]`, 'mail')),
        B(line('postfix/smtpd', pid, `disconnect from unknown[${a}] ehlo=1 auth=0/1 commands=1/2`, 'mail')),
      ];
    }],
    [3, () => {
      const [a] = attacker();
      return [A('postfix-non-smtp', line('postfix/smtpd', newPid(), `warning: non-SMTP command from unknown[${a}]: GET / HTTP/1.1`, 'mail'))];
    }],
    // dovecot
    [10, () => {
      const [a] = attacker();
      const proto = pick(['imap', 'pop3', 'submission']);
      const n = int(1, 3);
      return [A('dovecot-auth-failed', line('dovecot', null, `${proto}-login: ${pick(['Disconnected', 'Aborted login'])} (auth failed, ${n} attempts in ${int(2, 20)} secs): user=<${pick(mailUsers)}>, method=PLAIN, rip=${a}, lip=${SERVER4}, TLS, session=<${b64(16)}>`, 'mail'))];
    }],
    // ftp
    [4, () => {
      const [a, kind] = attacker();
      const shown = kind === 4 && chance(0.5) ? `::ffff:${a}` : a;
      return [A('vsftpd-fail', line('vsftpd', newPid(), `[${pick(attackUsers)}] FAIL LOGIN: Client "${shown}"`))];
    }],
    [3, () => {
      const [a] = attacker();
      const pid = newPid();
      const user = pick(attackUsers);
      return chance(0.5)
        ? [A('proftpd-login-failed', line('proftpd', pid, `ftp.example.org (${a}[${a}]) - USER ${user} (Login failed): Incorrect password`))]
        : [A('proftpd-no-such-user', line('proftpd', pid, `ftp.example.org (${a}[${a}]) - USER ${user}: no such user found from ${a} [${a}] to ${SERVER4}:21`))];
    }],
    // web probes
    [10, () => {
      const [a] = attacker();
      return [A('web-probe', line('nginx', null, `${a} - - [${clfTime()}] "${pick(['GET', 'GET', 'POST'])} ${pick(probePaths)} HTTP/1.1" 404 ${int(150, 600)} "-" "${pick(uaBad)}"`, 'local7'))];
    }],
    // mysql
    [4, () => {
      const [a] = attacker();
      return [A('mysql-access-denied', line('mysqld', int(700, 900), `${isoStampZ()} ${int(1, 99999)} [Note] [MY-010926] [Server] Access denied for user '${pick(['root', 'admin', 'mysql', 'test'])}'@'${a}' (using password: YES)`))];
    }],
    // cockpit
    [1, () => {
      const [a] = attacker();
      return [A('cockpit-pam', line('cockpit-session', newPid(), `pam_unix(cockpit:auth): authentication failure; logname= uid=0 euid=0 tty= ruser= rhost=${a}  user=root`, 'authpriv'))];
    }],
  ]);

  const attack = () => (chance(0.7) ? sshAttack()() : otherAttack()());

  // ------------------------------------------------------------ driver
  const counts = { lines: 0, bytes: 0, attackLines: 0, ipv6AttackLines: 0, byKind: {}, byBanner: {} };
  const queue = [];
  let qi = 0;
  /** Next line: keeps the attack share close to the target */
  const next = () => {
    if (qi >= queue.length) {
      queue.length = 0;
      qi = 0;
      const wantAttack = counts.attackLines < attackShare * (counts.lines + 1);
      curHost = hosts();
      for (const item of wantAttack ? attack() : benign()()) {
        queue.push(item);
      }
    }
    advance();
    const [kind, spec] = queue[qi++];
    const text = render(spec);
    counts.lines++;
    counts.bytes += Buffer.byteLength(text) + 1;
    counts.byBanner[HOST_STYLE[spec[4]]] = (counts.byBanner[HOST_STYLE[spec[4]]] ?? 0) + 1;
    if (kind !== null) {
      counts.attackLines++;
      counts.byKind[kind] = (counts.byKind[kind] ?? 0) + 1;
      // attackers' IPv6 addresses are all in 2001:db8::/32; the good clients' never appear on attack lines
      if (spec[2].includes('2001:db8')) counts.ipv6AttackLines++;
    }
    return text;
  };
  return { next, counts };
}

// Scenario lines are produced with the timestamp of the moment they are generated; `advance()` moves time
// forward between lines so timestamps increase (never decrease) through the file.

function main() {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(dirname(resolve(opts.out)), { recursive: true });
  const tmp = `${opts.out}.tmp`;
  const fd = openSync(tmp, 'w');
  const gen = createGenerator(opts);
  const started = process.hrtime.bigint();
  let batch = [];
  for (let i = 0; i < opts.lines; i++) {
    batch.push(gen.next());
    if (batch.length === 20000) {
      writeSync(fd, `${batch.join('\n')}\n`);
      batch = [];
    }
  }
  if (batch.length > 0) writeSync(fd, `${batch.join('\n')}\n`);
  closeSync(fd);
  // rename last, so that an interrupted run never leaves a complete-looking file
  renameSync(tmp, opts.out);
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const c = gen.counts;
  const meta = {
    file: opts.out,
    seed: opts.seed,
    lines: c.lines,
    bytes: c.bytes,
    avgLineBytes: +(c.bytes / c.lines).toFixed(1),
    attackLines: c.attackLines,
    attackShare: +(c.attackLines / c.lines).toFixed(4),
    ipv6AttackLines: c.ipv6AttackLines,
    ipv6ShareOfAttacks: +(c.ipv6AttackLines / c.attackLines).toFixed(4),
    linesByBanner: c.byBanner,
    attackLinesByKind: Object.fromEntries(Object.entries(c.byKind).sort((a, b) => b[1] - a[1])),
  };
  writeFileSync(`${opts.out}.meta.json`, `${JSON.stringify(meta, null, 2)}\n`);
  if (!opts.quiet) {
    process.stderr.write(
      `wrote ${opts.out}: ${c.lines} lines, ${(c.bytes / 1e6).toFixed(1)} MB (avg ${meta.avgLineBytes} B/line), ` +
        `${c.attackLines} attack lines (${(meta.attackShare * 100).toFixed(1)}%, ${(meta.ipv6ShareOfAttacks * 100).toFixed(1)}% IPv6) in ${secs.toFixed(1)} s\n`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`generate-log: ${error.message}\n`);
    process.exit(2);
  }
}
