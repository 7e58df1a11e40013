// No rule may cost more than a millisecond on any line up to the 16 KiB cap. Regular expressions here run on a
// backtracking engine, and log lines are attacker text: each pattern is pumped with long runs of the parts it
// repeats (every chunk of every example message, and every literal of the pattern), in place and as near-misses
// (the same line with its end cut off or changed, so that the match fails only at the last moment), and the text
// between two fields of the pattern is repeated inside each field.
import { describe, expect, it } from 'vitest';
import { parseBanner } from '../../src/parse/banner.js';
import { loadRules, type CompiledRule } from '../../src/parse/rules.js';

const rules = loadRules();
const CAP = 16_000;
const BUDGET_MS = 1;

/** The message of an example line (what the rule's regex sees). */
function messageOf(line: string): string {
  return parseBanner(line).msg;
}

/** Chunks of a message: runs of word characters, runs of blanks, and single other characters, with pairs. */
function chunks(msg: string): string[] {
  const parts = msg.match(/\w+|\s+|[^\w\s]/g) ?? [];
  const out = new Set<string>(parts);
  for (let i = 0; i + 1 < parts.length; i++) out.add(parts[i] + parts[i + 1]);
  for (let i = 0; i + 2 < parts.length; i++) out.add(parts[i] + parts[i + 1] + parts[i + 2]);
  return [...out];
}

/** Literal runs of a pattern's source (the text between its quantified and class parts). */
export function literals(source: string): string[] {
  const out: string[] = [];
  let current = '';
  const cut = () => {
    if (current.trim().length > 0) out.push(current);
    current = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[++i];
      if (/[dDwWsSbBk0-9pPu x]/.test(next)) cut();
      else current += next;
    } else if (c === '[') {
      cut();
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
    } else if (c === '(') {
      cut();
      if (source[i + 1] === '?') i = source.indexOf(source[i + 2] === '<' && /\w/.test(source[i + 3]) ? '>' : source[i + 2], i + 2);
    } else if ('*+?{'.includes(c)) {
      current = current.slice(0, -1); // the quantified character is not a fixed part of the text
      cut();
      if (c === '{') i = source.indexOf('}', i);
    } else if (').|^$'.includes(c)) {
      cut();
    } else {
      current += c;
    }
  }
  cut();
  return [...new Set(out)];
}

/**
 * The pattern with every free field (`.*`, `\S{1,64}`, `[^ ]+`, ... and the named groups) made a named group
 * of its own, so an example line shows where each field and the glue between fields are.
 */
function withFields(source: string): RegExp {
  let out = '';
  let n = 0;
  for (let i = 0; i < source.length; ) {
    let atom = '';
    if (source[i] === '\\') atom = source.slice(i, i + 2);
    else if (source[i] === '[') {
      let j = i + 1;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      atom = source.slice(i, j + 1);
    } else atom = source[i];
    const free = atom === '.' || /^\\[SDW]$/.test(atom) || atom.startsWith('[^');
    const q = /^(?:[*+]|\{\d*,\d*\})\??/.exec(source.slice(i + atom.length));
    if (free && q) {
      out += `(?<f${n++}>${atom}${q[0]})`;
      i += atom.length + q[0].length;
    } else {
      out += atom;
      i += atom.length;
    }
  }
  return new RegExp(out.replace(/\(\?<(user|addr|service)>/g, (_m, name) => `(?<${name}>`), 'sd');
}

/** Spans of an example's fields (start, end), in order. */
function fieldSpans(rule: CompiledRule, msg: string): [number, number][] {
  const m = withFields(rule.regex.source).exec(msg);
  const spans = Object.values(m?.indices?.groups ?? {}).filter((s): s is [number, number] => s !== undefined);
  return spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

function* pumped(rule: CompiledRule): Generator<[string, string]> {
  const messages = [...rule.examples.match.map((e) => messageOf(e.line)), ...rule.examples.ignore.slice(0, 3).map(messageOf)];
  const units = literals(rule.regex.source);
  for (const msg of messages) {
    // each chunk of the message repeated where it stands
    for (const chunk of chunks(msg)) {
      const at = msg.indexOf(chunk);
      const run = chunk.repeat(Math.max(1, Math.floor((CAP - msg.length) / chunk.length)));
      const head = msg.slice(0, at);
      const tail = msg.slice(at);
      yield [`${JSON.stringify(chunk)} pumped in place`, head + run + tail];
      yield [`${JSON.stringify(chunk)} pumped, end cut`, head + run + tail.slice(0, -1)];
      yield [`${JSON.stringify(chunk)} pumped, end changed`, `${head}${run}${tail.slice(0, -1)}\u0001`];
    }
    // the text between two fields, and every literal of the pattern, repeated inside each field: what makes two
    // fields trade characters, or one field try every repetition of its delimiter
    const spans = fieldSpans(rule, msg);
    const glue = spans.slice(1).map((s, k) => msg.slice(spans[k][1], s[0])).filter((g) => g.length > 0);
    const where = new Set<number>(spans.flat());
    for (const p of rule.startsWith ?? []) if (msg.startsWith(p)) where.add(p.length);
    for (const unit of new Set([...units, ...glue])) {
      const run = unit.repeat(Math.max(1, Math.floor((CAP - msg.length) / unit.length)));
      for (const at of where) {
        const head = msg.slice(0, at);
        const tail = msg.slice(at);
        yield [`${JSON.stringify(unit)} pumped at ${at}`, head + run + tail];
        yield [`${JSON.stringify(unit)} pumped at ${at}, end cut`, head + run + tail.slice(0, -1)];
      }
    }
  }
}

function cost(rule: CompiledRule, msg: string): number {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    rule.regex.lastIndex = 0;
    rule.regex.exec(msg);
    const took = performance.now() - started;
    best = Math.min(best, took);
    if (took < BUDGET_MS) break; // a run under budget settles it; slow runs are retried to rule out noise
  }
  return best;
}

describe('every rule stays under a millisecond on pumped 16 KiB lines', () => {
  it.each(rules.map((r) => [r.id, r] as const))('%s', (_id, rule) => {
    const slow: string[] = [];
    for (const [what, msg] of pumped(rule)) {
      const took = cost(rule, msg);
      if (took >= BUDGET_MS) slow.push(`${what}: ${took.toFixed(2)} ms`);
    }
    expect(slow).toEqual([]);
  });
});

describe('rule patterns', () => {
  it('have no nested quantifiers', () => {
    for (const rule of rules) {
      // a quantified group whose body itself contains an unbounded quantifier
      expect(rule.regex.source, rule.id).not.toMatch(/\((?:[^()]|\\\(|\\\))*[+*](?:[^()]|\\\(|\\\))*\)[+*{]/);
    }
  });
});
