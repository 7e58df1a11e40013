// Fuzzing, long version (npm run test:stress; the short one is test/hostile/fuzz.test.ts): many more hostile
// lines through the parser, journal entries, a real file and a stream, with memory measured across the run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzStream, heldMB, hostileBytes, journalJson, LineTimer, MARKER, rssMB, throughFile, throughJournal, throughStdin } from '../hostile/fuzz.js';

const LINE_BUDGET_MS = 5;

describe('hostile input, long', () => {
  it('300,000 fragment-built lines through the parser, as lines and as journal records', () => {
    const timer = new LineTimer();
    const before = rssMB();
    fc.assert(
      fc.property(hostileBytes, fc.option(fc.constantFrom('sshd', 'dovecot', 'postfix/smtpd', 'nginx', 'exim', 'named', 'kernel', '')), (bytes, tag) => {
        const line = bytes.toString('utf8');
        timer.parse(line);
        timer.parse(line, { tag, pid: 1, host: 'web', message: line, time: 0 });
      }),
      { numRuns: 150_000 },
    );
    const grew = rssMB() - before;
    console.log(`parser: ${timer.lines} lines, longest ${timer.longest.toFixed(3)} ms (again: ${timer.confirmed().toFixed(3)} ms) (${JSON.stringify(timer.longestLine.slice(0, 80))}), RSS grew ${grew.toFixed(0)} MB`);
    expect(timer.confirmed()).toBeLessThan(LINE_BUDGET_MS);
    expect(grew).toBeLessThan(128);
  });

  it('30,000 journal lines built from fragments', () => {
    const timer = new LineTimer();
    fc.assert(fc.property(journalJson, (json) => throughJournal(json, timer)), { numRuns: 30_000 });
    console.log(`journal: ${timer.lines} entries parsed, longest ${timer.longest.toFixed(3)} ms (again: ${timer.confirmed().toFixed(3)} ms)`);
    expect(timer.confirmed()).toBeLessThan(LINE_BUDGET_MS);
  });

  it('a real file and a stream: 20,000 hostile lines and 10 MB lines without a newline, five times over', async () => {
    const before = rssMB();
    const heldBefore = await heldMB();
    const held: number[] = [];
    let lines = 0;
    let longest = 0;
    // each round in a function of its own: what it made is garbage once it returns (an async frame keeps its locals)
    const round = async (seed: number) => {
      const chunks = fuzzStream(fc.sample(hostileBytes, { numRuns: 20_000, seed }));
      const fileTimer = new LineTimer();
      const stdinTimer = new LineTimer();
      const fromFile = await throughFile(chunks, fileTimer);
      const fromStdin = await throughStdin(chunks, fc.sample(fc.integer({ min: 1, max: 200_000 }), { numRuns: 2000, seed }), stdinTimer);
      expect([fromStdin.lines, fromStdin.digest()]).toEqual([fromFile.lines, fromFile.digest()]);
      expect(fromFile.last).toBe(MARKER);
      lines += fromFile.lines + fromStdin.lines;
      longest = Math.max(longest, fileTimer.confirmed(), stdinTimer.confirmed());
    };
    for (let seed = 0; seed < 5; seed++) {
      await round(seed);
      held.push(Math.round((await heldMB()) - heldBefore));
    }
    const grew = rssMB() - before;
    console.log(`file and stdin: ${lines} lines, longest (timed again) ${longest.toFixed(3)} ms; held after each round: ${held.join(', ')} MB; RSS grew ${grew.toFixed(0)} MB (its peak: a round holds its 11 MB input several times over)`);
    expect(longest).toBeLessThan(LINE_BUDGET_MS);
    // nothing is kept from one round to the next; what may stay is the parser's route cache (at most 4096 program
    // tags, a Map entry each: tags routed to the same rules share one dispatch)
    expect(Math.max(...held) - Math.min(...held)).toBeLessThan(16);
    expect(Math.max(...held)).toBeLessThan(128);
  });
});
