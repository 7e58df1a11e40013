// The comparison between logwarden's parser and sshg-parser's golden output, shared by parity.test.ts
// (which passes the TypeScript sources) and report.mjs (which passes the compiled dist/ modules).
// Plain ESM, no dependencies.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PARITY_DIR = dirname(fileURLToPath(import.meta.url));

/** Difference kinds, computed per corpus line where the two outputs differ. */
export const DIFFERENCE_KINDS = {
  'sshguard-misses': 'logwarden reports an attack, sshg-parser prints nothing',
  'sshguard-extra': 'sshg-parser prints an attack, logwarden reports none',
  'address-spelling': 'same attacks, but sshg-parser writes the address differently (logwarden: canonical form)',
  count: 'same attack, printed a different number of times',
  other: 'both report something, and it differs',
};

/** Matcher keys of a difference class; every key given must hold (lists: any element). */
const MATCHER_KEYS = new Set(['difference', 'rule', 'origin', 'source', 'banner', 'variant', 'line', 'previousLine', 'theirs', 'ours']);

export function loadFiles(dir = PARITY_DIR) {
  const corpusText = readFileSync(join(dir, 'corpus.log'), 'utf8');
  const corpus = corpusText.split('\n');
  if (corpus.at(-1) === '') corpus.pop();
  const meta = JSON.parse(readFileSync(join(dir, 'corpus.meta.json'), 'utf8'));
  const golden = parseGolden(readFileSync(join(dir, 'sshg-parser.golden'), 'utf8'));
  const classes = JSON.parse(readFileSync(join(dir, 'differences.json'), 'utf8'));
  return { corpusText, corpus, meta, golden, classes };
}

/** `# key: value` headers and `LINE<TAB>OUTPUT...` records. */
export function parseGolden(text) {
  const headers = {};
  const lines = new Map();
  for (const row of text.split('\n')) {
    if (row === '') continue;
    if (row.startsWith('# ')) {
      const m = /^# ([\w-]+): (.*)$/.exec(row);
      if (m) headers[m[1]] = m[2];
      continue;
    }
    const [lineNumber, ...outputs] = row.split('\t');
    lines.set(Number(lineNumber), outputs);
  }
  return { headers, lines };
}

/** What `logwarden parse --format sshguard` prints for one line (attacks only, hostnames never resolved). */
export function ourOutputs(parser, line) {
  const event = parser.parse(line);
  if (event === null || event.event !== 'attack' || event.kind === null) return { event, outputs: [] };
  return { event, outputs: new Array(event.count).fill(`${event.service} ${event.addr} ${event.kind} ${event.danger}`) };
}

function classify(ours, theirs, canonicalIP) {
  if (theirs.length === 0) return 'sshguard-misses';
  if (ours.length === 0) return 'sshguard-extra';
  if (ours.length === theirs.length) {
    const same = ours.every((o, i) => {
      const [service, addr, kind, danger] = theirs[i].split(' ');
      const canonical = canonicalIP(addr ?? '');
      return canonical !== null && `${service} ${canonical.addr} ${canonical.kind} ${danger}` === o;
    });
    if (same) return 'address-spelling';
  }
  if (new Set(ours).size === 1 && new Set(theirs).size === 1 && ours[0] === theirs[0]) return 'count';
  return 'other';
}

function listHas(value, wanted) {
  return (Array.isArray(wanted) ? wanted : [wanted]).includes(value);
}

function matches(when, d) {
  for (const [key, wanted] of Object.entries(when)) {
    switch (key) {
      case 'difference':
      case 'rule':
      case 'origin':
      case 'source':
      case 'banner':
      case 'variant':
        if (!listHas(d[key], wanted)) return false;
        break;
      case 'line':
        if (!new RegExp(wanted).test(d.text)) return false;
        break;
      case 'previousLine':
        if (!new RegExp(wanted).test(d.previousText)) return false;
        break;
      case 'theirs':
        if (!new RegExp(wanted).test(d.theirs.join('\n'))) return false;
        break;
      case 'ours':
        if (!new RegExp(wanted).test(d.ours.join('\n'))) return false;
        break;
      default:
        throw new Error(`differences.json: unknown matcher key ${key}`);
    }
  }
  return true;
}

export function validateClasses(classes) {
  const problems = [];
  const ids = new Set();
  if (!Array.isArray(classes)) return ['differences.json: expected a list'];
  for (const c of classes) {
    if (typeof c.id !== 'string' || ids.has(c.id)) problems.push(`differences.json: missing or repeated id ${c.id}`);
    ids.add(c.id);
    if (typeof c.reason !== 'string' || c.reason.length === 0) problems.push(`differences.json: ${c.id}: no reason`);
    if (typeof c.when !== 'object' || c.when === null || Object.keys(c.when).length === 0) {
      problems.push(`differences.json: ${c.id}: no matcher (when)`);
    } else {
      for (const key of Object.keys(c.when)) if (!MATCHER_KEYS.has(key)) problems.push(`differences.json: ${c.id}: unknown matcher key ${key}`);
      if (c.when.difference !== undefined && ![c.when.difference].flat().every((k) => k in DIFFERENCE_KINDS)) {
        problems.push(`differences.json: ${c.id}: unknown difference kind ${c.when.difference}`);
      }
    }
  }
  return problems;
}

/**
 * Compares every corpus line. Returns the differences (each with the id of the first class whose matcher
 * holds, or null), per-class lists, the unexplained differences and the stale classes (matching nothing).
 * `parser` is a Parser, `rules` the loaded rules, `canonicalIP` address.ts's function.
 */
export function compare({ corpus, meta, golden, classes, parser, rules, canonicalIP }) {
  const origins = new Map(rules.map((r) => [r.id, r.origin]));
  const differences = [];
  corpus.forEach((text, index) => {
    const lineNumber = index + 1;
    const { event, outputs: ours } = ourOutputs(parser, text);
    const theirs = golden.lines.get(lineNumber) ?? [];
    if (ours.length === theirs.length && ours.every((o, i) => o === theirs[i])) return;
    const m = meta[index] ?? {};
    const rule = m.rule ?? (event && event.event === 'attack' ? event.rule : null);
    differences.push({
      line: lineNumber,
      text,
      previousText: index > 0 ? corpus[index - 1] : '',
      ours,
      theirs,
      difference: classify(ours, theirs, canonicalIP),
      rule,
      ourRule: event?.rule ?? null,
      origin: origins.get(rule) ?? null,
      source: m.source ?? null,
      banner: m.banner ?? null,
      variant: m.variant ?? null,
      class: null,
    });
  });
  const perClass = new Map(classes.map((c) => [c.id, []]));
  for (const d of differences) {
    const c = classes.find((k) => matches(k.when, d));
    if (c) {
      d.class = c.id;
      perClass.get(c.id).push(d);
    }
  }
  return {
    differences,
    perClass,
    unexplained: differences.filter((d) => d.class === null),
    stale: classes.filter((c) => perClass.get(c.id).length === 0).map((c) => c.id),
  };
}

/** One readable line for a difference (used by the test's failure message and the report). */
export function describe(d) {
  const fmt = (list) => (list.length === 0 ? '(nothing)' : list.join(' + '));
  return `line ${d.line} [${d.difference}; rule ${d.rule ?? '-'}; ${d.banner}/${d.variant}]: ${d.text}\n    logwarden: ${fmt(d.ours)}\n    sshguard:  ${fmt(d.theirs)}`;
}
