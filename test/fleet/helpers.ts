import type { Logger } from '../../src/log/logger.js';

/** A logger that keeps `LEVEL message` lines, for asserting what was said and how often. */
export function collectingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: object, message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
