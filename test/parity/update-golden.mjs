#!/usr/bin/env node
// Records sshg-parser's output on test/parity/corpus.log into test/parity/sshg-parser.golden, then
// regenerates docs/parity.md (report.mjs).
//
// sshg-parser keeps state between lines (sshguard's state-leak defect), so it runs as ONE process over
// the whole corpus, as users run it. To attribute each output to its input line it runs twice on the same
// input: with `-a` (echoes every line, `* ` marking attacks) and without (one `SERVICE ADDR KIND DANGER`
// line per attack, in order); the k-th marked line owns the k-th output line. Both runs must agree
// (same echo, as many marks as outputs), otherwise nothing is written.
//
// sshg-parser: $SSHG_PARSER, else /tmp/debs/x/usr/libexec/sshguard/sshg-parser, else Debian's sshguard
// package is fetched with `apt-get download sshguard` and unpacked with `dpkg -x` into a temporary
// directory (never installed).
//
// Golden format: `# ` header lines (sshguard version, corpus digest), then one line per corpus line that
// produced output: `LINE<TAB>OUTPUT[<TAB>OUTPUT...]`.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_PARSER = '/tmp/debs/x/usr/libexec/sshguard/sshg-parser';
const PARSER_IN_PACKAGE = 'usr/libexec/sshguard/sshg-parser';

function fetchParser() {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-sshguard-'));
  chmodSync(dir, 0o755); // apt-get download hands the file to its unprivileged _apt user
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  console.log(`update-golden: no sshg-parser found; fetching Debian's sshguard package into ${dir}`);
  execFileSync('apt-get', ['download', 'sshguard'], { cwd: dir, stdio: 'inherit' });
  const deb = readdirSync(dir).find((name) => /^sshguard_.*\.deb$/.test(name));
  if (!deb) throw new Error('apt-get download sshguard produced no .deb');
  const root = join(dir, 'x');
  execFileSync('dpkg', ['-x', join(dir, deb), root], { stdio: 'inherit' });
  return join(root, PARSER_IN_PACKAGE);
}

function findParser() {
  if (process.env.SSHG_PARSER) {
    if (!existsSync(process.env.SSHG_PARSER)) throw new Error(`SSHG_PARSER=${process.env.SSHG_PARSER} does not exist`);
    return resolve(process.env.SSHG_PARSER);
  }
  if (existsSync(DEFAULT_PARSER)) return DEFAULT_PARSER;
  return fetchParser();
}

/** The Debian version of the unpacked package, from its changelog, when the parser sits in one. */
function packageVersion(parser) {
  if (!parser.endsWith(PARSER_IN_PACKAGE)) return 'unknown';
  const doc = join(parser.slice(0, -PARSER_IN_PACKAGE.length), 'usr/share/doc/sshguard');
  for (const name of ['changelog.Debian.amd64.gz', 'changelog.Debian.arm64.gz', 'changelog.Debian.gz']) {
    const path = join(doc, name);
    if (!existsSync(path)) continue;
    const first = gunzipSync(readFileSync(path)).toString('utf8').split('\n', 1)[0];
    const m = /^sshguard \(([^)]+)\)/.exec(first);
    if (m) return m[1];
  }
  return 'unknown';
}

function run(parser, args, input) {
  const result = spawnSync(parser, args, { input, maxBuffer: 1 << 28, encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${parser} ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return result.stdout;
}

const parser = findParser();
const version = packageVersion(parser);
const corpusText = readFileSync(join(here, 'corpus.log'), 'utf8');
const corpus = corpusText.split('\n');
if (corpus.at(-1) === '') corpus.pop();

const annotated = run(parser, ['-a'], corpusText).split('\n');
if (annotated.at(-1) === '') annotated.pop();
const outputs = run(parser, [], corpusText).split('\n');
if (outputs.at(-1) === '') outputs.pop();

if (annotated.length !== corpus.length) {
  throw new Error(`sshg-parser -a echoed ${annotated.length} lines for ${corpus.length} (a line too long for its buffer?)`);
}
const attackLines = [];
annotated.forEach((echo, i) => {
  const mark = echo.slice(0, 2);
  if ((mark !== '* ' && mark !== '  ') || echo.slice(2) !== corpus[i]) {
    throw new Error(`sshg-parser -a line ${i + 1} does not echo the corpus line: ${JSON.stringify(echo)}`);
  }
  if (mark === '* ') attackLines.push(i + 1);
});
if (attackLines.length !== outputs.length) {
  throw new Error(`sshg-parser marked ${attackLines.length} attacks but printed ${outputs.length} lines; cannot attribute`);
}

const perLine = new Map();
attackLines.forEach((lineNumber, k) => {
  const list = perLine.get(lineNumber) ?? [];
  list.push(outputs[k]);
  perLine.set(lineNumber, list);
});

const digest = createHash('sha256').update(corpusText).digest('hex');
const golden = [
  `# sshg-parser output on test/parity/corpus.log, one line per corpus line with output: LINE<TAB>OUTPUT...`,
  `# regenerate with: npm run parity:update`,
  `# sshguard: ${version}`,
  `# corpus-sha256: ${digest}`,
  ...[...perLine].map(([lineNumber, list]) => [lineNumber, ...list].join('\t')),
];
writeFileSync(join(here, 'sshg-parser.golden'), golden.join('\n') + '\n');
console.log(
  `update-golden: sshguard ${version}: ${outputs.length} attacks on ${perLine.size} of ${corpus.length} lines → test/parity/sshg-parser.golden`,
);

await import('./report.mjs');
