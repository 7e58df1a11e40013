// The real-world shapes logwarden covers, kept as log files written for this project: test/corpus/DAEMON/
// SOURCE.log, grouped by daemon and version. Every log line is preceded by an annotation of what it must give:
//   #> attack ADDR [service=N]   an attack attributed to ADDR (and to service N)
//   #> login ADDR                a successful login from ADDR
//   #> connect ADDR              a line that only tells which address its session belongs to
//   #> none                      no event at all
//   #> miss ADDR REASON          a known miss: an attack logwarden does not recognise yet (counted against recall)
// Other `#` lines are comments. Each file is read as a log: its lines go through attempt correlation in order,
// so a line that names its client by host name or by session only is attributed to the address its connection
// gives, as the engine does. The test fails on any line that does not give what its annotation says, and
// prints recall per daemon (annotated attacks found / annotated attacks).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AttemptCorrelator, type AttemptEvent } from '../../src/correlate/attempts.js';
import { connectionOf } from '../../src/engine/engine.js';
import { attributed, type ParsedEvent, Parser } from '../../src/parse/parser.js';
import { loadRules } from '../../src/parse/rules.js';

const parser = new Parser(loadRules());
const here = fileURLToPath(new URL('.', import.meta.url));

interface Case {
  file: string;
  lineNo: number;
  line: string;
  expect: 'attack' | 'login' | 'connect' | 'none' | 'miss';
  addr: string | null;
  service: number | null;
}

export function readCorpus(path: string): Case[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const cases: Case[] = [];
  let pending: Omit<Case, 'line' | 'lineNo'> | null = null;
  lines.forEach((text, i) => {
    if (text.startsWith('#>')) {
      if (pending) throw new Error(`${path}:${i + 1}: two annotations in a row`);
      const [kind, addr, ...rest] = text.slice(2).trim().split(/\s+/);
      if (!['attack', 'login', 'connect', 'none', 'miss'].includes(kind)) throw new Error(`${path}:${i + 1}: unknown annotation ${kind}`);
      if (kind !== 'none' && !addr) throw new Error(`${path}:${i + 1}: ${kind} needs an address`);
      const service = rest.map((r) => /^service=(\d+)$/.exec(r)).find(Boolean);
      pending = { file: path, expect: kind as Case['expect'], addr: addr ?? null, service: service ? Number(service[1]) : null };
      return;
    }
    if (text.startsWith('#') || text === '') return;
    if (!pending) throw new Error(`${path}:${i + 1}: log line without an annotation`);
    cases.push({ ...pending, line: text, lineNo: i + 1 });
    pending = null;
  });
  return cases;
}

interface Seen extends AttemptEvent {
  parsed: ParsedEvent;
  index: number;
}

/** What each line of a file gives, its address resolved by its connection's other lines. */
function outcomes(cases: Case[]): (ParsedEvent | null)[] {
  const results: (ParsedEvent | null)[] = cases.map(() => null);
  const correlator = new AttemptCorrelator<Seen, null>(
    (event, _disposition, resolvedBy) => {
      results[event.index] = attributed(event.parsed, resolvedBy?.parsed);
    },
    null,
  );
  cases.forEach((c, index) => {
    const parsed = parser.parse(c.line);
    if (parsed === null) return;
    results[index] = parsed;
    const connection = connectionOf(parsed);
    if (connection === null) return;
    const seen = { event: parsed.event, correlation: parsed.correlation, address: parsed.addr, hostname: parsed.kind === null, time: index, connection, parsed, index };
    correlator.push(seen);
  });
  correlator.flush();
  return results;
}

const daemons = readdirSync(here).filter((d) => statSync(join(here, d)).isDirectory()).sort();
const recall = new Map<string, { attacks: number; found: number }>();

describe.each(daemons)('%s', (daemon) => {
  const files = readdirSync(join(here, daemon)).filter((f) => f.endsWith('.log')).sort();
  describe.each(files)('%s', (file) => {
    const cases = readCorpus(join(here, daemon, file));
    const r = recall.get(daemon) ?? { attacks: 0, found: 0 };
    recall.set(daemon, r);
    for (const c of cases) if (c.expect === 'attack' || c.expect === 'miss') r.attacks++;
    for (const c of cases) if (c.expect === 'attack') r.found++;
    const results = outcomes(cases);
    it.each(cases.map((c, i) => [`${file}:${c.lineNo}`, c, i] as const))('%s', (_where, c, i) => {
      const event = results[i];
      if (c.expect === 'none') {
        expect(event, `gave ${event?.event} ${event?.addr} by ${event?.rule}`).toBeNull();
      } else if (c.expect === 'miss') {
        // a known miss that is now found must be re-annotated, so the recall reported stays true
        expect(event?.event === 'attack' && event.addr === c.addr, 'now recognised: annotate it as attack').toBe(false);
      } else {
        expect(event, 'no event').not.toBeNull();
        expect(event!.event).toBe(c.expect);
        expect(event!.addr).toBe(c.addr);
        if (c.service !== null) expect(event!.service).toBe(c.service);
      }
    });
  });
});

afterAll(() => {
  const rows = [...recall].map(([d, r]) => `  ${d.padEnd(14)} ${String(r.found).padStart(4)} / ${String(r.attacks).padEnd(4)} ${r.attacks ? ((100 * r.found) / r.attacks).toFixed(0) : '-'}%`);
  process.stdout.write(`recall on test/corpus (found / annotated attacks):\n${rows.join('\n')}\n`);
});
