// Rotation torture through the real daemon (`logwarden run --backend null`): every attack line written is one
// evidence row in the store, across rename, delete and copytruncate rotations, clean stops and SIGKILLs with a
// rotation while the daemon is down; copytruncate's window is measured, not hidden. Then a SIGKILL followed by two
// rotations before the next start, plain and compressed.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { queryStore, startLogwarden } from '../e2e/lab.js';
import { daemonTorture } from './daemon-torture.js';
import { attackAddress, copytruncateLoss, numberOf, pause, tally, Writer } from './torture.js';

describe('logwarden run under rotation torture', () => {
  it('stores every attack line exactly once through rotations of every kind, stops and crashes', async () => {
    const seed = Date.now() % 1_000_000;
    // about 2,000 lines/s
    const run = await daemonTorture({ rotations: 24, perTick: 10, tickMs: 5, maxGapMs: 30, restartEvery: 6, seed });
    const t = tally(run.written, run.numbers);
    const loss = copytruncateLoss(t.missing, run.cuts);
    console.log(
      `seed ${seed}: ${run.kinds.rename + run.kinds.delete + run.kinds.copytruncate} rotations (${JSON.stringify(run.kinds)}), ` +
        `${run.restarts.term} SIGTERM and ${run.restarts.kill} SIGKILL restarts each with a rename while down, ` +
        `${run.written} lines written, ${t.readOnce} stored once, ${t.doubled.length} doubled, ${t.missing.length} lost at copytruncate ` +
        `(${loss.unreadAtCopy} unread when copied, ${loss.betweenCopyAndTruncate} written between copy and truncate; per copytruncate ${loss.perCut.join(',')})`,
    );
    expect(run.integrity.every((r) => r === 'ok')).toBe(true);
    expect(t.doubled).toEqual([]);
    expect(run.restarts.kill).toBeGreaterThan(0);
    expect(t.readOnce + t.missing.length).toBe(run.written);
    expect(loss.unreadAtCopy).toBe(0);
  }, 60_000);
});

/**
 * SIGKILL while a writer goes on, two logrotate rotations while down (`compress`: each rotated file then gzipped, as
 * without delaycompress), start again: every line stored once, and none of a stale auth.log.7 (.gz).
 */
async function killedThenRotatedTwice(compress: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-daemon-twice-'));
  const log = join(dir, 'auth.log');
  const db = join(dir, 'state.db');
  writeFileSync(log, '');
  // last week's, with line numbers never written: reading it would fail the tally
  writeFileSync(`${log}.7`, Array.from({ length: 20 }, (_, i) => `Nov 24 10:00:00 server sshd[999]: Failed password for root from ${attackAddress(16_000_000 + i)} port 1024 ssh2\n`).join(''));
  utimesSync(`${log}.7`, Date.now() / 1000 - 7 * 86400, Date.now() / 1000 - 7 * 86400);
  if (compress) gzipInPlace(`${log}.7`);
  const args = ['--backend', 'null', '--db', db, '--pid-file', join(dir, 'run.pid'), log];
  const stored = async () => (await queryStore<{ line: string }>(db, "SELECT line FROM evidence WHERE line LIKE '%Failed password for root from 10.%'").catch(() => [])).map((r) => numberOf(r.line, 'attack')!);
  const until = async (n: number, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!(await stored()).includes(n)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await pause(20);
    }
  };
  const logrotate = async () => {
    const suffix = compress ? '.gz' : '';
    if (existsSync(`${log}.1${suffix}`)) renameSync(`${log}.1${suffix}`, `${log}.2${suffix}`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, '');
    await pause(30); // the writer goes on in the renamed file until the HUP
    await writer.reopen();
    if (compress) gzipInPlace(`${log}.1`); // after the HUP, as logrotate does
    await pause(100);
  };
  let daemon = startLogwarden(args);
  await daemon.waitFor(/^logwarden running/, 15_000);
  // a first start reads from the end: the writer starts once the daemon has the file open
  const writer = new Writer(log, { format: 'attack', perTick: 10, tickMs: 5 });
  try {
    await until(100, 'line 100 stored');
    await daemon.stop('SIGKILL');
    const { written: atKill } = await writer.count();
    await pause(100);
    await logrotate();
    await logrotate();
    const { written: beforeStart } = await writer.count();
    daemon = startLogwarden(args);
    await daemon.waitFor(/^logwarden running/, 15_000);
    await pause(200);
    const written = await writer.stop();
    await until(written - 1, `the last line ${written - 1}:\n${daemon.transcript()}`);
    const { code } = await daemon.stop('SIGTERM');
    expect(code).toBe(0);
    const t = tally(written, await stored());
    console.log(`SIGKILL at line ~${atKill}, two rotations${compress ? ' with compress' : ''} (${beforeStart - atKill} lines written while down): ${written} lines written, ${t.readOnce} stored once, ${t.doubled.length} doubled, ${t.missing.length} lost`);
    expect(t.doubled).toEqual([]);
    expect(t.missing).toEqual([]);
    expect(beforeStart - atKill).toBeGreaterThan(100);
  } finally {
    writer.kill();
    daemon.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** logrotate's compress: FILE.N.gz written, FILE.N removed */
function gzipInPlace(file: string): void {
  writeFileSync(`${file}.gz`, gzipSync(readFileSync(file)));
  unlinkSync(file);
}

describe('logwarden run killed, then the log rotated twice before it starts again', () => {
  it('stores every line once: the rest of the stored file, the file in between, the new one; not a stale auth.log.7', async () => {
    await killedThenRotatedTwice(false);
  }, 60_000);

  it('with compress: the rest of the stored file from auth.log.2.gz, auth.log.1.gz, the new one; not a stale auth.log.7.gz', async () => {
    await killedThenRotatedTwice(true);
  }, 60_000);
});
