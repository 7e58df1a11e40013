// A line cut from an ASCII chunk is read from its bytes when its banner has the commonest shape: that reading must
// make of every line exactly what the reading of its text makes, whatever follows the line in the chunk.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Banner, parseBanner } from '../../src/parse/banner.js';
import { loadRules } from '../../src/parse/rules.js';

/** The line inside a chunk: `before` bytes in front, its newline or CRLF after it, then the next line. */
function inChunk(line: string, before: string, ending: string, next: string): { bytes: Buffer; offset: number } {
  return { bytes: Buffer.from(before + line + ending + next, 'latin1'), offset: before.length };
}

function fields(b: Banner): Record<string, unknown> {
  return { ...b };
}

/** The two readings of one line, compared field by field (into a reused banner, as the parser does). */
function expectSame(line: string, before = '', ending = '\n', next = 'May  1 10:00:00 next sshd[1]: x'): void {
  const { bytes, offset } = inChunk(line, before, ending, next);
  const scratch = new Banner('x');
  parseBanner('another line: it must not leak into this one', scratch);
  expect(fields(parseBanner(line, scratch, bytes, offset)), JSON.stringify(line)).toEqual(fields(parseBanner(line)));
}

const MSG = 'Failed password for root from 192.0.2.7 port 22 ssh2';

describe('parseBanner from bytes', () => {
  it.each([
    `May  1 10:00:00 web sshd[42]: ${MSG}`,
    `May 12 10:00:00 web sshd: ${MSG}`,
    `May  1 10:00:00.123456 web sshd[42]: ${MSG}`,
    `2026-05-01T10:00:00.123456+02:00 web sshd[42]: ${MSG}`,
    `2026-05-01T10:00:00Z web postfix/submission/smtpd[7]: ${MSG}`,
    `2026-05-01 10:00:00,5-0230 web sshd[42]: ${MSG}`,
    `2026-05-01_10:00:00.1234567890 web sshd[42]: ${MSG}`,
    `2026-05-01T10:00:00+0200 web sshd: ${MSG}`,
    `2026-05-01T10:00:00+02 web sshd: ${MSG}`,
    `2026-05-01T10:00:00+2 web sshd: ${MSG}`,
    `2026-05-01T10:00:00+021x web sshd: ${MSG}`,
    `2026-05-01T10:00:00+02:1x web sshd: ${MSG}`,
    `2026-05-01T10:00:00.Z web sshd: ${MSG}`,
    '2026-05-01T10:00:00+02:00',
    '2026-05-01T10:00:00+02',
    '2026-05-01T10:00:00.12',
    '2026-05-01T10:0',
    '2026-05-01X10:00:00 web sshd: x',
    `May  1 10:00:00 web proftpd[42] ${MSG}`,
    `May  1 10:00:00 web sshd[42]: [ID 800047 auth.info] ${MSG}`,
    `May  1 10:00:00 web sshd[42]: message repeated 3 times: [ ${MSG}]`,
    `May  1 10:00:00 web sshd[42]:`,
    `May  1 10:00:00 web sshd[42]: `,
    `May  1 10:00:00 web sshd[42]`,
    `May  1 10:00:00 web sshd[]: ${MSG}`,
    `May  1 10:00:00 web sshd[12345678901]: ${MSG}`,
    `May  1 10:00:00 web sshd[4x]: ${MSG}`,
    `May  1 10:00:00 web: sshd[42]: ${MSG}`,
    `May  1 10:00:00 <auth.info> web sshd[42]: ${MSG}`,
    `May  1 10:00:00 [sshd] ${MSG}`,
    `May  1 10:00:00 router authpriv.info dropbear[42]: ${MSG}`,
    `May  1 10:00:00 sshd[42]: ${MSG}`,
    `May  1 10:00:00 web ${MSG}`,
    `May  1 10:00:00 web`,
    `May  1 10:00:00`,
    `May  1 10:0`,
    `Thu May  1 10:00:00 2026 [pid 42] FAIL LOGIN: Client "192.0.2.7"`,
    `01-May-2026 10:00:00.123 client @0x1 192.0.2.7#53: denied`,
    `1 2026-05-01T10:00:00Z web sshd 42 - - ${MSG}`,
    `<38>May  1 10:00:00 web sshd[42]: ${MSG}`,
    `2026-05-01_10:00:00.12345 auth.info: sshd[42]: ${MSG}`,
    `May  1 10:00:00 ${'h'.repeat(255)} sshd[42]: ${MSG}`,
    `May  1 10:00:00 ${'h'.repeat(256)} sshd[42]: ${MSG}`,
    `May  1 10:00:00 ${'h'.repeat(257)} sshd[42]: ${MSG}`,
    `May  1 10:00:00 web ${'t'.repeat(63)}[42]: ${MSG}`,
    `May  1 10:00:00 web ${'t'.repeat(64)}[42]: ${MSG}`,
    `May  1 10:00:00 web ${'t'.repeat(65)}[42]: ${MSG}`,
    'M',
    '',
  ])('reads %j as its text does', (line) => {
    for (const ending of ['\n', '\r\n']) {
      expectSame(line, '', ending);
      expectSame(line, 'x\n', ending, ' [42]: 0123456789 ');
    }
  });

  it('reads every rule example as its text does', () => {
    const lines = loadRules().flatMap((r) => [...r.examples.match.map((e) => e.line), ...r.examples.ignore]);
    const ascii = lines.filter((line) => /^[\x00-\x7f]*$/.test(line) && !line.includes('\n'));
    expect(ascii.length).toBeGreaterThan(500);
    for (const line of ascii) expectSame(line);
  });

  it('reads any line of banner-like pieces as its text does, whatever bytes follow it', () => {
    const digits = fc.string({ unit: fc.constantFrom('0', '1', '2', '9'), maxLength: 12 });
    const word = (chars: string[], maxLength: number) => fc.string({ unit: fc.constantFrom(...chars), maxLength });
    const hostChars = ['a', 'Z', '0', '.', '-', '_', ':', '%', '+', '[', '<', ' '];
    const tagChars = ['s', 'D', '/', '-', '(', ')', '.', '0', '[', ']', ':', ' ', '@'];
    const piece = fc.oneof(
      fc.constantFrom('May  1 10:00:00', 'Dec 31 23:59:59', 'May 1 10:00:00', 'May  1 10:00:00.5', 'Mai  1 10:00:00', 'May  1 1:00:00'),
      fc.constantFrom('2026-05-01T10:00:00', '2026-05-01T10:00:00.123+02:00', '2026-05-01 10:00:00Z', '2026-05-01T10:00', '1 2026-05-01T10:00:00Z'),
      fc.constantFrom('2026-05-01_10:00:00.1234567890', '2026-05-01T10:00:00+0200', '2026-05-01T10:00:00-02', '2026-05-01T10:00:00+02:0', '2026-05-01T10:00:00.'),
      fc.constantFrom(' ', ': ', ':', '[', ']', ']: ', '] ', '[ID 1 a.b] ', 'message repeated 2 times: [ x]', '<auth.info> ', 'auth.info '),
      digits,
      word(hostChars, 300),
      word(tagChars, 70),
      fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
    );
    const line = fc.array(piece, { maxLength: 10 }).map((pieces) => pieces.join(''));
    const after = fc.constantFrom('', ' ', ':', ']', '0', 'x', ': ', '] a', '12]: ');
    fc.assert(
      fc.property(line, fc.constantFrom('\n', '\r\n'), after, (text, ending, next) => {
        expectSame(text, '', ending, next);
        expectSame(text, 'a\n', ending, next);
      }),
      { numRuns: 3000 },
    );
  });
});
