/**
 * The one logging interface of every module: pino's shape (fields first, then the message), so the daemon can
 * put pino behind it while one-shot commands print short plain lines.
 */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

/** Plain `logwarden: message (key=value ...)` lines on stderr, from `level` up: for one-shot commands. */
export function plainLogger(level: LogLevel = 'warn', write: (text: string) => void = (t) => process.stderr.write(t)): Logger {
  const min = LEVELS.indexOf(level);
  const at = (l: LogLevel) => (fields: object, message: string) => {
    if (LEVELS.indexOf(l) < min) return;
    const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    write(`logwarden: ${message}${extra.length > 0 ? ` (${extra.join(' ')})` : ''}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Drops everything: for callers whose messages are checked another way (tests, benchmarks). */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
