/**
 * The daemon's logger: pino behind the Logger interface. JSON lines on stdout (journald keeps them under
 * systemd), or pino-pretty's readable lines when stdout is a terminal.
 */
import pino from 'pino';
import type { Logger, LogLevel } from './logger.js';

export interface DaemonLogger extends Logger {
  child(fields: object): DaemonLogger;
  /** Writes what is buffered (at shutdown) */
  flush(): Promise<void>;
}

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

export function daemonLogger(level: LogLevel, pretty = process.stdout.isTTY === true): DaemonLogger {
  const options: pino.LoggerOptions = { level, base: { name: 'logwarden' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty) return wrap(pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 1, translateTime: 'SYS:standard' } } }));
  return wrap(pino(options, pino.destination({ dest: 1, sync: false })));
}
