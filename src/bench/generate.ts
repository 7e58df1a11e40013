/**
 * A deterministic log for `bench` when the operator gives none: benign lines of many programs and, among them,
 * attack lines taken from the rules' own examples (so every rule's route is exercised), with addresses varied
 * in the documentation ranges. Like benchmarks/generate-log.mjs, but small and with no file of its own.
 */
import type { CompiledRule } from '../parse/rules.js';

const BENIGN = [
  'May  1 10:00:00 web CRON[2211]: (root) CMD (run-parts /etc/cron.hourly)',
  'May  1 10:00:00 web systemd[1]: Started Session 42 of User alice.',
  'May  1 10:00:00 web kernel: [12345.678901] EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro',
  'May  1 10:00:00 web sshd[811]: Accepted publickey for alice from 192.0.2.10 port 50122 ssh2: ED25519 SHA256:abc',
  'May  1 10:00:00 web sshd[811]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)',
  'May  1 10:00:00 web sshd[811]: Received disconnect from 192.0.2.10 port 50122:11: disconnected by user',
  'May  1 10:00:00 mx postfix/smtpd[3101]: connect from mail-out.example.net[192.0.2.60]',
  'May  1 10:00:00 mx postfix/qmgr[901]: 4Vb2k81Z4Rz9t: from=<a@example.net>, size=1234, nrcpt=1 (queue active)',
  'May  1 10:00:00 mx dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.61, lip=192.0.2.1, mpid=4242, TLS',
  'May  1 10:00:00 web nginx: 192.0.2.62 - - [01/May/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0"',
  'May  1 10:00:00 web systemd-logind[612]: New session 42 of user alice.',
  'May  1 10:00:00 web rsyslogd[501]: [origin software="rsyslogd"] rsyslogd was HUPed',
];

/** sfc32-like generator from a seed: the same lines for the same seed */
function random(seed: number): () => number {
  let a = seed >>> 0 || 1;
  return () => {
    a ^= a << 13;
    a ^= a >>> 17;
    a ^= a << 5;
    return (a >>> 0) / 4294967296;
  };
}

export interface GeneratedLog {
  lines: string[];
  attacks: number;
}

/** `count` lines, `attackShare` of them from the rules' examples. */
export function generateLog(rules: readonly CompiledRule[], count: number, attackShare = 0.3, seed = 1): GeneratedLog {
  const next = random(seed);
  const examples = rules.flatMap((r) => r.examples.match.filter((m) => m.addr !== undefined).map((m) => ({ line: m.line, addr: m.addr! })));
  const lines: string[] = [];
  let attacks = 0;
  for (let i = 0; i < count; i++) {
    if (examples.length > 0 && next() < attackShare) {
      const example = examples[Math.floor(next() * examples.length)];
      const addr = `203.0.113.${1 + Math.floor(next() * 254)}`;
      // an IPv4 example gets another attacker; the others stay as they are
      lines.push(/^\d+\.\d+\.\d+\.\d+$/.test(example.addr) ? example.line.split(example.addr).join(addr) : example.line);
      attacks++;
    } else {
      lines.push(BENIGN[Math.floor(next() * BENIGN.length)]);
    }
  }
  return { lines, attacks };
}
