/**
 * The journal as a finished input for `audit`: `journalctl -o json` run once (argument array, no shell) over a
 * time range, the system journal or one file. Its exit status and error output are the input's read errors.
 */
import { spawn } from 'node:child_process';
import { fileSelection } from '../sources/journal.js';

/** journalctl's JSON lines are whole entries: longer than a log line may be, and still one entry */
export const JOURNAL_JSON_LINE = 4 * 1024 * 1024;

export interface JournalQuery {
  identifiers: string[];
  units: string[];
  /** journalctl --file: a journal file instead of the system journal */
  file: string | null;
  /** journalctl --since / --until, as given (journalctl reads them: "2026-05-01", "yesterday", "-2h", ...) */
  since: string | null;
  until: string | null;
  journalctl?: string;
}

export interface JournalReader {
  name: string;
  output: AsyncIterable<Buffer>;
  /** Resolves when journalctl exited 0; rejects with its error output otherwise */
  finished: Promise<void>;
}

export function journalctlArgs(q: JournalQuery): string[] {
  const args = ['-o', 'json', '--no-pager', '-q'];
  if (q.file !== null) args.push(...fileSelection(q.file));
  if (q.since !== null) args.push('--since', q.since);
  if (q.until !== null) args.push('--until', q.until);
  for (const t of q.identifiers) args.push('-t', t);
  for (const u of q.units) args.push('-u', u);
  return args;
}

export function readJournal(q: JournalQuery): JournalReader {
  const child = spawn(q.journalctl ?? 'journalctl', journalctlArgs(q), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const finished = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`cannot run journalctl: ${error.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`journalctl exited with ${code}: ${stderr.trim() || 'no message'}`))));
  });
  // reported through `finished` once the output is read; never an unhandled rejection meanwhile
  finished.catch(() => {});
  return { name: q.file === null ? 'journal' : q.file, output: child.stdout, finished };
}
