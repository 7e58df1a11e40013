/**
 * The rotation torture through the real daemon (`logwarden run --backend null`): attack lines, one address each,
 * so every line read is one evidence row in the store; the daemon is stopped (SIGTERM or SIGKILL) and started
 * again with a rotation while it is down.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DaemonProcess, queryStore, startLogwarden } from '../e2e/lab.js';
import { type CopyTruncate, numberOf, pause, type Rotation, rotate, rotationPlan, seeded, Writer } from './torture.js';

export interface DaemonTortureOptions {
  rotations: number;
  perTick: number;
  tickMs: number;
  maxGapMs: number;
  /** The daemon is stopped, the file renamed, and the daemon started again after every this many rotations */
  restartEvery: number;
  seed: number;
}

export interface DaemonTortureResult {
  written: number;
  numbers: number[];
  cuts: CopyTruncate[];
  kinds: Record<Rotation, number>;
  restarts: { term: number; kill: number };
  integrity: string[];
}

/** Polls an async condition; throws `what` after `timeoutMs`. */
async function untilAsync(condition: () => Promise<boolean>, what: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await pause(20);
  }
}

export async function daemonTorture(o: DaemonTortureOptions): Promise<DaemonTortureResult> {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-daemon-rotation-'));
  const log = join(dir, 'auth.log');
  const db = join(dir, 'state.db');
  writeFileSync(log, '');
  const random = seeded(o.seed);
  const daemons: DaemonProcess[] = [];
  const start = async () => {
    const d = startLogwarden(['--backend', 'null', '--db', db, '--pid-file', join(dir, 'run.pid'), log]);
    daemons.push(d);
    await d.waitFor(/^logwarden running/, 15_000);
    return d;
  };
  /** The highest line number in the store */
  const newest = async () => {
    const rows = await queryStore<{ line: string }>(db, "SELECT line FROM evidence ORDER BY id DESC LIMIT 1").catch(() => []);
    return rows.length > 0 ? (numberOf(rows[0].line, 'attack') ?? -1) : -1;
  };
  let daemon = await start();
  const writer = new Writer(log, { format: 'attack', perTick: o.perTick, tickMs: o.tickMs });
  const cuts: CopyTruncate[] = [];
  const kinds: Record<Rotation, number> = { rename: 0, delete: 0, copytruncate: 0 };
  const restarts = { term: 0, kill: 0 };
  const integrity: string[] = [];
  let rotated = 0;
  try {
    for (const [i, planned] of rotationPlan(o.rotations, random).entries()) {
      await pause(Math.floor(random() * (o.maxGapMs + 1)));
      const stopNow = o.restartEvery > 0 && i % o.restartEvery === o.restartEvery - 1;
      const kind = stopNow ? 'rename' : planned;
      if (stopNow) {
        // a clean stop and a crash in turn: the positions are committed with the lines' effects either way
        if (restarts.term <= restarts.kill) {
          const { code } = await daemon.stop('SIGTERM');
          if (code !== 0) throw new Error(`the daemon exited ${code} on SIGTERM:\n${daemon.transcript()}`);
          restarts.term++;
        } else {
          await daemon.stop('SIGKILL');
          restarts.kill++;
        }
      }
      const cut = await rotate(kind, log, join(dir, `auth.log.${++rotated}`), writer, 'attack');
      kinds[kind]++;
      if (cut) cuts.push(cut);
      const { written } = await writer.count();
      if (stopNow) {
        daemon = await start();
        integrity.push(...(await queryStore<{ integrity_check: string }>(db, 'PRAGMA integrity_check')).map((r) => r.integrity_check));
      }
      // the next rotation once the daemon has read the new file (a file rotated away unopened cannot be followed)
      await untilAsync(async () => (await newest()) >= written, () => `line ${written} after rotation ${i + 1} (${kind}) in the store:\n${daemon.transcript()}`);
    }
    const written = await writer.stop();
    await untilAsync(async () => (await newest()) >= written - 1, () => `the last line ${written - 1} in the store`);
    const { code } = await daemon.stop('SIGTERM');
    if (code !== 0) throw new Error(`the daemon exited ${code} on SIGTERM:\n${daemon.transcript()}`);
    integrity.push(...(await queryStore<{ integrity_check: string }>(db, 'PRAGMA integrity_check')).map((r) => r.integrity_check));
    const rows = await queryStore<{ line: string }>(db, "SELECT line FROM evidence WHERE line LIKE '%Failed password for root from 10.%'");
    const numbers = rows.map((r) => numberOf(r.line, 'attack')!);
    return { written, numbers, cuts, kinds, restarts, integrity };
  } finally {
    writer.kill();
    for (const d of daemons) d.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
