#!/usr/bin/env node
// The parse pipeline stopped after one stage, for counting what each stage costs (benchmarks/instructions.mjs
// --stage): `split` reads and cuts the lines, `banner` also reads each line's banner, `parse` also runs the rules.
//
//   node benchmarks/parse-stages.mjs split|banner|parse FILE
import { openLogFile, readLines } from '../dist/input/lines.js';
import { Banner, parseBanner } from '../dist/parse/banner.js';
import { Parser } from '../dist/parse/parser.js';
import { ruleSetFromArgs } from '../dist/config/rules.js';

const [stage, file] = process.argv.slice(2);
const parser = new Parser(ruleSetFromArgs({}).rules);
const scratch = new Banner('');
let events = 0;
const handlers = {
  split: () => {},
  banner: (line, _lineNumber, bytes, offset) => {
    if (parseBanner(line, scratch, bytes, offset).tag !== null) events++;
  },
  parse: (line, _lineNumber, bytes, offset) => {
    if (parser.parse(line, false, bytes, offset) !== null) events++;
  },
};
const handler = handlers[stage];
if (handler === undefined || file === undefined) {
  process.stderr.write('usage: node benchmarks/parse-stages.mjs split|banner|parse FILE\n');
  process.exit(2);
}
const read = await readLines(await openLogFile(file), { line: handler });
process.stdout.write(`${read.lines} lines, ${events} ${stage === 'banner' ? 'tags' : 'events'}\n`);
