// The policy's semantics shown end to end: crafted logs replayed through parser → correlation → policy.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { replay, type ReplayOptions } from '../../src/audit/replay.js';
import { Parser } from '../../src/parse/parser.js';
import { loadRules } from '../../src/parse/rules.js';
import { DEFAULT_POLICY } from '../../src/policy/policy.js';
import { emptyEntries, parseWhitelistText, Whitelist } from '../../src/policy/whitelist.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'logwarden-audit-'));
const parser = new Parser(loadRules());
let fileCount = 0;

/** Writes a log whose lines are `[secondsFromStart, message]`, as sshd would log them (ISO times, UTC). */
function log(lines: [number, string][], pid = (i: number) => 1000 + i): string {
  const start = Date.UTC(2026, 4, 1, 10, 0, 0);
  const text = lines
    .map(([t, msg], i) => `${new Date(start + t * 1000).toISOString()} web sshd[${pid(i)}]: ${msg}`)
    .join('\n');
  const file = join(dir, `log-${fileCount++}.log`);
  writeFileSync(file, `${text}\n`);
  return file;
}

async function audit(files: string[], options: Partial<ReplayOptions> = {}) {
  return replay(files, {
    parser,
    policy: DEFAULT_POLICY,
    whitelist: new Whitelist(emptyEntries()),
    blacklist: [],
    now: Date.UTC(2026, 10, 27),
    ...options,
  });
}

const failed = (addr: string) => `Failed password for root from ${addr} port 4242 ssh2`;

describe('audit semantics', () => {
  it('blocks 120 s at the third of three attacks', async () => {
    const r = await audit([log([[0, failed('203.0.113.5')], [10, failed('203.0.113.5')], [20, failed('203.0.113.5')]])]);
    expect(r.blocks).toHaveLength(1);
    expect(r.blocks[0].decision).toMatchObject({ key: '203.0.113.5', duration: 120, attacks: 3, score: 30 });
    expect(r.blocks[0].decision.at).toBe(Date.UTC(2026, 4, 1, 10, 0, 20));
    expect(r.blocks[0].decision.evidence).toHaveLength(3);
  });

  it('counts a pam_unix failure and its Failed password once', async () => {
    const pam = (addr: string) => `pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${addr}  user=root`;
    const lines: [number, string][] = [];
    for (let i = 0; i < 2; i++) lines.push([i * 10, pam('203.0.113.5')], [i * 10 + 1, failed('203.0.113.5')]);
    const r = await audit([log(lines, (i) => 1000 + Math.floor(i / 2))]);
    expect(r.blocks).toHaveLength(0);
    expect(r.stats).toMatchObject({ scored: 2, joined: 2 });
  });

  it('leaves no score after three wrong keys and then Accepted publickey on one connection', async () => {
    const key = `Failed publickey for alice from 192.0.2.10 port 50122 ssh2: RSA SHA256:abc`;
    const r = await audit([log([[0, key], [0, key], [0, key], [1, 'Accepted publickey for alice from 192.0.2.10 port 50122 ssh2: ED25519 SHA256:def']], () => 77)]);
    expect(r.blocks).toHaveLength(0);
    expect(r.stats).toMatchObject({ forgiven: 3, scored: 0, logins: 1 });
  });

  it('changes nothing with a fourth attack while blocked', async () => {
    const r = await audit([log([0, 1, 2, 3].map((t) => [t, failed('203.0.113.5')]))]);
    expect(r.blocks).toHaveLength(1);
    expect(r.stats.alreadyBlocked).toBe(1);
  });

  it('blocks again soon after for 240 s, then 480 s', async () => {
    const lines: [number, string][] = [];
    for (const start of [0, 200, 500]) for (let i = 0; i < 3; i++) lines.push([start + i, failed('203.0.113.5')]);
    const r = await audit([log(lines)]);
    expect(r.blocks.map((b) => b.decision.duration)).toEqual([120, 240, 480]);
  });

  it('falls back towards 120 s after several half-lives', async () => {
    const lines: [number, string][] = [];
    const week = 7 * 86400;
    for (const start of [0, 200, 500, 500 + 6 * week]) for (let i = 0; i < 3; i++) lines.push([start + i, failed('203.0.113.5')]);
    const r = await audit([log(lines)]);
    const last = r.blocks[3].decision.duration!;
    expect(last).toBeGreaterThanOrEqual(120);
    expect(last).toBeLessThan(135);
  });

  it('never blocks attacks spread wider than DETECTION_TIME', async () => {
    const r = await audit([log([0, 1000, 2000, 3000, 4000].map((t) => [t, failed('203.0.113.5')]))]);
    expect(r.blocks).toHaveLength(0);
  });

  it('reports the blacklist threshold as a permanent block and leaves the file alone', async () => {
    const lines: [number, string][] = [];
    for (const start of [0, 200, 500]) for (let i = 0; i < 3; i++) lines.push([start + i, failed('203.0.113.5')]);
    const file = log(lines);
    const blacklist = join(dir, 'blacklist');
    writeFileSync(blacklist, '1700000000|100|4|198.51.100.99\n');
    const { status, stdout } = spawnSync(process.execPath, [CLI, 'audit', '--json', '-b', `90:${blacklist}`, file], { encoding: 'utf8' });
    expect(status).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.blocks.map((b: { permanent: boolean; duration: number | null }) => [b.permanent, b.duration])).toEqual([[false, 120], [false, 240], [true, null]]);
    expect(readFileSync(blacklist, 'utf8')).toBe('1700000000|100|4|198.51.100.99\n');
  });

  it('never scores a blacklisted address again', async () => {
    const r = await audit([log([0, 1, 2].map((t) => [t, failed('198.51.100.99')]))], {
      blacklist: [{ time: 0, service: 100, net: { addr: '198.51.100.99', cidr: 32, kind: 4 } }],
    });
    expect(r.blocks).toHaveLength(0);
    expect(r.stats.alreadyBlocked).toBe(3);
  });

  it('never blocks whitelisted addresses (exact, CIDR, hostname) and keeps their evidence', async () => {
    const whitelist = new Whitelist(parseWhitelistText('192.0.2.10\n198.51.100.0/24\nowner.example.org\n', 'wl'), async () => ['203.0.113.77']);
    await whitelist.refresh();
    const addrs = ['192.0.2.10', '198.51.100.44', '203.0.113.77'];
    const r = await audit([log(addrs.flatMap((a) => [0, 1, 2, 3].map((t) => [t, failed(a)] as [number, string])))], { whitelist });
    expect(r.blocks).toHaveLength(0);
    expect(r.stats.whitelisted).toBe(12);
  });

  it('prevents the block with a successful login between failures', async () => {
    const r = await audit([
      log(
        [[0, failed('192.0.2.50')], [5, failed('192.0.2.50')], [20, 'Accepted password for alice from 192.0.2.50 port 1 ssh2'], [30, failed('192.0.2.50')], [40, failed('192.0.2.50')], [50, failed('192.0.2.50')]],
      ),
    ]);
    expect(r.blocks).toHaveLength(0);
    expect(r.stats.trusted).toBe(3);
  });

  it('adds up IPv6 addresses of one /64', async () => {
    const r = await audit([log([[0, failed('2001:db8:7::1')], [1, failed('2001:db8:7::2')], [2, failed('2001:db8:7:0:abcd::3')]])]);
    expect(r.blocks[0].decision.key).toBe('2001:db8:7::/64');
  });

  it('needs 15 danger-2 events', async () => {
    const closed = (i: number): [number, string] => [i, `Connection closed by 203.0.113.8 port ${40000 + i} [preauth]`];
    expect((await audit([log(Array.from({ length: 14 }, (_, i) => closed(i)))])).blocks).toHaveLength(0);
    expect((await audit([log(Array.from({ length: 15 }, (_, i) => closed(i)))])).blocks).toHaveLength(1);
  });

  it('merges several files (plain and gzip) in time order', async () => {
    const a = log([[0, failed('203.0.113.5')], [20, failed('203.0.113.5')]]);
    const b = join(dir, 'b.log.gz');
    writeFileSync(b, gzipSync(`${new Date(Date.UTC(2026, 4, 1, 10, 0, 10)).toISOString()} web sshd[5]: ${failed('203.0.113.5')}\n`));
    const r = await audit([a, b]);
    expect(r.blocks).toHaveLength(1);
    expect(r.blocks[0].decision.at).toBe(Date.UTC(2026, 4, 1, 10, 0, 20));
  });
});

describe('yearless timestamps', () => {
  it('keeps a log that crosses New Year in order, years inferred from the file date', async () => {
    const file = join(dir, 'newyear.log');
    writeFileSync(
      file,
      ['Dec 31 23:59:50 web sshd[1]: ' + failed('203.0.113.5'), 'Dec 31 23:59:55 web sshd[2]: ' + failed('203.0.113.5'), 'Jan  1 00:00:05 web sshd[3]: ' + failed('203.0.113.5'), ''].join('\n'),
    );
    const mtime = new Date(2026, 0, 2);
    utimesSync(file, mtime, mtime);
    const r = await audit([file]);
    expect(r.blocks).toHaveLength(1);
    expect(r.blocks[0].decision.at).toBe(new Date(2026, 0, 1, 0, 0, 5).getTime());
    expect(r.blocks[0].decision.firstSeen).toBe(new Date(2025, 11, 31, 23, 59, 50).getTime());
    const forced = await audit([file], { year: 2020 });
    expect(forced.blocks[0].decision.at).toBe(new Date(2021, 0, 1, 0, 0, 5).getTime());
  });

  it('reads times in --timezone', async () => {
    const file = join(dir, 'tz.log');
    writeFileSync(file, [0, 1, 2].map((i) => `May  1 10:00:0${i} web sshd[${i}]: ${failed('203.0.113.5')}`).join('\n'));
    const r = await audit([file], { year: 2026, timezone: 'Asia/Tokyo' });
    expect(r.blocks[0].decision.at).toBe(Date.UTC(2026, 4, 1, 1, 0, 2));
  });
});

describe('logwarden audit (CLI)', () => {
  it('prints a table and a summary, and changes nothing', () => {
    const file = log([0, 1, 2].map((t) => [t, failed('203.0.113.5')]));
    const { status, stdout } = spawnSync(process.execPath, [CLI, 'audit', file], { encoding: 'utf8' });
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ADDRESS\s+BLOCKED AT \(UTC\)\s+FOR/m);
    expect(stdout).toMatch(/^203\.0\.113\.5\s+2026-05-01 10:00:02Z\s+120s\s+first block\s+3\s+30\s+OpenSSH\s+ssh-failed-password/m);
    expect(stdout).toContain('3 lines, 3 attacks from 1 addresses: 1 blocks (0 permanent).');
    expect(stdout).toContain('Dry run');
  });

  it('gives the JSON structure of design.md, with the service names, why the block lasts that long and where each line was read', () => {
    const file = log([0, 1, 2].map((t) => [t, failed('203.0.113.5')]));
    const out = JSON.parse(spawnSync(process.execPath, [CLI, 'audit', '--json', file], { encoding: 'utf8' }).stdout);
    expect(out).toEqual({
      blocks: [
        {
          addr: '203.0.113.5',
          cidr: 32,
          kind: 4,
          at: '2026-05-01T10:00:02.000Z',
          duration: 120,
          permanent: false,
          attacks: 3,
          score: 30,
          services: [100],
          rules: ['ssh-failed-password'],
          first_seen: '2026-05-01T10:00:00.000Z',
          evidence: readFileSync(file, 'utf8').trim().split('\n'),
          service_names: ['OpenSSH'],
          penalty: { level: 0, level_before: 0, note: 'first block' },
          evidence_sources: [1, 2, 3].map((line) => ({ file, line })),
        },
      ],
      summary: {
        lines: 3,
        attacks: 3,
        addresses: 1,
        blocks: 1,
        permanent: 0,
        not_scored: { whitelisted: 0, trusted: 0, already_blocked: 0, joined: 0, forgiven: 0, unresolved_hostnames: 0, unattributed: 0 },
        untimed_lines: 0,
      },
    });
  });

  it('says why a repeat lasts what it does, and warns about lines without a timestamp', () => {
    const repeats = log([0, 1, 2, 600, 601, 602, 19 * 86_400, 19 * 86_400 + 1, 19 * 86_400 + 2].map((t) => [t, failed('203.0.113.9')]));
    const untimed = join(dir, 'untimed.log');
    writeFileSync(untimed, `sshd[7]: ${failed('198.51.100.3')}\nsshd[8]: ${failed('198.51.100.3')}\n`);
    const r = spawnSync(process.execPath, [CLI, 'audit', '--json', repeats, untimed], { encoding: 'utf8' });
    const notes = (JSON.parse(r.stdout).blocks as { penalty: { note: string } }[]).map((b) => b.penalty.note);
    expect(notes).toEqual(['first block', 'repeat: 120 s × 2^1', 'repeat 19 d later, penalty decayed from 2: 120 s × 2^0.30']);
    expect(r.stderr).toContain(`logwarden: 2 line(s) of ${untimed} with an attack or login carry no timestamp: scored as if written now`);
    expect(JSON.parse(r.stdout).summary.untimed_lines).toBe(2);
  });

  it('takes one value per -w and never swallows the log file', () => {
    const file = log([0, 1, 2].map((t) => [t, failed('192.0.2.10')]));
    const out = JSON.parse(spawnSync(process.execPath, [CLI, 'audit', '--json', '-w', '192.0.2.10', file], { encoding: 'utf8' }).stdout);
    expect(out.summary).toMatchObject({ lines: 3, attacks: 3, addresses: 1, blocks: 0, not_scored: { whitelisted: 3 } });
  });

  it('reports a bad whitelist line with file:line and goes on', () => {
    const wl = join(dir, 'whitelist');
    writeFileSync(wl, '192.0.2.10 # me\n300.1.2.3\n');
    const file = log([0, 1, 2].map((t) => [t, failed('192.0.2.10')]));
    const { status, stderr, stdout } = spawnSync(process.execPath, [CLI, 'audit', '--json', '-w', wl, file], { encoding: 'utf8' });
    expect(status).toBe(0);
    expect(stderr).toContain(`whitelist ${wl}:2: "300.1.2.3" skipped`);
    expect(JSON.parse(stdout).summary.blocks).toBe(0);
  });

  it('names the option in a configuration error', () => {
    const { status, stderr } = spawnSync(process.execPath, [CLI, 'audit', '--threshold', '-5', 'x.log'], { encoding: 'utf8' });
    expect(status).toBe(2);
    expect(stderr).toContain('--threshold');
  });
});
