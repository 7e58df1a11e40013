// Long runs on generated logs of millions of lines (npm run test:stress): memory stays bounded.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const data = `${root}benchmarks/data`;
const CLI = `${root}dist/cli/main.js`;
const REPORT = `${root}test/stress/report-rss.mjs`;

function generated(lines: number): string {
  const file = `${data}/stress-${lines}.log`;
  if (!existsSync(file)) {
    mkdirSync(data, { recursive: true });
    const r = spawnSync(process.execPath, [`${root}benchmarks/generate-log.mjs`, '--lines', String(lines), '--out', file, '--quiet'], { stdio: 'inherit' });
    expect(r.status).toBe(0);
  }
  return file;
}

function run(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', REPORT, CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const rss = Number(/maxRSS=(\d+)/.exec(r.stderr)?.[1]) * 1024;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, rssMB: rss / 1e6 };
}

describe('large logs', () => {
  it('parses 5,000,000 lines in under 100 MB, finding the generated attacks', () => {
    const file = generated(5_000_000);
    const r = run(['parse', '--stats', file]);
    expect(r.status).toBe(0);
    expect(r.rssMB).toBeLessThan(100);
    const meta = JSON.parse(readFileSync(`${file}.meta.json`, 'utf8')) as { attackLines: number };
    const attacks = Number(/attacks: (\d+)/.exec(r.stderr)?.[1]);
    expect(attacks).toBeGreaterThan(meta.attackLines * 0.95);
  }, 600_000);

  it('audits 5,000,000 lines with bounded memory', () => {
    const file = generated(5_000_000);
    const r = run(['audit', '--json', file]);
    expect(r.status).toBe(0);
    expect(r.rssMB).toBeLessThan(1000);
    expect(JSON.parse(r.stdout).summary.lines).toBe(5_000_000);
  }, 600_000);
});
