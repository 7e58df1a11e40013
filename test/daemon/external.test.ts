// PARSER and POST_PARSER as sshguard runs them: real /bin/sh commands fed lines on stdin.
import { describe, expect, it } from 'vitest';
import { ExternalFilter, sshgLineEvent } from '../../src/daemon/external.js';
import type { Logger } from '../../src/log/logger.js';
import type { ParsedEvent } from '../../src/parse/parser.js';

function collecting(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_f: object, m: string) => void lines.push(`${level} ${m}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sshg-parser lines', () => {
  it('are read only when canonical and of the stated kind', () => {
    expect(sshgLineEvent('100 203.0.113.5 4 10', 'post-parser')).toMatchObject({ service: 100, addr: '203.0.113.5', kind: 4, danger: 10, rule: 'post-parser' });
    expect(sshgLineEvent('100 2001:db8::5 6 10', 'parser')).toMatchObject({ addr: '2001:db8::5', kind: 6 });
    for (const bad of ['100 203.0.113.5 6 10', '100 2001:DB8::5 6 10', '100 203.0.113.005 4 10', '100 example.org 4 10', 'x 203.0.113.5 4 10', '100 203.0.113.5 4', '']) {
      expect(sshgLineEvent(bad, 'parser')).toBeNull();
    }
  });
});

describe('ExternalFilter', () => {
  it('passes what the command writes back, drops what it filters, and counts lines it cannot read', async () => {
    const events: ParsedEvent[] = [];
    const log = collecting();
    const filter = new ExternalFilter({ command: "grep --line-buffered -v ' 198.51.100.7 '", role: 'post-parser', log, onEvent: (e) => events.push(e) });
    filter.start();
    filter.send('100 203.0.113.5 4 10');
    filter.send('100 198.51.100.7 4 10');
    filter.send('not an sshg line');
    filter.send('110 2001:db8::9 6 2');
    await until(() => events.length === 2 && filter.counts.refused === 1);
    expect(events.map((e) => `${e.service} ${e.addr}`)).toEqual(['100 203.0.113.5', '110 2001:db8::9']);
    expect(log.lines.some((l) => l.startsWith('warn post-parser wrote a line that is not'))).toBe(true);
    filter.stop();
  });

  it('restarts a command that exits, loudly', async () => {
    const log = collecting();
    const filter = new ExternalFilter({ command: 'read line; echo "$line"; exit 3', role: 'parser', log, onEvent: () => {} });
    filter.start();
    filter.send('100 203.0.113.5 4 10');
    await until(() => filter.counts.restarts >= 1);
    expect(log.lines.some((l) => /^error parser .* exited \(code 3\): restarting in \d+ ms/.test(l))).toBe(true);
    filter.stop();
  });
});
