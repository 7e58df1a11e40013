#!/usr/bin/env node
// Builds the differential-test corpus from the rules themselves (rules/*.json), so every rule, including
// rules added later, is covered: each positive example's message is re-addressed (IPv4, IPv6 in several
// spellings, IPv4-mapped IPv6) and wrapped in several log banners; every negative example is added once,
// then a few hand-written sequences (sshguard's state leak, a hostname in the address slot).
//
// Needs the compiled parser (`npx tsc -p .`). Deterministic: same rules, same output.
// Writes test/parity/corpus.log (the log) and test/parity/corpus.meta.json (one record per corpus line:
// where it comes from, which banner and which address spelling) for the comparison's matchers.
//
// Usage: node test/parity/make-corpus.mjs [--rules-dir DIR]
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = join(root, 'dist', 'parse');

let rulesModule;
let parserModule;
try {
  rulesModule = await import(join(dist, 'rules.js'));
  parserModule = await import(join(dist, 'parser.js'));
} catch (error) {
  console.error(`make-corpus: cannot load the compiled parser from ${dist} (run \`npx tsc -p .\` first): ${error.message}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const rulesDir = args[0] === '--rules-dir' ? args[1] : undefined;
const rules = rulesModule.loadRules(rulesDir);
const parser = new parserModule.Parser(rules);

// ---- address variants -------------------------------------------------------------------------------

const V4_NETS = ['192.0.2', '198.51.100', '203.0.113'];
let v4Counter = 0;
function nextV4() {
  const n = v4Counter++;
  return `${V4_NETS[Math.floor(n / 254) % 3]}.${(n % 254) + 1}`;
}

let v6Counter = 0;
/** IPv6 spellings: canonicalisation is part of parity. Each returns [variant name, text]. */
const V6_FORMS = [
  (h) => ['ipv6', `2001:db8::${h}`],
  (h) => ['ipv6-upper', `2001:DB8::${h.toUpperCase()}`],
  (h) => ['ipv6-zeros-written', `2001:db8:0:0:0:0:0:${h}`],
  (h) => ['ipv6-leading-zeros', `2001:0db8:0000:0000:0000:0000:0000:${h.padStart(4, '0')}`],
  (h) => ['ipv6-two-zero-runs', `2001:db8:0:0:1:0:0:${h}`],
];
function nextV6(form) {
  const h = (0x100 + v6Counter++).toString(16);
  return V6_FORMS[form % V6_FORMS.length](h);
}

let mappedCounter = 0;
function nextMapped() {
  return `::ffff:192.0.2.${(mappedCounter++ % 254) + 1}`;
}

// ---- banners ----------------------------------------------------------------------------------------

const HOST = 'web';
let clock = 0;
function nextClock() {
  const s = clock++;
  const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `10:${mm}:${ss}`;
}
const tagPid = (tag, pid) => (pid === null ? `${tag}:` : `${tag}[${pid}]:`);

/** Banner kinds: name → (tag, pid, msg) → line. */
const BANNERS = [
  ['bsd', (tag, pid, msg) => `May  1 ${nextClock()} ${HOST} ${tagPid(tag, pid)} ${msg}`],
  ['iso8601', (tag, pid, msg) => `2026-05-01T${nextClock()}.123456+02:00 ${HOST} ${tagPid(tag, pid)} ${msg}`],
  ['rfc5424', (tag, pid, msg) => `<38>1 2026-05-01T${nextClock()}.123Z ${HOST} ${tag} ${pid ?? '-'} - - ${msg}`],
  ['bare', (_tag, _pid, msg) => msg],
  ['bsd-fractional', (tag, pid, msg) => `May  1 ${nextClock()}.123456 ${HOST} ${tagPid(tag, pid)} ${msg}`],
  // OpenSSH >= 9.8 logs the per-connection messages under this tag (only for rules that sshd-session routes to)
  ['sshd-session', (_tag, pid, msg) => `May  1 ${nextClock()} ${HOST} ${tagPid('sshd-session', pid)} ${msg}`],
  ['repeated', (tag, pid, msg) => `May  1 ${nextClock()} ${HOST} ${tagPid(tag, pid)} message repeated 2 times: [ ${msg}]`],
];
/** More banners from sshguard's list, with the IPv4 variant only (address forms are covered above). */
const MORE_BANNERS = [
  ['bsd-pri', (tag, pid, msg) => `<38>May  1 ${nextClock()} ${HOST} ${tagPid(tag, pid)} ${msg}`],
  ['rfc5424-sd', (tag, pid, msg) => `<38>1 2026-05-01T${nextClock()}.123Z ${HOST} ${tag} ${pid ?? '-'} ID47 [origin ip="192.0.2.250"] ${msg}`],
  ['solaris-id', (tag, pid, msg) => `May  1 ${nextClock()} ${HOST} ${tagPid(tag, pid)} [ID 800047 auth.info] ${msg}`],
  ['metalog', (tag, _pid, msg) => `May  1 ${nextClock()} [${tag}] ${msg}`],
  ['socklog', (tag, pid, msg) => `2026-05-01_${nextClock()}.12345 auth.info: ${tagPid(tag, pid)} ${msg}`],
  ['tai64n', (tag, pid, msg) => `@4000000069f47b10${String(clock++).padStart(8, '0')} ${tagPid(tag, pid)} ${msg}`],
];

// ---- corpus -----------------------------------------------------------------------------------------

const lines = [];
const meta = [];
function add(line, record) {
  lines.push(line);
  meta.push({ line: lines.length, ...record });
}

/** Span of the address in `msg` as the rule captures it, or null. */
function addressSpan(rule, msg) {
  const re = new RegExp(rule.regex.source, rule.regex.flags.replace('d', '') + 'd');
  const m = re.exec(msg);
  return m?.indices?.groups?.addr ?? null;
}

function defaultTag(rule) {
  const program = rule.programs.find((p) => !p.includes('(')) ?? rule.programs[0];
  return program.endsWith('/*') ? `${program.slice(0, -2)}/daemon` : program;
}

let templateIndex = 0;
for (const rule of rules) {
  const seen = new Set();
  for (const example of rule.examples.match) {
    const event = parser.parse(example.line);
    if (event === null || event.rule !== rule.id) {
      console.error(`make-corpus: ${rule.id}: example not matched by its own rule, skipped: ${example.line}`);
      continue;
    }
    add(example.line, { source: 'example', rule: rule.id, banner: 'original', variant: 'original' });

    const msg = event.banner.msg;
    const span = addressSpan(rule, msg);
    if (span === null) continue;
    const [start, end] = span;
    const before = msg.slice(0, start);
    const after = msg.slice(end);
    const template = `${before}\u0000${after}`;
    if (seen.has(template)) continue;
    seen.add(template);
    const tag = event.banner.tag ?? defaultTag(rule);
    const pid = event.banner.tag === null ? '4242' : event.banner.pid;

    // `A:PORT` (no brackets) would make an IPv6 address ambiguous: daemons that write it are IPv4-only or
    // bracket IPv6 themselves, so such messages get IPv4 variants only.
    const colonPort = /^:\d/.test(after) && !before.endsWith('[');
    const t = templateIndex++;
    BANNERS.forEach(([bannerName, wrap], b) => {
      if (bannerName === 'sshd-session' && !rule.programs.includes('sshd-session')) return;
      const variants = [['ipv4', nextV4()]];
      if (!colonPort) variants.push(nextV6(t + b), ['ipv4-mapped', nextMapped()]);
      for (const [variant, addr] of variants) {
        add(wrap(tag, pid, `${before}${addr}${after}`), { source: 'variant', rule: rule.id, banner: bannerName, variant, addr });
      }
    });
    for (const [bannerName, wrap] of MORE_BANNERS) {
      const addr = nextV4();
      add(wrap(tag, pid, `${before}${addr}${after}`), { source: 'variant', rule: rule.id, banner: bannerName, variant: 'ipv4', addr });
    }
    // a hostname where an address belongs (sshd with UseDNS, many mail daemons): sshguard resolves it on
    // the parsing path, logwarden reports it as a hostname and never resolves it. `localhost` resolves from
    // /etc/hosts, so the golden file does not depend on the network. Not where the daemon brackets a
    // numeric address (`name[A]`, `[A]:P`): no daemon writes a name there.
    if (!colonPort && !before.endsWith('[') && seen.size === 1) {
      add(BANNERS[0][1](tag, pid, `${before}localhost${after}`), {
        source: 'hostname',
        rule: rule.id,
        banner: 'bsd',
        variant: 'hostname',
        addr: 'localhost',
      });
    }
  }
  for (const line of rule.examples.ignore) {
    add(line, { source: 'ignore', rule: rule.id, banner: 'original', variant: 'original' });
  }
}

// sshguard's state leak: after this benign line, the next attack is missed.
add('May  1 11:00:00 web sshd[911]: Disconnected from user alice 192.0.2.10 port 50122', {
  source: 'sequence',
  rule: null,
  banner: 'bsd',
  variant: 'ipv4',
});
add(
  'May  1 11:00:01 web sshd[907]: error: maximum authentication attempts exceeded for root from 203.0.113.12 port 51004 ssh2 [preauth]',
  { source: 'sequence', rule: 'ssh-max-auth-tries', banner: 'bsd', variant: 'ipv4' },
);
// the same attack again, with nothing benign before it: both parsers see it
add(
  'May  1 11:00:02 web sshd[907]: error: maximum authentication attempts exceeded for root from 203.0.113.12 port 51004 ssh2 [preauth]',
  { source: 'sequence', rule: 'ssh-max-auth-tries', banner: 'bsd', variant: 'ipv4' },
);

writeFileSync(join(here, 'corpus.log'), lines.join('\n') + '\n');
writeFileSync(join(here, 'corpus.meta.json'), '[\n' + meta.map((m) => JSON.stringify(m)).join(',\n') + '\n]\n');
console.log(`make-corpus: ${lines.length} lines from ${rules.length} rules → test/parity/corpus.log`);
