/** Shared by the store tests: temp folders, evidence rows, and a Logger that keeps what it is told. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/log/logger.js';
import type { EvidenceRow } from '../../src/store/store.js';

export const tempDir = () => mkdtempSync(join(tmpdir(), 'logwarden-store-'));

export function evidence(offender: string, i: number): EvidenceRow {
  return { offender, time: i, source: 'auth.log', lineNo: i, event: 'attack', rule: 'ssh-failed-password', service: 100, danger: 10, addr: offender, outcome: 'scored', line: `line ${i} ${'x'.repeat(80)}` };
}

export interface Said {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

export function recordingLogger(): Logger & { said: Said[] } {
  const said: Said[] = [];
  const at = (level: Said['level']) => (fields: object, message: string) => said.push({ level, fields: fields as Record<string, unknown>, message });
  return { said, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds, up to `ms`. */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}
