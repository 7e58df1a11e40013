// Sustained throughput of the whole daemon (`logwarden run --backend null`) tailing a fast-growing log file.
// A separate writer process appends a realistic mix (benchmarks/generate-log.mjs's corpus, whole lines) to a
// file the daemon follows from its start. Two phases, each with a fresh daemon and store:
//  - max: the writer appends the whole input as fast as it can; the daemon's rate is the lines it read divided
//    by the time from the first write until its committed position (the store's `positions` row, written in
//    the same transaction as the lines' effects) reached the end of the file.
//  - paced: the writer appends at each of --rates lines/s (default 150,000 and 200,000, the target) for --seconds; the lag (bytes
//    written but not yet committed by the daemon, and how long ago the writer wrote the committed offset) is
//    sampled every 50 ms. A lag that stays bounded means the daemon keeps up at that rate.
// Needs `npx tsc -p .` first (and benchmarks/data/stress-5000000.log, generated if missing).
// Usage: node benchmarks/daemon-throughput.mjs [--input FILE] [--phases max,paced] [--rates 150000,200000] [--seconds 20]
//        [--max-lines 0] [--json] [--profile DIR]
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { json, loadAverage, procStats, scratchDir, sleep, startDaemon } from './daemon-common.mjs';
import { DATA, ensureInput, fmtInt, log, logwardenCommit, machineInfo, parseArgs } from './lib.mjs';

const USAGE = 'node benchmarks/daemon-throughput.mjs [--input FILE] [--phases max,paced] [--rates 150000,200000] [--seconds 20] [--max-lines 0] [--json] [--profile DIR (node --cpu-prof of the daemon)]';
const epochMs = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- the writer (a child process of itself)
if (process.argv[2] === '--writer') {
  const [, , , input, output, rateText, maxLinesText] = process.argv;
  const rate = Number(rateText);
  const maxLines = Number(maxLinesText) || Infinity;
  const src = openSync(input, 'r');
  const dst = openSync(output, 'a');
  const buf = Buffer.allocUnsafe(1 << 20);
  let carry = Buffer.alloc(0);
  let lines = 0;
  let bytes = 0;
  const start = epochMs();
  let lastReport = 0;
  const report = (done = false) => process.stdout.write(`${JSON.stringify({ t: epochMs(), lines, bytes, done })}\n`);
  report();
  outer: for (;;) {
    const n = readSync(src, buf, 0, buf.length, null);
    if (n === 0) break;
    let chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : Buffer.from(buf.subarray(0, n));
    const lastNl = chunk.lastIndexOf(10);
    carry = Buffer.from(chunk.subarray(lastNl + 1));
    chunk = chunk.subarray(0, lastNl + 1);
    let pos = 0;
    while (pos < chunk.length) {
      // how many lines may be written by now (all of them at full speed)
      let allowed = rate > 0 ? Math.floor(((epochMs() - start) / 1000) * rate) - lines : Infinity;
      allowed = Math.min(allowed, maxLines - lines);
      if (allowed <= 0) {
        if (lines >= maxLines) break outer;
        await sleep(2);
        continue;
      }
      let end = pos;
      let count = 0;
      // whole lines only, at most 256 KiB per write, as a logger appends
      while (count < allowed && end < chunk.length && end - pos < 256 * 1024) {
        end = chunk.indexOf(10, end) + 1;
        count++;
      }
      writeSync(dst, chunk, pos, end - pos);
      bytes += end - pos;
      lines += count;
      pos = end;
      const now = epochMs();
      if (now - lastReport >= 20) {
        lastReport = now;
        report();
      }
    }
  }
  closeSync(dst);
  report(true);
  process.exit(0);
}

// ---------------------------------------------------------------- the benchmark
const opts = parseArgs(process.argv.slice(2), { input: join(DATA, 'stress-5000000.log'), phases: 'max,paced', rates: '150000,200000', seconds: 20, maxLines: 0, json: false, profile: '' }, USAGE);
const input = ensureInput(opts.input, { defaultLines: 5_000_000 });
const Database = (await import('better-sqlite3')).default;
const SELF = fileURLToPath(import.meta.url);

async function phase(name, rate, maxLines) {
  const dir = scratchDir(`lw-throughput-${name}-`);
  const logFile = join(dir, 'busy.log');
  writeFileSync(logFile, '');
  const db = join(dir, 'state.db');
  const daemon = startDaemon({ backend: 'null', db, pidFile: join(dir, 'lw.pid'), files: [logFile], keep: false, nodeArgs: opts.profile ? ['--cpu-prof', '--cpu-prof-dir', opts.profile] : [] });
  let blocked = 0;
  daemon.out.onLine((l) => {
    if (l.includes('"msg":"blocked ') || l.includes('"msg":"recorded a block')) blocked++;
  });
  await daemon.ready();
  const store = new Database(db, { readonly: true, fileMustExist: true });
  const position = store.prepare('SELECT offset FROM positions WHERE source = ?').pluck();
  // writer timeline: [t, bytes]
  const timeline = [];
  const writer = spawn(process.execPath, [SELF, '--writer', input, logFile, String(rate), String(maxLines)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let writerDone = null;
  createInterface({ input: writer.stdout }).on('line', (l) => {
    const r = json(l);
    if (!r) return;
    timeline.push([r.t, r.bytes]);
    if (r.done) writerDone = r;
  });
  const writerExit = new Promise((r) => writer.on('exit', r));
  /** When the writer had written `bytes` (interpolated). */
  const writtenAt = (bytes) => {
    let lo = 0;
    let hi = timeline.length - 1;
    if (hi < 0 || bytes <= 0) return timeline[0]?.[0] ?? epochMs();
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (timeline[mid][1] >= bytes) hi = mid;
      else lo = mid + 1;
    }
    const [t1, b1] = timeline[lo];
    const [t0, b0] = lo > 0 ? timeline[lo - 1] : [t1, 0];
    return b1 === b0 ? t1 : t0 + ((bytes - b0) / (b1 - b0)) * (t1 - t0);
  };
  const cpu0 = procStats(daemon.pid).cpu;
  const samples = [];
  let caughtUpAt = null;
  let firstWriteAt = null;
  for (;;) {
    await sleep(50);
    const now = epochMs();
    if (firstWriteAt === null && timeline.length > 0) firstWriteAt = timeline[0][0];
    const size = statSync(logFile).size;
    const pos = position.get(logFile) ?? 0;
    const lagBytes = size - pos;
    const lagSeconds = pos >= size ? 0 : (now - writtenAt(pos + 1)) / 1000;
    samples.push({ t: now, size, pos, lagBytes, lagSeconds });
    if (writerDone && pos >= writerDone.bytes) {
      caughtUpAt = now;
      break;
    }
    if (daemon.child.exitCode !== null) throw new Error(`daemon exited: ${daemon.stderr}`);
  }
  await writerExit;
  const stats = procStats(daemon.pid);
  const stopped = await daemon.stop();
  store.close();
  const lines = stopped.stopped?.lines ?? null;
  if (lines !== writerDone.lines) log(`warning: the daemon counted ${lines} lines, the writer wrote ${writerDone.lines}`);
  const writeSeconds = (writerDone.t - firstWriteAt) / 1000;
  const seconds = (caughtUpAt - firstWriteAt) / 1000;
  const steady = samples.filter((s) => s.t - firstWriteAt > 2000 && s.t < writerDone.t);
  return {
    phase: name,
    rateAsked: rate || null,
    lines: writerDone.lines,
    bytes: writerDone.bytes,
    daemonLines: lines,
    writerSeconds: writeSeconds,
    writerLinesPerSecond: writerDone.lines / writeSeconds,
    seconds,
    linesPerSecond: writerDone.lines / seconds,
    mbPerSecond: writerDone.bytes / seconds / 1e6,
    cpuSeconds: stats.cpu - cpu0,
    peakRssMB: stats.hwmKB / 1024,
    maxLagBytes: Math.max(...samples.map((s) => s.lagBytes)),
    maxLagSeconds: Math.max(...samples.map((s) => s.lagSeconds)),
    /** after the first 2 s, while the writer still writes: is the lag growing? */
    lagAtWriterEnd: samples.filter((s) => s.t <= writerDone.t).at(-1)?.lagBytes ?? null,
    steadyMaxLagSeconds: steady.length ? Math.max(...steady.map((s) => s.lagSeconds)) : null,
    blocks: blocked,
    exit: stopped.code,
  };
}

const results = [];
log(`input ${input}; load ${loadAverage()}`);
for (const name of opts.phases.split(',')) {
  if (name === 'max') results.push(await phase('max', 0, opts.maxLines));
  else if (name === 'paced') for (const rate of opts.rates.split(',').map(Number)) results.push(await phase('paced', rate, rate * opts.seconds));
  else throw new Error(`unknown phase ${name}`);
}
for (const r of results) {
  const line =
    r.phase === 'max'
      ? `max: ${fmtInt(r.lines)} lines (${(r.bytes / 1e6).toFixed(0)} MB) written in ${r.writerSeconds.toFixed(2)} s; the daemon committed them all after ${r.seconds.toFixed(2)} s: ${fmtInt(r.linesPerSecond)} lines/s (${r.mbPerSecond.toFixed(1)} MB/s), ${r.cpuSeconds.toFixed(1)} CPU s, peak RSS ${r.peakRssMB.toFixed(0)} MB, ${fmtInt(r.blocks)} block lines`
      : `paced at ${fmtInt(r.rateAsked)} lines/s: writer achieved ${fmtInt(r.writerLinesPerSecond)} lines/s over ${r.writerSeconds.toFixed(1)} s (${fmtInt(r.lines)} lines); max lag ${(r.maxLagBytes / 1e6).toFixed(2)} MB / ${r.maxLagSeconds.toFixed(2)} s (after the first 2 s: ${r.steadyMaxLagSeconds?.toFixed(2)} s), lag when the writer stopped ${(r.lagAtWriterEnd / 1e6).toFixed(2)} MB; caught up ${(r.seconds - r.writerSeconds).toFixed(2)} s after; daemon ${fmtInt(r.linesPerSecond)} lines/s overall, ${r.cpuSeconds.toFixed(1)} CPU s, peak RSS ${r.peakRssMB.toFixed(0)} MB`;
  process.stdout.write(`${line}\n`);
}
if (opts.json) process.stdout.write(`${JSON.stringify({ machine: machineInfo(), commit: logwardenCommit(), load: loadAverage(), results })}\n`);
