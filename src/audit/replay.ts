/**
 * Replays old logs through parser → correlation → policy with the logs' own timestamps: the dry run
 * behind `logwarden audit`. Nothing outside the process changes.
 */
import { stat } from 'node:fs/promises';
import { Engine, itemOf, type Item } from '../engine/engine.js';
import { linesInWindows } from '../engine/evidence.js';
import type { HostnameResolver } from '../resolve/hostnames.js';
import { LineSplitter, openLogFile } from '../input/lines.js';
import { type Banner, TimeFormat } from '../parse/banner.js';
import { entryLine } from '../sources/journal.js';
import { SenderCheck } from '../sources/senders.js';
import { type Logger, plainLogger } from '../log/logger.js';
import { JOURNAL_JSON_LINE, type JournalQuery, type JournalReader, readJournal } from './journal.js';
import type { Parser } from '../parse/parser.js';
import { bannerTime, EventClock } from '../parse/time.js';
import type { BlacklistEntry } from '../policy/blacklist.js';
import { type BlockDecision, markBlocked, newPolicyState, type PolicyConfig } from '../policy/policy.js';
import type { Whitelist } from '../policy/whitelist.js';

export interface ReplayOptions {
  parser: Parser;
  policy: PolicyConfig;
  whitelist: Whitelist;
  /** Addresses already blacklisted (blocked for good from the start) */
  blacklist: BlacklistEntry[];
  /** Forces the year of the first yearless timestamp of each file */
  year?: number;
  timezone?: string;
  now: number;
  /** Opt-in resolution of attackers known by host name only */
  resolver?: HostnameResolver | null;
  onProgress?: (bytes: number, lines: number) => void;
  onReadError?: (file: string, error: Error) => void;
  /** Where the journal's forged entries are reported (default: plain lines on stderr) */
  log?: Logger;
  /** Also replay the journal's entries (journalctl) */
  journal?: JournalQuery | null;
}

export interface AuditBlock {
  decision: BlockDecision;
}

export interface ReplayResult {
  blocks: AuditBlock[];
  lines: number;
  attacks: number;
  addresses: number;
  failedFiles: number;
  stats: Engine['stats'];
  /** Per input, the lines with an event but no timestamp of their own (scored as if written now) */
  untimed: { name: string; lines: number }[];
}

const DAY_MS = 86_400_000;
/** A yearless timestamp this far before the previous one means the log crossed New Year. */
const NEW_YEAR_JUMP_MS = 180 * DAY_MS;

/**
 * One input's events, pulled chunk by chunk so that several inputs can be merged in time order without
 * holding them in memory.
 */
class InputEvents {
  batch: Item[] = [];
  pos = 0;
  /** Lines with an event but no timestamp: scored as if written at `now` */
  untimed = 0;
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly splitter: LineSplitter;
  /** Reports the end of the input: a failed journalctl run throws here */
  protected done: () => Promise<void> = async () => {};
  /** Year of the yearless timestamps, settled at the first one; +1 at each New Year crossed */
  private year: number | undefined;
  private previous = -Infinity;
  private ended = false;
  /** Event times, read in full once a quarter of an hour */
  private readonly clock: EventClock;

  constructor(
    readonly name: string,
    stream: AsyncIterable<Buffer>,
    private readonly reference: number,
    protected readonly options: ReplayOptions,
    maxLength?: number,
  ) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.clock = new EventClock({ now: options.now, timezone: options.timezone });
    this.splitter = new LineSplitter((text, lineNo, bytes, offset) => this.line(text, lineNo, bytes, offset), maxLength);
  }

  get stats() {
    return this.splitter.stats;
  }

  /** Reads chunks until there is a next event; false at the end of the input. */
  async load(): Promise<boolean> {
    while (this.pos >= this.batch.length) {
      if (this.ended) return false;
      this.batch = [];
      this.pos = 0;
      const { value, done } = await this.chunks.next();
      if (done) {
        this.splitter.end();
        this.ended = true;
        await this.done();
      } else {
        this.splitter.write(value);
      }
    }
    return true;
  }

  protected line(text: string, lineNo: number, bytes?: Uint8Array, offset?: number): void {
    const { parser, now } = this.options;
    const parsed = parser.parse(text, true, bytes, offset);
    if (parsed === null) return;
    const banner = parsed.banner;
    let time: number;
    if (banner.timeFormat === TimeFormat.Bsd) {
      time = this.yearless(banner);
    } else {
      const own = this.clock.time(banner);
      if (own === null) this.untimed++;
      time = own ?? now;
    }
    this.batch.push(itemOf(parsed, Math.min(time, now) /* never later than now */, this.name, lineNo, text));
  }

  /**
   * Like syslog readers: the first yearless line is in the year that puts it at most a day after the file
   * was last written (--year overrides), and each jump back of months means New Year was crossed.
   */
  private yearless(banner: Banner): number {
    const { now, timezone } = this.options;
    if (this.year === undefined) {
      this.year = this.options.year ?? new Date(this.reference).getFullYear();
      if (this.options.year === undefined && bannerTime(banner, { now, year: this.year, timezone })! > this.reference + DAY_MS) {
        this.year--;
      }
    }
    let time = this.clock.time(banner, this.year)!;
    if (time < this.previous - NEW_YEAR_JUMP_MS) {
      this.year++;
      time = this.clock.time(banner, this.year)!;
    }
    this.previous = time;
    return time;
  }
}

/**
 * The journal's entries as a replay input: `journalctl -o json` (no shell), each entry routed by its own
 * identifier and timed by its own realtime stamp, as the daemon reads them.
 */
class JournalEvents extends InputEvents {
  /** As in the daemon: an entry counts only when journald says the service's own daemon wrote it */
  private readonly senders: SenderCheck;

  constructor(
    reader: JournalReader,
    options: ReplayOptions,
  ) {
    super(reader.name, reader.output, options.now, options, JOURNAL_JSON_LINE);
    this.done = () => reader.finished;
    this.senders = new SenderCheck(options.parser.rules, options.log ?? plainLogger('warn'));
  }

  protected override line(text: string): void {
    const entry = entryLine(text, this.options.now);
    if (entry === null || entry.journal === null) return;
    const j = entry.journal;
    const record = this.options.parser.parseRecord({ tag: j.identifier, pid: j.pid, host: j.host, message: entry.text, time: j.time });
    const parsed = record && this.senders.admit(record, j);
    if (parsed === null) return;
    this.batch.push(itemOf(parsed, Math.min(j.time, this.options.now), 'journal', null, entry.text));
  }
}

export async function replay(files: string[], options: ReplayOptions): Promise<ReplayResult> {
  const inputs: InputEvents[] = [];
  let failedFiles = 0;
  const loadOrReport = async (input: InputEvents) => {
    try {
      return await input.load();
    } catch (error) {
      failedFiles++;
      options.onReadError?.(input.name, error as Error);
      return false;
    }
  };
  for (const file of files) {
    try {
      const stream = file === '-' ? process.stdin : await openLogFile(file);
      const reference = file === '-' ? options.now : Math.min(options.now, (await stat(file)).mtimeMs);
      inputs.push(new InputEvents(file, stream, reference, options));
    } catch (error) {
      failedFiles++;
      options.onReadError?.(file, error as Error);
    }
  }

  if (options.journal) {
    try {
      inputs.push(new JournalEvents(readJournal(options.journal), options));
    } catch (error) {
      failedFiles++;
      options.onReadError?.('journal', error as Error);
    }
  }

  const state = newPolicyState(options.whitelist);
  for (const entry of options.blacklist) markBlocked(state, entry.net, entry.time, Infinity);
  const blocks: AuditBlock[] = [];
  // the dry run's store is the policy state in memory: no database is opened, none changes
  const engine = new Engine({
    policy: options.policy,
    state,
    evidence: linesInWindows,
    now: () => options.now,
    onBlock: (decision) => blocks.push({ decision }),
    resolver: options.resolver,
  });
  const addresses = new Set<string>();
  let attacks = 0;
  const progress = () => {
    let bytes = 0;
    let lines = 0;
    for (const input of inputs) {
      bytes += input.stats.bytes;
      lines += input.stats.lines;
    }
    options.onProgress?.(bytes, lines);
  };

  // merge in time order: always the input whose next event is earliest (ties: the earlier input)
  const open: InputEvents[] = [];
  for (const input of inputs) if (await loadOrReport(input)) open.push(input);
  while (open.length > 0) {
    let best = 0;
    for (let i = 1; i < open.length; i++) {
      if (open[i].batch[open[i].pos].time < open[best].batch[open[best].pos].time) best = i;
    }
    const input = open[best];
    const item = input.batch[input.pos++];
    if (item.event === 'attack' && item.parsed.addr !== '') {
      attacks += item.parsed.count;
      addresses.add(item.parsed.addr);
    }
    engine.handle(item);
    if (input.pos >= input.batch.length) {
      if (!(await loadOrReport(input))) open.splice(best, 1);
      progress();
    }
  }
  await engine.settle();
  engine.finish();
  await engine.settle(); // lines held to the end may name hosts too
  blocks.sort((a, b) => a.decision.at - b.decision.at);
  const lines = inputs.reduce((n, input) => n + input.stats.lines, 0);
  const untimed = inputs.filter((i) => i.untimed > 0).map((i) => ({ name: i.name, lines: i.untimed }));
  return { blocks, lines, attacks, addresses: addresses.size, failedFiles, stats: engine.stats, untimed };
}
