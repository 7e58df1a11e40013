/** Real journal files for tests: entries in journal export format, written by systemd-journal-remote. */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';

export const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
export const journalRemoteMissing = !existsSync(JOURNAL_REMOTE);

const BOOT_ID = '0123456789abcdef0123456789abcdef';

export interface TestEntry {
  message: string | Buffer;
  identifier?: string;
  /** ms */
  time: number;
  fields?: [string, string | Buffer][];
}

let monotonic = 1_000_000;

function field(name: string, value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  // Binary form (name, newline, little-endian 64-bit length, bytes) for anything that is not plain printable text
  const plain = bytes.every((b) => b >= 0x20 && b < 0x7f);
  if (plain) return Buffer.concat([Buffer.from(`${name}=`), bytes, Buffer.from('\n')]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([Buffer.from(`${name}\n`), size, bytes, Buffer.from('\n')]);
}

/** Appends the entries to the journal file (created if missing), as journald would have written them. */
export function writeJournal(journalFile: string, entries: TestEntry[]): void {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(field('__REALTIME_TIMESTAMP', String(entry.time * 1000)));
    parts.push(field('__MONOTONIC_TIMESTAMP', String(monotonic++)));
    parts.push(field('_BOOT_ID', BOOT_ID));
    parts.push(field('MESSAGE', entry.message));
    if (entry.identifier) parts.push(field('SYSLOG_IDENTIFIER', entry.identifier));
    for (const [name, value] of entry.fields ?? []) parts.push(field(name, value));
    parts.push(Buffer.from('\n'));
  }
  const exportFile = `${journalFile}.export`;
  writeFileSync(exportFile, Buffer.concat(parts));
  execFileSync(JOURNAL_REMOTE, ['-o', journalFile, exportFile], { stdio: 'ignore' });
}
