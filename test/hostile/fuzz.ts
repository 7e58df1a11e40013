// Hostile input for the fuzz tests (short ones in test/hostile, long ones in test/stress): arbitrary bytes, NUL,
// invalid UTF-8, ANSI escapes, huge lines without a newline, and lines built from fragments of real attack
// messages (every rule's examples), through every source: a real file (FileSource), a stream (StdinSource),
// journal entries (entryLine, then Parser.parseRecord), and the parser itself.
import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { MAX_LINE_LENGTH } from '../../src/input/lines.js';
import { Parser } from '../../src/parse/parser.js';
import { loadRules } from '../../src/parse/rules.js';
import { FileSource } from '../../src/sources/file.js';
import { entryLine } from '../../src/sources/journal.js';
import type { SourceLine } from '../../src/sources/source.js';
import { StdinSource } from '../../src/sources/stdin.js';
import { collectingLogger, tempDir, waitFor } from '../sources/helpers.js';

export const rules = loadRules();
export const parser = new Parser(rules);

const FAKE = '198.51.100.9';
/** Example lines of every rule, whole and cut into words: the raw material of near-real attack lines */
const EXAMPLES = rules.flatMap((r) => [...r.examples.match.map((e) => e.line), ...r.examples.ignore, ...(r.examples.hostile ?? []).map((h) => h.line)]);
const WORDS = [...new Set(EXAMPLES.flatMap((l) => l.split(/(?<= )/)))];
const SPECIAL = [
  '\0', '\0\0\0\0', '\x1b[31m', '\x1b[0m', '\x1b]0;title\x07', '\x1b[2J\x1b[H', '\x1bc', '\r', '\r\n', '\t', '\u2028', '\u2029', '\u0085',
  '\ufeff', '\ufffd', '\u202e', '%U%', '%ADDR%', `from ${FAKE} port 22 ssh2`, ` rhost=${FAKE}`, `[${FAKE}]`,
  `Accepted password for root from ${FAKE} port 22 ssh2`, 'May  1 10:00:00 web sshd[1]: ', '<34>1 2026-05-01T10:00:00Z web sshd 1 - - ',
  'message repeated 99999999999 times: [ ', ']', '(', '\\', '"', "'",
];
/** Byte strings that are not UTF-8: lone continuation bytes, truncated sequences, overlong forms, surrogates, 0xff */
const BAD_UTF8 = [[0x80], [0xbf], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0x80], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xfe, 0xfe]].map((b) => Buffer.from(b));

const text = (s: string) => Buffer.from(s);
const fragment: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...WORDS).map(text) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL).map(text) },
  { weight: 1, arbitrary: fc.constantFrom(...EXAMPLES).map(text) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_UTF8) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).map(text) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...WORDS, ...SPECIAL), fc.integer({ min: 2, max: 600 })).map(([w, n]) => text(w.repeat(n))) },
);

/** One hostile line's bytes (may hold newlines: then it is several lines, or none) */
export const hostileBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 5, arbitrary: fc.array(fragment, { maxLength: 24 }).map((parts) => Buffer.concat(parts)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)) },
);

/**
 * Time of the slowest parse, in ms. A slow one is measured again at once (the best of 3), and lines still slow are
 * kept and timed again at the end (`confirmed`): a GC pause or a JIT tier-up that happens during one line is
 * the process's, not the line's. `longest` is the raw figure, reported with the confirmed one.
 */
export class LineTimer {
  longest = 0;
  longestLine = '';
  lines = 0;
  private readonly suspects: { line: string; record?: Parameters<Parser['parseRecord']>[0] }[] = [];

  parse(line: string, record?: Parameters<Parser['parseRecord']>[0]): void {
    const best = timed(line, record, 3);
    this.lines++;
    if (best > this.longest) {
      this.longest = best;
      this.longestLine = line.slice(0, 200);
    }
    if (best >= 1 && this.suspects.length < 1000) this.suspects.push({ line, record });
  }

  /** The slowest of the slow lines, timed again (best of 5) after the run */
  confirmed(): number {
    return Math.max(0, ...this.suspects.map((s) => timed(s.line, s.record, 5)));
  }
}

function timed(line: string, record: Parameters<Parser['parseRecord']>[0] | undefined, tries: number): number {
  let best = Infinity;
  for (let i = 0; i < tries && best >= 1; i++) {
    const t0 = performance.now();
    if (record) parser.parseRecord(record);
    else parser.parse(line);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Every line a source yields is short enough and whole (no newline in it) */
export function checkLine(line: SourceLine): void {
  if (line.text.length > MAX_LINE_LENGTH) throw new Error(`a line of ${line.text.length} characters was handed out`);
  if (line.text.includes('\n')) throw new Error('a line with a newline in it was handed out');
}

const HUGE = 10 * 1024 * 1024;
export const MARKER = 'May  1 10:00:00 web sshd[9]: Failed password for root from 203.0.113.99 port 1 ssh2';

/** The fuzz input as a stream of chunks: the cases, a 10 MB line without a newline, then the marker line */
export function fuzzStream(cases: Buffer[]): Buffer[] {
  const huge = Buffer.alloc(HUGE, 'A');
  huge.write('May  1 10:00:00 web sshd[1]: Failed password for ', 0);
  return [...cases.map((c) => Buffer.concat([c, text('\n')])), huge, text('\n'), huge.subarray(0, 1024 * 1024), text(`\n${MARKER}\n`)];
}

/** What a source yielded, summed up so that the lines themselves are not kept (memory is measured) */
export class Yield {
  lines = 0;
  last = '';
  private readonly hash = createHash('sha256');

  add(line: SourceLine): void {
    checkLine(line);
    this.lines++;
    this.last = line.text;
    this.hash.update(line.text).update('\n');
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }
}

/** Feeds the chunks to a FileSource on a real file (appended while it reads) and parses every line. */
export async function throughFile(chunks: Buffer[], timer: LineTimer): Promise<Yield> {
  const dir = tempDir('fuzz-file');
  const path = dir.path('auth.log');
  writeFileSync(path, '');
  const source = new FileSource({ path, from: null, log: collectingLogger(), pollMs: 50 });
  const got = new Yield();
  try {
    await source.start((batch) => {
      for (const line of batch) {
        got.add(line);
        timer.parse(line.text);
      }
    });
    for (const chunk of chunks) appendFileSync(path, chunk);
    await waitFor(() => got.last === MARKER, 'the marker line through the file', 30_000);
  } finally {
    await source.stop();
    dir.remove();
  }
  return got;
}

/** Feeds the chunks to a StdinSource, cut at random places, and parses every line. */
export async function throughStdin(chunks: Buffer[], cuts: number[], timer: LineTimer): Promise<Yield> {
  const input = new PassThrough();
  const source = new StdinSource({ input, log: collectingLogger() });
  const got = new Yield();
  await source.start((batch) => {
    for (const line of batch) {
      got.add(line);
      timer.parse(line.text);
    }
  });
  const all = Buffer.concat(chunks);
  let at = 0;
  for (const cut of cuts) {
    const end = Math.min(all.length, at + cut);
    input.write(all.subarray(at, end));
    at = end;
  }
  input.end(all.subarray(at));
  await source.done();
  return got;
}

const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileBytes.map((b) => b.toString('utf8')),
  hostileBytes.map((b) => [...b]),
  fc.array(fc.integer({ min: -300, max: 600 }), { maxLength: 40 }),
  fc.array(fc.oneof(hostileBytes.map((b) => b.toString('utf8')), hostileBytes.map((b) => [...b]), fc.constant(null)), { maxLength: 3 }),
  fc.constantFrom(null, 0, -1, 1.5, 1e400, true, {}, '', '0', '4294967295', '99999999999999999999', ' 1', '1\n'),
);

/** journalctl -o json lines built from fragments: real entries' shape, hostile values, and broken JSON */
export const journalJson: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record(
        {
          __CURSOR: fc.oneof(fc.constant('s=1;i=1;b=2;m=3;t=4;x=5'), fieldValue),
          __REALTIME_TIMESTAMP: fc.oneof(fc.constant('1777629600000000'), fieldValue),
          MESSAGE: fieldValue,
          SYSLOG_IDENTIFIER: fc.oneof(fc.constantFrom(...new Set(rules.flatMap((r) => r.programs))), fieldValue),
          _PID: fieldValue,
          SYSLOG_PID: fieldValue,
          _HOSTNAME: fieldValue,
          _UID: fc.oneof(fc.constantFrom('0', '1000'), fieldValue),
          _EXE: fc.oneof(fc.constantFrom('/usr/sbin/sshd', '/usr/bin/logger'), fieldValue),
          _SYSTEMD_UNIT: fieldValue,
          _TRANSPORT: fc.oneof(fc.constantFrom('syslog', 'journal', 'kernel'), fieldValue),
          _COMM: fieldValue,
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o) ?? 'null'),
  },
  { weight: 1, arbitrary: hostileBytes.map((b) => b.toString('utf8')) },
  { weight: 1, arbitrary: fc.constantFrom('{', '[]', 'null', '"x"', '{"__CURSOR":', '{"MESSAGE":[1,2,3]}', `{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","MESSAGE":${'['.repeat(500)}${']'.repeat(500)}}`) },
);

/** One journal line: entryLine, then (for an entry of a line's size, as JournalSource keeps) parseRecord. */
export function throughJournal(json: string, timer: LineTimer): void {
  const line = entryLine(json, Date.now());
  if (line === null) return;
  // JournalSource skips a message longer than a line whole; a newline inside one is part of the message
  if (line.text.length > MAX_LINE_LENGTH) return;
  const j = line.journal!;
  timer.parse(line.text, { tag: j.identifier, pid: j.pid, host: j.host, message: line.text, time: j.time });
}

const collect: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** Resident memory after a full garbage collection, in MB (the process's high-water mark: freed memory stays mapped) */
export function rssMB(): number {
  collect();
  return process.memoryUsage().rss / 1024 / 1024;
}

/**
 * What JavaScript holds once garbage is collected, in MB: heap and buffers; a leak makes it grow. A buffer's
 * memory is returned some time after the collection that finds it garbage (and the last callbacks of a stream
 * just ended may still hold some): read just after one collection, a round's 11 MB input, freed, still showed
 * as 40 MB held, or not, from one round to the next. So collect, wait, and read again until two readings agree.
 */
export async function heldMB(): Promise<number> {
  let previous = Infinity;
  for (let i = 0; i < 20; i++) {
    collect();
    const m = process.memoryUsage();
    const held = (m.heapUsed + m.external) / 1024 / 1024;
    if (Math.abs(held - previous) < 0.5) return held;
    previous = held;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return previous;
}
