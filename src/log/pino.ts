/**
 * The daemon's logger: pino behind the Logger interface. JSON lines on stdout (journald keeps them under
 * systemd), or pino-pretty's readable lines when stdout is a terminal.
 */
import pino from 'pino';
import { excerpt } from './excerpt.js';
import type { Logger, LogLevel } from './logger.js';

export interface DaemonLogger extends Logger {
  child(fields: object): DaemonLogger;
  /** Writes what is buffered (at shutdown) */
  flush(): Promise<void>;
}

/** PIPE_BUF: a write of fewer bytes to a pipe is never interleaved with another process's writes */
const ATOMIC_WRITE_BYTES = 4096;

function wrap(p: pino.Logger): DaemonLogger {
  return {
    debug: (fields, message) => p.debug(fields, message),
    info: (fields, message) => p.info(fields, message),
    warn: (fields, message) => p.warn(fields, message),
    error: (fields, message) => p.error(fields, message),
    child: (fields) => wrap(p.child(fields)),
    flush: () => new Promise<void>((resolve) => p.flush(() => resolve())),
  };
}

/**
 * `sharedStdout`: another process writes to the same stdout (run --user: the firewall process and the daemon
 * process). Each record is then one write of its own, and cut to fit one atomic write, so that no record is ever
 * spliced into another one.
 */
export function daemonLogger(level: LogLevel, { pretty = process.stdout.isTTY === true, sharedStdout = false } = {}): DaemonLogger {
  const options: pino.LoggerOptions = { level, base: { name: 'logwarden' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty) return wrap(pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 1, translateTime: 'SYS:standard' } } }));
  if (!sharedStdout) return wrap(pino(options, pino.destination({ dest: 1, sync: false })));
  return wrap(pino({ ...options, hooks: { streamWrite: fitted } }, pino.destination({ dest: 1, sync: true })));
}

/** The record as it is when it fits one atomic write; otherwise its level, time, origin and message, cut */
export function fitted(record: string): string {
  // most records are ASCII and short: the exact byte length only for those that might not fit
  if (record.length * 3 < ATOMIC_WRITE_BYTES || Buffer.byteLength(record) < ATOMIC_WRITE_BYTES) return record;
  const full = JSON.parse(record) as Record<string, unknown>;
  const kept: Record<string, unknown> = {};
  for (const key of ['level', 'time', 'name', 'process', 'module', 'addr']) if (full[key] !== undefined) kept[key] = full[key];
  kept.msg = excerpt(typeof full.msg === 'string' ? full.msg : '', 1000);
  kept.cut = `record of ${Buffer.byteLength(record)} bytes cut to fit one write (PIPE_BUF): stdout is shared with the other process`;
  return `${JSON.stringify(kept)}\n`;
}
