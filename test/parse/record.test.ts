import { describe, expect, it } from 'vitest';
import { Banner, parseBanner } from '../../src/parse/banner.js';
import { type JournalRecord, type ParsedEvent, Parser } from '../../src/parse/parser.js';
import { loadRules } from '../../src/parse/rules.js';
import { bannerTime, EventClock } from '../../src/parse/time.js';

const rules = loadRules();
const parser = new Parser(rules);
const TIME = Date.UTC(2026, 4, 1, 10, 0, 0, 250);

/** The journal entry a syslog line's banner stands for */
function recordOf(b: Banner): JournalRecord {
  const pid = b.pid;
  return { tag: b.tag, pid: pid === null ? null : Number(pid), host: b.host, message: b.msg, time: TIME };
}

/** A journal pid is a number: banners whose pid is not one have no journal equivalent */
const journalPid = (b: Banner) => b.pid === null || /^[1-9]\d{0,9}$/.test(b.pid);

/** Everything of an event but its banner and repeat count, which a record has of its own */
function essence(e: ParsedEvent | null) {
  if (e === null) return null;
  const { banner: _banner, count: _count, ...rest } = e;
  return rest;
}

/** The readings of a line without event that parse() tried (a guessed split is tried both ways when untagged) */
function readingsOf(line: string): Banner[] {
  const b = parseBanner(line);
  if (!b.guessed) return [b];
  const other = b.clone();
  other.unguess();
  if (b.tag === null) return [b, other];
  return parser.route(b.tag) === null ? [other] : [b];
}

const matches = rules.flatMap((r) => r.examples.match.map((ex) => ({ rule: r, ex })));
const ignores = rules.flatMap((r) => [
  ...r.examples.ignore.map((line) => ({ rule: r, line })),
  ...r.examples.match.filter((ex) => ex.addr === undefined).map((ex) => ({ rule: r, line: ex.line })),
]);

describe('Parser.parseRecord: a journal entry reaches the rules without a syslog line', () => {
  it('gives, for every matching example of rules/*.json, the event parse() gives for the line', () => {
    let compared = 0;
    for (const { rule, ex } of matches) {
      const fromLine = parser.parse(ex.line);
      if (fromLine === null || !journalPid(fromLine.banner)) continue;
      const record = recordOf(fromLine.banner);
      const fromRecord = parser.parseRecord(record);
      expect(essence(fromRecord), `${rule.id}: ${ex.line}`).toEqual(essence(fromLine));
      expect(fromRecord!.count).toBe(1);
      expect(fromRecord!.banner.tag).toBe(fromLine.banner.tag);
      expect(fromRecord!.banner.host).toBe(fromLine.banner.host);
      expect(fromRecord!.banner.pid).toBe(fromLine.banner.pid === null ? null : String(Number(fromLine.banner.pid)));
      expect(bannerTime(fromRecord!.banner, { now: TIME })).toBe(TIME);
      compared++;
    }
    // nearly every example has a journal equivalent: the comparison is not vacuous
    expect(compared).toBeGreaterThan(matches.length * 0.9);
  });

  it('gives no event for the parts of any example line that gives none', () => {
    let compared = 0;
    for (const { rule, line } of ignores) {
      if (parser.parse(line) !== null) continue; // matched by another rule (examples say what *their* rule ignores)
      for (const b of readingsOf(line)) {
        if (!journalPid(b)) continue;
        expect(parser.parseRecord(recordOf(b)), `${rule.id}: ${line}`).toBeNull();
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(ignores.length * 0.5);
  });

  it('routes by the given tag: quiet programs match nothing, unknown programs and no tag meet every rule', () => {
    const message = 'Failed password for root from 198.51.100.9 port 22 ssh2';
    expect(parser.parseRecord({ tag: 'sshd', pid: 7, host: 'h', message, time: TIME })).toMatchObject({ rule: 'ssh-failed-password', addr: '198.51.100.9', kind: 4 });
    expect(parser.parseRecord({ tag: 'kernel', pid: null, host: 'h', message, time: TIME })).toBeNull();
    expect(parser.parseRecord({ tag: 'myapp', pid: 7, host: 'h', message, time: TIME })?.rule).toBe(parser.parse(`h myapp[7]: ${message}`)?.rule);
    expect(parser.parseRecord({ tag: null, pid: null, host: null, message, time: TIME })?.rule).toBe(parser.parse(message)?.rule);
  });

  it('never takes the text after a newline in a message for an entry of its own', () => {
    const forged = 'Failed password for root from 198.51.100.9 port 22 ssh2';
    const line = `May  1 10:00:00 h sshd[7]: ${forged}`;
    for (const [tag, message] of [
      ['myapp', `started\n${forged}`],
      ['sshd', `Connection from 192.0.2.1 port 4000\n${forged}`],
      ['sshd', `\n${forged}`],
      [null, `hello\n${line}`],
      ['myapp', `hello\n${line}`],
    ] as const) {
      expect(parser.parseRecord({ tag, pid: 7, host: 'h', message, time: TIME }), JSON.stringify(message)).toBeNull();
    }
    // over every example, with a newline put at its start, in place of its first and of its last blank: the
    // rules see a newline exactly as a syslog line's U+2028 (one character of the message, matched by `.`),
    // which a line reader never splits at
    for (const { rule, ex } of matches) {
      const fromLine = parser.parse(ex.line);
      // (untagged lines are left out: where their banner ends is a guess that the message's blanks decide)
      if (fromLine === null || fromLine.banner.tag === null || !journalPid(fromLine.banner)) continue;
      const record = recordOf(fromLine.banner);
      const m = record.message;
      const { msgStart, msgEnd } = fromLine.banner;
      const [head, tail] = [ex.line.slice(0, msgStart), ex.line.slice(msgEnd)];
      const at = [0, m.indexOf(' '), m.lastIndexOf(' ')].filter((i) => i >= 0);
      for (const i of at) {
        const cut = i === 0 ? ['x', m] : [m.slice(0, i), m.slice(i + 1)];
        const inRecord = parser.parseRecord({ ...record, message: cut.join('\n') });
        const inLine = parser.parse(head + cut.join('\u2028') + tail);
        const sameText = inLine === null ? null : { ...inLine, user: inLine.user?.replaceAll('\u2028', '\n') ?? null };
        expect(essence(inRecord), `${rule.id}: ${JSON.stringify(cut.join('\n'))}`).toEqual(essence(sameText));
      }
      // a trailing newline ends the message like the end of a line
      expect(essence(parser.parseRecord({ ...record, message: `${record.message}\n` }))).toEqual(essence(fromLine));
    }
  });

  it('gives correlation the entry\'s own time', () => {
    const e = parser.parseRecord({ tag: 'sshd', pid: 7, host: 'h', message: 'Invalid user x from 192.0.2.1 port 4000', time: TIME })!;
    expect(new EventClock({ now: TIME }).time(e.banner)).toBe(TIME);
    const later = parser.parseRecord({ tag: 'sshd', pid: 7, host: 'h', message: 'Invalid user x from 192.0.2.1 port 4000', time: TIME + 61_500 })!;
    expect(new EventClock({ now: TIME }).time(later.banner)).toBe(TIME + 61_500);
  });
});
