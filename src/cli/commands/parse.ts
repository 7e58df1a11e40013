import { AttemptCorrelator, type AttemptEvent } from '../../correlate/attempts.js';
import { ConnectionNames } from '../../correlate/connections.js';
import { openLogFile, readLines, type ReadStats } from '../../input/lines.js';
import { attributed, type ParsedEvent, Parser } from '../../parse/parser.js';
import { ruleSetFromArgs } from '../../config/rules.js';
import { bannerTime, EventClock, type TimeContext } from '../../parse/time.js';
import type { Args, Command } from '../args.js';
import { OutputBuffer } from '../output.js';

type Format = 'sshguard' | 'json' | 'text';

interface ParseArgs {
  files: string[];
  format: Format;
  all: boolean;
  'every-line': boolean;
  stats: boolean;
  'rules-dir'?: string;
  'disable-rule'?: string[];
  danger?: string[];
}

export interface ParseTotals {
  read: ReadStats;
  events: number;
  /** Lines of an attempt already printed, and keys forgiven by a login (not printed unless --every-line) */
  joined: number;
  forgiven: number;
  attacks: number;
  logins: number;
  hostnames: number;
  unmatched: number;
  /** Events per rule id, with --stats only (a box per rule: one Map lookup per event, no store) */
  perRule: Map<string, { n: number }>;
}

function formatEvent(format: Format, event: ParsedEvent, file: string, line: number, time: TimeContext): string {
  if (format === 'sshguard') {
    // sshg-parser's line; a hostname has no kind and is left to the policy (never resolved here)
    const text = servicePrefix(event.service) + event.addr + kindDangerSuffix(event.kind, event.danger);
    return event.count === 1 ? text : text.repeat(event.count);
  }
  const ms = bannerTime(event.banner, time);
  const iso = ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
  if (format === 'json') {
    const record = JSON.stringify({
      file,
      line,
      time: iso,
      event: event.event,
      service: event.service,
      rule: event.rule,
      addr: event.addr,
      kind: event.kind,
      danger: event.danger,
      ...(event.kind === null ? { hostname: true } : {}),
      ...(event.user !== null ? { user: event.user } : {}),
    });
    return `${record}\n`.repeat(event.count);
  }
  const who = event.kind === null ? `${event.addr} (hostname, not resolved)` : event.addr;
  const user = event.user !== null ? ` user=${JSON.stringify(event.user)}` : '';
  const text = `${file}:${line} ${iso ?? '-'} ${event.event} ${event.rule} ${who} service=${event.service} danger=${event.danger}${user}\n`;
  return text.repeat(event.count);
}

// The parts of an sshguard line around its address, made once: turning the numbers into text for every
// line cost more than the rest of its formatting
const servicePrefixes = new Map<number, string>();
const kindDangerSuffixes = new Map<number, string>();

// and the last of each remembered apart: a log's events come in runs of one service, kind and danger
let lastService = -1;
let lastServicePrefix = '';
let lastKindDanger = -1;
let lastKindDangerSuffix = '';

function servicePrefix(service: number): string {
  if (service === lastService) return lastServicePrefix;
  let text = servicePrefixes.get(service);
  if (text === undefined) servicePrefixes.set(service, (text = `${service} `));
  lastService = service;
  lastServicePrefix = text;
  return text;
}

function kindDangerSuffix(kind: number | null, danger: number): string {
  const key = danger * 8 + (kind ?? 0); // kind is 4, 6 or null
  if (key === lastKindDanger) return lastKindDangerSuffix;
  let text = kindDangerSuffixes.get(key);
  if (text === undefined) kindDangerSuffixes.set(key, (text = ` ${kind} ${danger}\n`));
  lastKindDanger = key;
  lastKindDangerSuffix = text;
  return text;
}

/** An event on its way through attempt correlation, with what printing it needs. */
interface Attempt extends AttemptEvent {
  parsed: ParsedEvent;
  lineNumber: number;
}

async function parseInput(
  parser: Parser,
  stream: AsyncIterable<Buffer>,
  name: string,
  args: ParseArgs,
  out: OutputBuffer,
  totals: ParseTotals,
): Promise<void> {
  const time: TimeContext = { now: Date.now() };
  const { format, all } = args;
  const perRule = args.stats;
  const print = (event: ParsedEvent, lineNumber: number) => {
    if (event.event === 'connect' || event.addr === '') return; // no attack, or no address to print
    if (event.event === 'login' && (!all || format === 'sshguard')) return;
    if (format === 'sshguard' && event.kind === null) return;
    out.write(formatEvent(format, event, name, lineNumber, time));
  };
  // by default one attempt prints once, as the policy counts it (sshg-blocker would count every line)
  const correlator = args['every-line']
    ? null
    : new AttemptCorrelator<Attempt, null>(
        (event, disposition, resolvedBy) => {
          if (disposition === 'joined') totals.joined++;
          else if (disposition === 'forgiven') totals.forgiven++;
          else {
            print(attributed(event.parsed, resolvedBy?.parsed), event.lineNumber);
          }
        },
        null, // what is printed stays printed: nothing to take back
      );
  const clock = new EventClock(time);
  const connections = new ConnectionNames();
  let lastTime = 0;
  let lastExpire = -Infinity;
  const read = await readLines(stream, {
    line(text, lineNumber, bytes, offset) {
      const event = parser.parse(text, false, bytes, offset); // formatted at once and nothing kept, unless correlation holds it
      if (event === null) {
        totals.unmatched++;
        return;
      }
      totals.events += event.count;
      // counted only to be printed: a Map lookup an event, a few per cent of a run
      if (perRule) {
        const ruleCount = totals.perRule.get(event.rule);
        if (ruleCount === undefined) totals.perRule.set(event.rule, { n: event.count });
        else ruleCount.n += event.count;
      }
      if (event.kind === null) totals.hostnames += event.count;
      if (event.event === 'login') totals.logins += event.count;
      else if (event.event === 'attack') totals.attacks += event.count;
      // an attack that names its address and takes part in no attempt is printed as it comes
      const alone = event.correlation === null && event.event === 'attack' && event.kind !== null;
      const connection = correlator === null || alone ? null : connections.of(event);
      if (connection === null) {
        print(event, lineNumber);
        return;
      }
      // sshguard's format prints no time: the event may keep the parser's scratch banner while it is held
      if (format !== 'sshguard') event.banner = event.banner.clone();
      lastTime = clock.time(event.banner) ?? lastTime;
      if (lastTime - lastExpire >= 1000) {
        lastExpire = lastTime;
        correlator!.expire(lastTime);
      }
      const count = event.count;
      event.count = 1;
      const attempt: Attempt = {
        event: event.event,
        correlation: event.correlation,
        address: event.addr,
        hostname: event.kind === null,
        time: lastTime,
        connection,
        parsed: event,
        lineNumber,
      };
      for (let i = 0; i < count; i++) correlator!.push(attempt);
    },
    chunkDone: () => out.flushIfFull(),
  });
  correlator?.flush();
  totals.read.lines += read.lines;
  totals.read.bytes += read.bytes;
  totals.read.overlong += read.overlong;
  totals.read.nulBytes += read.nulBytes;
}

function printStats(totals: ParseTotals, seconds: number): void {
  const { read } = totals;
  const rate = seconds > 0 ? Math.round(read.lines / seconds) : read.lines;
  const lines = [
    `lines read: ${read.lines} (${(read.bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(3)} s, ${rate} lines/s`,
    `attacks: ${totals.attacks}, logins: ${totals.logins}, hostnames (not resolved): ${totals.hostnames}`,
    `lines of an attempt already counted: ${totals.joined}, failed keys forgiven by a login: ${totals.forgiven}`,
    `lines no rule matched: ${totals.unmatched}`,
    `lines skipped as too long: ${read.overlong}, NUL bytes removed: ${read.nulBytes}`,
    'events per rule:',
    ...[...totals.perRule.entries()].sort((a, b) => b[1].n - a[1].n).map(([rule, { n }]) => `  ${String(n).padStart(9)}  ${rule}`),
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}

export const parseCommand: Command = {
  name: 'parse',
  describe: 'Parse logs and print the attacks found (standard input when no FILE or -)',
  positionals: [{ name: 'files', variadic: true, describe: 'Log files (plain or gzip); - is standard input' }],
  handler: async (raw: Args) => {
    const args = raw as unknown as ParseArgs;
    const parser = new Parser(ruleSetFromArgs(args).rules);
    const files = args.files.length > 0 ? args.files : ['-'];
    const out = new OutputBuffer(process.stdout);
    const totals: ParseTotals = {
      read: { lines: 0, bytes: 0, overlong: 0, nulBytes: 0 },
      events: 0,
      joined: 0,
      forgiven: 0,
      attacks: 0,
      logins: 0,
      hostnames: 0,
      unmatched: 0,
      perRule: new Map(),
    };
    const started = process.hrtime.bigint();
    let failed = 0;
    for (const file of files) {
      try {
        const stream = file === '-' ? process.stdin : await openLogFile(file);
        await parseInput(parser, stream, file === '-' ? '-' : file, args, out, totals);
      } catch (error) {
        failed++;
        process.stderr.write(`logwarden: cannot read ${file}: ${(error as Error).message}\n`);
      }
    }
    await out.end();
    if (args.stats) printStats(totals, Number(process.hrtime.bigint() - started) / 1e9);
    if (failed > 0) process.exitCode = 1;
  },
};
