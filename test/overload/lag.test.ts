// The daemon says when it cannot keep up with a log: a warning after 5 s more than 1 MiB behind, the seconds in
// the metrics meanwhile, and a line when it has caught up; a short spike says nothing.
import { describe, expect, it } from 'vitest';
import { BEHIND_BYTES, LagWatch, WARN_AFTER_MS } from '../../src/daemon/lag.js';
import type { Logger } from '../../src/log/logger.js';
import type { SourceStatus } from '../../src/sources/source.js';

function recorder() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log } as unknown as Logger;
  return { log, lines };
}

const source = (lagBytes: number | null): SourceStatus => ({ name: '/var/log/auth.log', kind: 'file', state: 'reading', lines: 0, errors: 0, lastError: null, lastLineAt: null, lagBytes });

describe('LagWatch', () => {
  it('warns once after 5 s behind, counts the seconds, and says when it caught up', () => {
    const { log, lines } = recorder();
    const lag = new LagWatch(log);
    lag.check([source(BEHIND_BYTES * 3)], 1000);
    expect(lag.seconds('/var/log/auth.log', 1000)).toBe(0);
    lag.check([source(BEHIND_BYTES * 3)], 1000 + WARN_AFTER_MS - 1);
    expect(lines).toEqual([]);
    lag.check([source(BEHIND_BYTES * 2)], 1000 + WARN_AFTER_MS);
    lag.check([source(BEHIND_BYTES * 2)], 1000 + WARN_AFTER_MS + 1000);
    expect(lines.map((l) => l.level)).toEqual(['warn']);
    expect(lines[0].msg).toMatch(/^falling behind \/var\/log\/auth\.log: 2\.1 MB unread, behind for 5 s; every line is still read/);
    expect(lines[0].fields).toMatchObject({ lagBytes: BEHIND_BYTES * 2, lagSeconds: 5 });
    expect(lag.seconds('/var/log/auth.log', 9000)).toBe(8);
    lag.check([source(100)], 12_000);
    expect(lines[1]).toMatchObject({ level: 'info', msg: 'caught up with /var/log/auth.log after 11 s' });
    expect(lag.seconds('/var/log/auth.log', 12_000)).toBe(0);
  });

  it('says nothing of a spike shorter than 5 s, nor of a source with no lag to tell (journal, stdin)', () => {
    const { log, lines } = recorder();
    const lag = new LagWatch(log);
    lag.check([source(BEHIND_BYTES * 10), { ...source(null), name: 'journal' }], 0);
    lag.check([source(BEHIND_BYTES * 10), { ...source(null), name: 'journal' }], 4000);
    lag.check([source(0), { ...source(null), name: 'journal' }], 4500);
    expect(lines).toEqual([]);
    expect(lag.seconds('journal', 4500)).toBe(0);
  });
});
