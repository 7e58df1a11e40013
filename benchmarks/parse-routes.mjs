#!/usr/bin/env node
// What the parser costs a line, per program tag: the corpus's lines grouped by tag, each group parsed in a loop
// of its own, in one process (the third of three passes, once the code is compiled). Lines are given as text,
// so banners are read from the text, not from the bytes as `parse` reads most of them.
//
//   node benchmarks/parse-routes.mjs [--file F] [--top N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Banner, parseBanner } from '../dist/parse/banner.js';
import { Parser } from '../dist/parse/parser.js';
import { ruleSetFromArgs } from '../dist/config/rules.js';
import { DATA, ensureInput, parseArgs } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), { file: join(DATA, 'mixed-1m.log'), top: 25 },
  'usage: node benchmarks/parse-routes.mjs [--file F] [--top N]');
const file = ensureInput(opts.file);
const parser = new Parser(ruleSetFromArgs({}).rules);
const scratch = new Banner('');
const groups = new Map();
const text = readFileSync(file, 'latin1');
// the newline that ends the last line starts no line of its own
for (const line of (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n')) {
  const tag = parseBanner(line, scratch).tag ?? '(no tag)';
  let group = groups.get(tag);
  if (group === undefined) groups.set(tag, (group = []));
  group.push(line);
}
let rows = [];
for (let pass = 0; pass < 3; pass++) {
  rows = [];
  for (const [tag, lines] of groups) {
    const started = process.hrtime.bigint();
    let events = 0;
    for (const line of lines) if (parser.parse(line, false) !== null) events++;
    rows.push({ tag, lines: lines.length, events, ms: Number(process.hrtime.bigint() - started) / 1e6 });
  }
}
rows.sort((a, b) => b.ms - a.ms);
const total = rows.reduce((sum, r) => sum + r.ms, 0);
console.log(`${file}: ${rows.reduce((n, r) => n + r.lines, 0)} lines, ${rows.length} tags, ${total.toFixed(0)} ms`);
console.log('| tag | lines | events | ms | ns a line |\n|---|---:|---:|---:|---:|');
for (const r of rows.slice(0, opts.top)) {
  console.log(`| ${r.tag} | ${r.lines} | ${r.events} | ${r.ms.toFixed(1)} | ${((r.ms * 1e6) / r.lines).toFixed(0)} |`);
}
