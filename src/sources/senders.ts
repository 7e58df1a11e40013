/**
 * Who wrote a journal entry. Any local user can write `sshd[1]: Failed password for root from ADDR` with
 * `logger -t sshd`: SYSLOG_IDENTIFIER, SYSLOG_PID and _COMM are the sender's to choose. What journald itself
 * records from the kernel is not: _UID (the socket's credentials), _EXE and _SYSTEMD_UNIT (read from /proc and
 * the cgroup), _TRANSPORT. An entry counts only when those match the daemon its rule's service expects
 * (rules/*.json `senders`).
 *
 * - trusted: the transport is a local log transport, _UID is one of the service's accounts, and _EXE or
 *   _SYSTEMD_UNIT is the service's. Attacks and logins count.
 * - unverified: _EXE and _SYSTEMD_UNIT are both missing (the sender exited before journald read /proc, or the
 *   entry came from journal-remote without them), and nothing present contradicts the service (_UID, if
 *   there, is one of its accounts). Attacks count, since the uid already rules out other local users; a login
 *   never trusts anyone, and neither does a `connect` line (it names the address of later lines).
 * - forged: anything recorded contradicts the service (another uid, executable and unit, or a kernel or audit
 *   transport). The entry is dropped, counted and logged.
 * A rules file without `senders` expects root, with any executable or unit.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../log/logger.js';
import type { ParsedEvent } from '../parse/parser.js';
import type { CompiledRule, SenderSpec } from '../parse/rules.js';
import type { JournalFields } from './source.js';

export type SenderVerdict = 'trusted' | 'unverified' | 'forged';

/** What journald records about the sender of the entries of one service */
export interface ExpectedSender {
  uids: ReadonlySet<number>;
  executables: readonly string[];
  units: readonly string[];
}

/** The transports of local programs' log lines (`kernel`, `audit`, `driver` are never a daemon's) */
const LOG_TRANSPORTS = new Set(['syslog', 'journal', 'stdout']);

const ROOT_ONLY: ExpectedSender = { uids: new Set([0]), executables: ['*'], units: ['*'] };

/** A name with at most one `*`, which stands for any text. */
export function nameMatches(pattern: string, name: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === name;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return name.length >= head.length + tail.length && name.startsWith(head) && name.endsWith(tail);
}

/** The uids of account names (from passwd text) and numeric uids; `root` is 0 even without a passwd file. */
export function accountIds(users: readonly string[], passwd: string): Set<number> {
  const byName = new Map<string, number>([['root', 0]]);
  for (const line of passwd.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d{1,10}$/.test(uid)) byName.set(name, Number(uid));
  }
  const ids = new Set<number>();
  for (const user of users) {
    if (/^\d{1,10}$/.test(user)) ids.add(Number(user));
    else if (byName.has(user)) ids.add(byName.get(user)!);
  }
  return ids;
}

export function expectedSender(spec: SenderSpec | null, passwd: string): ExpectedSender {
  if (spec === null) return ROOT_ONLY;
  return { uids: accountIds(spec.users, passwd), executables: spec.executables, units: spec.units };
}

/** The verdict on an entry's trusted fields, for a service's expected sender. */
export function senderVerdict(fields: Pick<JournalFields, 'uid' | 'exe' | 'unit' | 'transport'>, expected: ExpectedSender): SenderVerdict {
  if (fields.transport !== null && !LOG_TRANSPORTS.has(fields.transport)) return 'forged';
  if (fields.uid !== null && !expected.uids.has(fields.uid)) return 'forged';
  if (fields.exe === null && fields.unit === null) return 'unverified';
  const exe = fields.exe !== null && expected.executables.some((p) => nameMatches(p, fields.exe!));
  const unit = fields.unit !== null && expected.units.some((p) => nameMatches(p, fields.unit!));
  if (!exe && !unit) return 'forged';
  return fields.uid === null || fields.transport === null ? 'unverified' : 'trusted';
}

/** /etc/passwd's text, or '' when it cannot be read (then only `root` and numeric uids resolve). */
export function readPasswd(path = '/etc/passwd'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Forged entries logged one by one before only every LOG_EVERY-th is (a local user can write many) */
const LOG_FIRST = 20;
const LOG_EVERY = 1000;

export interface SenderCounts {
  forged: number;
  /** Unverified logins and connects, which were not used */
  untrusted: number;
  /** Unverified attacks, which were counted */
  unverifiedAttacks: number;
}

/** The daemon's check of journal entries' senders, per rule (by the rule's service data). */
export class SenderCheck {
  readonly counts: SenderCounts = { forged: 0, untrusted: 0, unverifiedAttacks: 0 };
  private readonly byRule = new Map<string, ExpectedSender>();

  constructor(rules: readonly CompiledRule[], private readonly log: Logger, passwd: string = readPasswd()) {
    const byFile = new Map<string, ExpectedSender>();
    for (const rule of rules) {
      let expected = byFile.get(rule.file);
      if (expected === undefined) byFile.set(rule.file, (expected = expectedSender(rule.senders, passwd)));
      this.byRule.set(rule.id, expected);
    }
  }

  /** The event when its entry's sender may say it, else null (and the entry is counted, and logged if forged). */
  admit(event: ParsedEvent, fields: JournalFields): ParsedEvent | null {
    const verdict = senderVerdict(fields, this.byRule.get(event.rule) ?? ROOT_ONLY);
    if (verdict === 'trusted') return event;
    if (verdict === 'unverified') {
      if (event.event === 'attack') {
        this.counts.unverifiedAttacks++;
        return event;
      }
      this.counts.untrusted++;
      this.log.info(
        { rule: event.rule, addr: event.addr, uid: fields.uid, identifier: fields.identifier, cursor: fields.cursor },
        `a ${event.event} entry of ${event.addr} whose sender journald could not identify (no _EXE, no _SYSTEMD_UNIT): not used`,
      );
      return null;
    }
    const n = ++this.counts.forged;
    if (n <= LOG_FIRST || n % LOG_EVERY === 0) {
      this.log.warn(
        { rule: event.rule, addr: event.addr, uid: fields.uid, exe: fields.exe, unit: fields.unit, transport: fields.transport, identifier: fields.identifier, comm: fields.comm, cursor: fields.cursor, forged: n },
        `forged journal entry ignored: it reads as ${event.rule} (${event.addr}) but was written by uid ${fields.uid ?? '?'} ${fields.exe ?? fields.comm ?? '?'} (${fields.unit ?? 'no unit'}, ${fields.transport ?? 'no transport'}), not by the service's daemon`,
      );
    }
    return null;
  }
}
