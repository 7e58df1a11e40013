/**
 * `rules test` (and the parsing part of `bench`): lines read, matched and missed, hits per rule as the parser
 * counts them (the same counts as `parse --stats`), what each rule costs, and a sample of the missed lines that
 * contain an address, the likely gaps in the rules.
 */
import { openLogFile, readLines } from '../input/lines.js';
import { canonicalIP } from '../parse/address.js';
import { parseBanner } from '../parse/banner.js';
import type { Parser } from '../parse/parser.js';
import { type RuleCost, RuleCostMeter } from './rule-cost.js';

export interface MissedLine {
  file: string;
  line: number;
  text: string;
}

export interface RuleTestResult {
  files: string[];
  /** Files that could not be read, with why */
  failed: { file: string; error: string }[];
  lines: number;
  bytes: number;
  /** Lines that gave an event */
  matched: number;
  missed: number;
  /** Events (a `message repeated N times` line counts N), by rule */
  hits: Map<string, number>;
  /** Seconds the parser itself took over all lines (without reading and measuring) */
  parseSeconds: number;
  costs: RuleCost[];
  /** Missed lines with an address in them, and a sample of them (a few per program) */
  missedWithAddress: number;
  missedByProgram: Map<string, number>;
  missedSample: MissedLine[];
}

export interface RuleTestOptions {
  /** Sample missed lines that contain an address */
  missed: boolean;
  sampleSize?: number;
  perProgram?: number;
}

/** Addresses as they appear in text; a candidate counts only when it parses as exactly one address. */
const CANDIDATE = /(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}/g;

function hasAddress(text: string): boolean {
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
    if (m[0].length > 0 && canonicalIP(m[0]) !== null) return true;
    if (m[0].length === 0) CANDIDATE.lastIndex++;
  }
  return false;
}

const BATCH = 4096;

export async function testRules(parser: Parser, files: string[], options: RuleTestOptions): Promise<RuleTestResult> {
  const sampleSize = options.sampleSize ?? 20;
  const perProgram = options.perProgram ?? 3;
  const meter = new RuleCostMeter(parser);
  const result: RuleTestResult = {
    files,
    failed: [],
    lines: 0,
    bytes: 0,
    matched: 0,
    missed: 0,
    hits: new Map(),
    parseSeconds: 0,
    costs: [],
    missedWithAddress: 0,
    missedByProgram: new Map(),
    missedSample: [],
  };
  let parseNs = 0n;
  for (const file of files) {
    const batch: string[] = [];
    const numbers: number[] = [];
    const run = () => {
      const started = process.hrtime.bigint();
      const matched = batch.map((text) => {
        const event = parser.parse(text, false);
        if (event === null) return false;
        result.hits.set(event.rule, (result.hits.get(event.rule) ?? 0) + event.count);
        return true;
      });
      parseNs += process.hrtime.bigint() - started;
      for (let i = 0; i < batch.length; i++) {
        const text = batch[i];
        meter.add(text);
        if (matched[i]) {
          result.matched++;
          continue;
        }
        result.missed++;
        if (options.missed && hasAddress(text)) missedLine(result, file, numbers[i], text, sampleSize, perProgram);
      }
      batch.length = 0;
      numbers.length = 0;
    };
    try {
      const stream = file === '-' ? process.stdin : await openLogFile(file);
      const read = await readLines(stream, {
        line(text, n) {
          batch.push(text);
          numbers.push(n);
          if (batch.length >= BATCH) run();
        },
      });
      run();
      result.lines += read.lines;
      result.bytes += read.bytes;
    } catch (error) {
      run();
      result.failed.push({ file, error: (error as Error).message });
    }
  }
  result.parseSeconds = Number(parseNs) / 1e9;
  result.costs = meter.result();
  return result;
}

function missedLine(result: RuleTestResult, file: string, line: number, text: string, sampleSize: number, perProgram: number): void {
  result.missedWithAddress++;
  const program = parseBanner(text).tag ?? '(no program)';
  const seen = result.missedByProgram.get(program) ?? 0;
  result.missedByProgram.set(program, seen + 1);
  if (seen < perProgram && result.missedSample.length < sampleSize) result.missedSample.push({ file, line, text });
}
