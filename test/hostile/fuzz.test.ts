// Fuzzing, short version (npm test; the long one is test/stress/hostile-fuzz.test.ts): hostile bytes through every
// source and the parser never throw, keep memory bounded, and no line takes more than a few milliseconds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzStream, heldMB, hostileBytes, journalJson, LineTimer, MARKER, parser, rssMB, throughFile, throughJournal, throughStdin } from './fuzz.js';

const LINE_BUDGET_MS = 5;

describe('hostile input, short', () => {
  it('the parser never throws and stays fast on fragment-built lines, as lines and as journal records', () => {
    const timer = new LineTimer();
    fc.assert(
      fc.property(hostileBytes, fc.option(fc.constantFrom('sshd', 'dovecot', 'postfix/smtpd', 'nginx', 'kernel', '')), (bytes, tag) => {
        const line = bytes.toString('utf8');
        timer.parse(line);
        timer.parse(line, { tag, pid: 1, host: 'web', message: line, time: 0 });
      }),
      { numRuns: 3000 },
    );
    console.log(`parser: ${timer.lines} lines, longest ${timer.longest.toFixed(3)} ms (again: ${timer.confirmed().toFixed(3)} ms)`);
    expect(timer.confirmed()).toBeLessThan(LINE_BUDGET_MS);
  });

  it('journal entries built from fragments never throw in entryLine or parseRecord', () => {
    const timer = new LineTimer();
    fc.assert(fc.property(journalJson, (json) => throughJournal(json, timer)), { numRuns: 2000 });
    console.log(`journal: ${timer.lines} entries parsed, longest ${timer.longest.toFixed(3)} ms (again: ${timer.confirmed().toFixed(3)} ms)`);
    expect(timer.confirmed()).toBeLessThan(LINE_BUDGET_MS);
  });

  it('a real file and a stream of hostile bytes, a 10 MB line without a newline: every line whole and bounded, memory bounded', async () => {
    const cases = fc.sample(hostileBytes, { numRuns: 400, seed: 42 });
    const chunks = fuzzStream(cases);
    const before = rssMB();
    const heldBefore = await heldMB();
    const fileTimer = new LineTimer();
    const fromFile = await throughFile(chunks, fileTimer);
    const stdinTimer = new LineTimer();
    const cuts = fc.sample(fc.integer({ min: 1, max: 70_000 }), { numRuns: 400, seed: 7 });
    const fromStdin = await throughStdin(chunks, cuts, stdinTimer);
    const grew = rssMB() - before;
    const held = (await heldMB()) - heldBefore;
    console.log(`file: ${fromFile.lines} lines, longest ${fileTimer.longest.toFixed(3)} ms; stdin: ${fromStdin.lines} lines, longest ${stdinTimer.longest.toFixed(3)} ms; RSS grew ${grew.toFixed(0)} MB, held ${held.toFixed(1)} MB`);
    // the same bytes make the same lines whatever the chunks (the overlong ones skipped whole)
    expect([fromStdin.lines, fromStdin.digest()]).toEqual([fromFile.lines, fromFile.digest()]);
    expect(fromFile.last).toBe(MARKER);
    expect(parser.parse(MARKER)?.addr).toBe('203.0.113.99');
    expect(Math.max(fileTimer.confirmed(), stdinTimer.confirmed())).toBeLessThan(LINE_BUDGET_MS);
    // the 10 MB line is never held whole, nor decoded into a string (that alone would be 20 MB)
    expect(grew).toBeLessThan(64);
    expect(held).toBeLessThan(16);
  });
});
