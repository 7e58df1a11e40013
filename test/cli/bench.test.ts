// `logwarden bench` as the operator runs it: the parsing part on a given log, and (as root) the firewall part
// in a private network namespace that is gone afterwards, leaving the host's ruleset as it was.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../docs/samples/auth.log', import.meta.url));
const root = process.getuid?.() === 0;
const has = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

interface BenchJson {
  parse: { lines: number; matched: number; linesPerSecond: number; rules: { id: string; hits: number; ms: number }[] };
  firewall: {
    skipped: string | null;
    namespace: string | null;
    backends: { backend: string; skipped: string | null; batch: { blocks: number; perSecond: number } | null; single: { p50Ms: number; p99Ms: number } | null }[];
  };
}

describe('logwarden bench', () => {
  it('measures the rules on a given log (the counts of rules test) and each installed backend in a namespace it removes', () => {
    const hostTables = has('nft') ? spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout : '';
    const r = spawnSync(process.execPath, [CLI, 'bench', '--log', SAMPLE, '--json', '--blocks', '200'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as BenchJson;
    const test = JSON.parse(spawnSync(process.execPath, [CLI, 'rules', 'test', '--json', SAMPLE], { encoding: 'utf8' }).stdout) as {
      lines: number;
      matched: number;
      rules: { id: string; hits: number }[];
    };
    expect(json.parse.lines).toBe(test.lines);
    expect(json.parse.matched).toBe(test.matched);
    expect(json.parse.rules.map((x) => [x.id, x.hits]).sort()).toEqual(test.rules.map((x) => [x.id, x.hits]).sort());
    expect(json.parse.linesPerSecond).toBeGreaterThan(0);
    if (!root) {
      expect(json.firewall.skipped).toMatch(/needs root/);
      return;
    }
    expect(json.firewall.skipped).toBeNull();
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(json.firewall.namespace!);
    if (has('nft')) expect(spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout).toBe(hostTables);
    expect(json.firewall.backends.map((b) => b.backend)).toEqual(['nft', 'iptables', 'ipset']);
    for (const b of json.firewall.backends) {
      if (b.skipped) {
        console.warn(`bench ${b.backend} skipped: ${b.skipped}`);
        continue;
      }
      expect(b.batch!.blocks).toBe(200);
      expect(b.batch!.perSecond).toBeGreaterThan(0);
      expect(b.single!.p99Ms).toBeGreaterThanOrEqual(b.single!.p50Ms);
    }
    if (has('nft')) expect(json.firewall.backends[0].skipped).toBeNull();
  }, 120_000);

  it('prints a table without --json, and generates a log when given none', () => {
    const r = spawnSync(process.execPath, [CLI, 'bench', '--blocks', '10'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^parsing a generated log \(200000 lines, \d+ from the rules' examples\)$/m);
    expect(r.stdout).toMatch(/lines\/s/);
    expect(r.stdout).toMatch(root ? /^ {2}BACKEND +ONE BATCH +BLOCKS\/S/m : /^firewall: skipped \(needs root/m);
  }, 120_000);
});
