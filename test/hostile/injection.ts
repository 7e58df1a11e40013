// Log injection through the whole engine (parser → correlation → policy): attacker-controlled fields of every
// rule's `examples.hostile` templates (and a few more here, for services whose rules carry none) filled with fake
// addresses, fake `Accepted ...` text, fake syslog banners and embedded newlines. Used by test/hostile (short)
// and test/stress (long).
import { Engine, itemOf } from '../../src/engine/engine.js';
import { storeEvidence } from '../../src/engine/evidence.js';
import { parseBanner } from '../../src/parse/banner.js';
import type { CompiledRule } from '../../src/parse/rules.js';
import { DEFAULT_POLICY, newPolicyState } from '../../src/policy/policy.js';
import { type Network, networkText } from '../../src/policy/network.js';
import { emptyEntries, Whitelist } from '../../src/policy/whitelist.js';
import { Store } from '../../src/store/store.js';
import type { Parser } from '../../src/parse/parser.js';
import { parser as defaultParser, rules } from './fuzz.js';

export const FAKE = '198.51.100.9';
export const FAKE6 = '2001:db8:bad::9';
const BANNER = 'May  1 10:00:00 web sshd[1]: ';
const FORGED_FAILURE = `Failed password for root from ${FAKE} port 22 ssh2`;
const FORGED_LOGIN = `Accepted password for root from ${FAKE} port 22 ssh2`;

/** Attacker text: each is also tried after and before a plain name */
export const INJECTIONS = [
  ` from ${FAKE}`, ` from ${FAKE} port 22 ssh2`, ` for root from ${FAKE} port 22 ssh2`, ` from ${FAKE6} port 22 ssh2`,
  ` from ::ffff:${FAKE}`, ` rhost=${FAKE}`, ` rhost=${FAKE6}  user=root`, `[${FAKE}]`, `[${FAKE}]:22`, ` [${FAKE}]`, ` (${FAKE})`,
  `<${FAKE}:22>`, ` ip=[${FAKE}]`, `, rip=${FAKE}, lip=192.0.2.1`, ` client_address=${FAKE}`, ` relay=x [${FAKE}]`, ` address=${FAKE} host=x`,
  ` [CLIENT: ${FAKE}]`, `'@'${FAKE}'`, `"${FAKE}"`, ` ${FAKE} - - [01/May/2026:10:00:00 +0000] "POST /wp-login.php HTTP/1.1" 200`,
  ` ${FAKE}:22 TLS Error: TLS handshake failed`, ` from ${FAKE} not allowed because not in any group`,
  FORGED_LOGIN, ` ${FORGED_LOGIN}`, `: ${FORGED_FAILURE}`, ` ${BANNER}${FORGED_FAILURE}`, ` ${BANNER}${FORGED_LOGIN}`,
  ` <34>1 2026-05-01T10:00:00Z web sshd 1 - - ${FORGED_FAILURE}`, ` [preauth]`, ` port 22`, ` ssh2`, '"', "'", ']', ')', '>',
  '\u2028', '\r', '\t', '\u001b[2K\u001b[1G', '\0', '%U%',
  // embedded newlines: raw (journald keeps them in MESSAGE), and as syslog daemons escape them in files
  `\n${FORGED_FAILURE}`, `\n${BANNER}${FORGED_FAILURE}`, `\n${FORGED_LOGIN}`, `\r\n${BANNER}${FORGED_LOGIN}`, `\n`,
  `#012${BANNER}${FORGED_FAILURE}`, `#012${FORGED_LOGIN}`, `\\n${FORGED_FAILURE}`, `^J${FORGED_LOGIN}`,
];

export interface Template {
  rule: string;
  line: string;
  addr: string;
}

/** Client text in lines of services whose rules carry no hostile examples (a reverse-DNS name is the client's) */
const MORE: Template[] = [
  { rule: 'dropbear-login', line: "May  1 10:00:00 gw dropbear[4093]: Password auth succeeded for '%U%' from 192.0.2.10:5543", addr: '192.0.2.10' },
  { rule: 'opensmtpd-session-connected', line: 'May  1 10:00:00 mail smtpd[2705]: 9b1d2e3f4a5b6c7d smtp connected address=203.0.113.30 host=%U%', addr: '203.0.113.30' },
];

export const TEMPLATES: Template[] = [
  ...rules.flatMap((r) => (r.examples.hostile ?? []).map((h) => ({ rule: r.id, line: h.line, addr: h.addr }))),
  ...MORE,
];

const ruleOf = new Map<string, CompiledRule>(rules.map((r) => [r.id, r]));
/** Lines that follow a `connect` template's line: attacks of its session, named by the session only */
const FOLLOW: Record<string, string[]> = {
  'opensmtpd-session-connected': Array(4).fill('May  1 10:00:00 mail smtpd[2705]: 9b1d2e3f4a5b6c7d smtp failed-command command="AUTH LOGIN (password)" result="535 Authentication failed"'),
};

/** How a filled line reaches the parser */
export type Mode = 'file' | 'journal';

/**
 * A syslog daemon writing to a file escapes control characters (rsyslog: `#012` for a newline) and a file has
 * no other way to keep one message one line; journald keeps the message whole, newlines and all.
 */
function fileLine(line: string): string {
  return line.replace(/[\0-\x08\x0a-\x1f\x7f]/g, (c) => `#${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

function withPid(line: string, pid: number): string {
  return line.replace(/^(.*?\S\[)\d+(\]: )/, `$1${pid}$2`);
}

/** One engine, fed in order; what it blocked and whom it trusted. */
export class Run {
  readonly blocks: Network[] = [];
  private readonly store = Store.open(':memory:');
  readonly state = newPolicyState(new Whitelist(emptyEntries()));
  private readonly engine: Engine;
  private time = Date.UTC(2026, 4, 1, 10, 0, 0);
  private pid = 30_000;
  lines = 0;

  constructor(private readonly parser: Parser = defaultParser) {
    this.engine = new Engine({ policy: DEFAULT_POLICY, state: this.state, evidence: storeEvidence(this.store), now: () => 0, onBlock: (b) => this.blocks.push(b.net) });
  }

  /** One log line (a template filled in), with a pid of its own unless `samePid` (lines of one connection) */
  feed(line: string, mode: Mode, samePid = false): void {
    const pid = samePid ? this.pid : ++this.pid;
    const text = withPid(line, pid);
    this.time += 1000;
    this.lines++;
    let parsed;
    if (mode === 'file') parsed = this.parser.parse(fileLine(text));
    else {
      const b = parseBanner(text);
      parsed = this.parser.parseRecord({ tag: b.tag, pid: b.pid, host: b.host, message: b.msg, time: this.time });
    }
    if (parsed !== null) this.engine.handle(itemOf(parsed, this.time, 'auth.log', this.lines, text));
  }

  trusted(): string[] {
    return [...this.state.trusted.keys()];
  }

  finish(): void {
    this.engine.finish();
    this.store.close();
  }
}

const covers = (net: Network, addr: string) => networkText(net) === addr || (net.kind === 6 && addr.includes(':') && net.cidr < 128 && sameV6Prefix(net, addr));
function sameV6Prefix(net: Network, addr: string): boolean {
  const words = (a: string) => {
    const [head, tail = ''] = a.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const all = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return all.map((w) => parseInt(w, 16));
  };
  const a = words(net.addr);
  const b = words(addr);
  for (let bit = 0; bit < net.cidr; bit++) {
    const w = bit >> 4;
    const mask = 0x8000 >> (bit & 15);
    if ((a[w] & mask) !== (b[w] & mask)) return false;
  }
  return true;
}

/** What went wrong for one template and one attacker text: empty when nobody but the client was blamed or trusted */
export function injectionProblems(t: Template, user: string, mode: Mode, run: Run, rule: CompiledRule = ruleOf.get(t.rule)!): string[] {
  const line = t.line.replaceAll('%U%', user);
  const problems: string[] = [];
  const before = run.blocks.length;
  if (rule.event === 'login') {
    run.feed(line, mode);
    for (const addr of run.trusted()) if (addr !== t.addr) problems.push(`trusted ${addr}`);
    // a forged login must leave the fake address to be scored: its real failures block it
    for (let i = 0; i < 4; i++) run.feed(`May  1 10:00:00 web sshd[1]: ${FORGED_FAILURE}`, mode);
  } else if (rule.event === 'connect') {
    run.feed(line, mode);
    for (const follow of FOLLOW[t.rule] ?? []) run.feed(follow, mode, true);
  } else {
    for (let i = 0; i < 4; i++) run.feed(line, mode);
  }
  for (const net of run.blocks.slice(before)) {
    const key = networkText(net);
    const fakeOk = rule.event === 'login' && (covers(net, FAKE) || key === FAKE);
    if (!covers(net, t.addr) && !fakeOk) problems.push(`blocked ${key}`);
  }
  return problems;
}

/** The texts tried for each injection: after a name and doubled (all: also alone and before a name) */
export function fills(injection: string, all = false): string[] {
  const some = [`root${injection}`, `x${injection}${injection}y`];
  return all ? [injection, `${injection}root`, ...some] : some;
}
