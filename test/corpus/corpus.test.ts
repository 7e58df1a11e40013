// The real-world shapes logwarden covers, kept as log files written for this project: test/corpus/DAEMON/
// SOURCE.log, grouped by daemon and version. Every log line is preceded by an annotation of what it must give:
//   #> attack ADDR [service=N]   an attack attributed to ADDR (and to service N)
//   #> login ADDR                a successful login from ADDR
//   #> none                      no event at all
//   #> miss ADDR REASON          a known miss: an attack logwarden does not recognise yet (counted against recall)
// Other `#` lines are comments. The test fails on any line that does not give what its annotation says, and
// prints recall per daemon (annotated attacks found / annotated attacks).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Parser } from '../../src/parse/parser.js';
import { loadRules } from '../../src/parse/rules.js';

const parser = new Parser(loadRules());
const here = fileURLToPath(new URL('.', import.meta.url));

interface Case {
  file: string;
  lineNo: number;
  line: string;
  expect: 'attack' | 'login' | 'none' | 'miss';
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
      if (!['attack', 'login', 'none', 'miss'].includes(kind)) throw new Error(`${path}:${i + 1}: unknown annotation ${kind}`);
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
    it.each(cases.map((c) => [`${file}:${c.lineNo}`, c] as const))('%s', (_where, c) => {
      const event = parser.parse(c.line);
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
