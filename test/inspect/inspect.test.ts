// Running the firewall tools: a missing one is skipped and named, never fatal.
import { describe, expect, it } from 'vitest';
import { inspectFirewall } from '../../src/inspect/inspect.js';

describe('inspectFirewall', () => {
  it('skips every tool that is not installed, says so, and falls back to plain iptables-save when no variant exists', async () => {
    const report = await inspectFirewall('192.0.2.7', 4, { fwName: 'logwarden', env: { PATH: '/nonexistent' } });
    expect(report.findings).toEqual([]);
    expect(report.read).toEqual([]);
    expect(report.skipped).toEqual(
      expect.arrayContaining([
        { command: 'nft -j list ruleset', reason: 'not installed' },
        { command: 'ipset list', reason: 'not installed' },
        { command: 'iptables-save', reason: 'not installed' },
      ]),
    );
    expect(report.skipped).toHaveLength(3);
  });
});
