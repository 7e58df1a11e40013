/**
 * Replays old logs through parser → correlation → policy with the logs' own timestamps: the dry run
 * behind `logwarden audit`. Nothing outside the process changes: the store is in memory.
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Engine, connectionOf, type Item } from '../engine/engine.js';
import { openLogFile, readLines } from '../input/lines.js';
import { TimeFormat } from '../parse/banner.js';
import type { Parser } from '../parse/parser.js';
import { bannerTime } from '../parse/time.js';
import type { BlacklistEntry } from '../policy/blacklist.js';
import { type BlockDecision, markBlocked, newPolicyState, type PolicyConfig } from '../policy/policy.js';
import type { Whitelist } from '../policy/whitelist.js';
import { Store } from '../store/store.js';

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
  onProgress?: (bytes: number, lines: number) => void;
  onReadError?: (file: string, error: Error) => void;
}

export interface AuditBlock {
  decision: BlockDecision;
  trigger: Item;
}

export interface ReplayResult {
  blocks: AuditBlock[];
  lines: number;
  attacks: number;
  addresses: number;
  failedFiles: number;
  stats: Engine['stats'];
}

const DAY_MS = 86_400_000;
/** A yearless timestamp this far before the previous one means the log crossed New Year. */
const NEW_YEAR_JUMP_MS = 180 * DAY_MS;

interface Pending {
  item: Item;
  /** For yearless timestamps: how many New Years the file crossed before this line */
  rollover: number;
  order: number;
}

/** Reads one input's events; yearless times are settled once the whole file is known. */
async function readEvents(
  name: string,
  stream: Readable,
  reference: number,
  options: ReplayOptions,
  sink: Pending[],
  counters: { lines: number; bytes: number },
): Promise<void> {
  const { parser, now, timezone } = options;
  const pending: Pending[] = [];
  let rollover = 0;
  let previousNominal = -Infinity;
  const nominalYear = options.year ?? new Date(reference).getFullYear();
  const read = await readLines(stream, {
    line(text, lineNo) {
      const parsed = parser.parse(text);
      if (parsed === null) return;
      const banner = parsed.banner;
      let time: number;
      if (banner.timeFormat === TimeFormat.Bsd) {
        const nominal = bannerTime(banner, { now, year: nominalYear, timezone })!;
        if (nominal < previousNominal - NEW_YEAR_JUMP_MS) rollover++;
        previousNominal = nominal;
        time = nominal;
      } else {
        time = bannerTime(banner, { now, timezone }) ?? now;
      }
      pending.push({
        item: {
          parsed,
          event: parsed.event,
          rule: parsed.rule,
          time,
          connection: connectionOf(parsed),
          source: name,
          lineNo,
          line: text,
        },
        rollover: banner.timeFormat === TimeFormat.Bsd ? rollover : -1,
        order: sink.length + pending.length,
      });
    },
    chunkDone() {
      options.onProgress?.(counters.bytes, counters.lines);
    },
  });
  counters.lines += read.lines;
  counters.bytes += read.bytes;
  // Yearless times: the first line is in the reference's year unless --year says otherwise, moved back a
  // year when that puts the file's last line more than a day after the file was last written.
  const bsd = pending.filter((p) => p.rollover >= 0);
  if (bsd.length > 0) {
    let base = options.year ?? nominalYear - rollover;
    const last = bsd[bsd.length - 1];
    const settle = (p: Pending, y: number) => bannerTime(p.item.parsed.banner, { now, year: y + p.rollover, timezone })!;
    if (options.year === undefined && settle(last, base) > reference + DAY_MS) base--;
    for (const p of bsd) p.item.time = settle(p, base);
  }
  for (const p of pending) {
    if (p.item.time > now) p.item.time = now; // never later than now
    sink.push(p);
  }
}

export async function replay(files: string[], options: ReplayOptions): Promise<ReplayResult> {
  const pending: Pending[] = [];
  const counters = { lines: 0, bytes: 0 };
  let failedFiles = 0;
  for (const file of files) {
    try {
      const stream = file === '-' ? process.stdin : await openLogFile(file);
      const reference = file === '-' ? options.now : Math.min(options.now, (await stat(file)).mtimeMs);
      await readEvents(file, stream, reference, options, pending, counters);
    } catch (error) {
      failedFiles++;
      options.onReadError?.(file, error as Error);
    }
  }
  // several files merged in time order (stable: same time keeps file and line order)
  pending.sort((a, b) => a.item.time - b.item.time || a.order - b.order);

  const state = newPolicyState(options.whitelist);
  for (const entry of options.blacklist) markBlocked(state, entry.net, entry.time, Infinity);
  const store = Store.open(':memory:');
  const blocks: AuditBlock[] = [];
  const engine = new Engine({
    policy: options.policy,
    state,
    store,
    now: () => options.now,
    onBlock: (decision, trigger) => blocks.push({ decision, trigger }),
  });
  const addresses = new Set<string>();
  let attacks = 0;
  for (const { item } of pending) {
    if (item.event === 'attack') {
      attacks += item.parsed.count;
      addresses.add(item.parsed.addr);
    }
    engine.handle(item);
  }
  engine.finish();
  store.close();
  blocks.sort((a, b) => a.decision.at - b.decision.at);
  return { blocks, lines: counters.lines, attacks, addresses: addresses.size, failedFiles, stats: engine.stats };
}
