import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/log/logger.js';
import type { Position, Source, SourceLine } from '../../src/sources/source.js';

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A Logger that keeps every record, for asserting what was said loudly. */
export function collectingLogger(): Logger & { records: LogRecord[]; at(level: LogRecord['level']): LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord['level']) => (fields: object, message: string) => {
    records.push({ level, message, fields: fields as Record<string, unknown> });
  };
  return {
    records,
    at: (level) => records.filter((r) => r.level === level),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

/** Polls `condition` every few ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function tempDir(prefix: string): { dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `logwarden-${prefix}-`));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a source and keeps what it yields. */
export async function collect(source: Source): Promise<{ lines: SourceLine[]; texts(): string[]; last(): Position | null }> {
  const lines: SourceLine[] = [];
  await source.start((batch) => lines.push(...batch));
  return {
    lines,
    texts: () => lines.map((l) => l.text),
    last: () => (lines.length > 0 ? lines[lines.length - 1]!.position : null),
  };
}

export function numbered(prefix: string, from: number, count: number): string {
  let text = '';
  for (let i = from; i < from + count; i++) text += `${prefix} ${i}\n`;
  return text;
}
