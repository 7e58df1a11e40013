/**
 * The one contract of every source (file tailer, journal reader, stdin, command): lines in order, each with the
 * position after it, so the daemon can commit positions in the same store transaction as the lines' effects.
 */

/** Where a source stands after a line: enough to resume exactly there after a restart. */
export type Position =
  | {
      kind: 'file';
      path: string;
      dev: number;
      ino: number;
      /** Byte offset just after the line */
      offset: number;
      /** A hash of the file's first line, to tell an inode reused after delete+create */
      fingerprint: string | null;
    }
  | { kind: 'journal'; cursor: string; /** ms, __REALTIME_TIMESTAMP: the fallback when the cursor is unknown */ time: number };

/** What journald itself recorded about an entry: the trusted fields a client cannot set, and the tag it can. */
export interface JournalFields {
  /** ms, from __REALTIME_TIMESTAMP */
  time: number;
  /** SYSLOG_IDENTIFIER (set by the sender: not trusted) */
  identifier: string | null;
  /** _PID, else SYSLOG_PID */
  pid: number | null;
  /** _HOSTNAME */
  host: string | null;
  uid: number | null;
  exe: string | null;
  unit: string | null;
  transport: string | null;
  comm: string | null;
  cursor: string;
}

export interface SourceLine {
  /** The line (files, stdin, command) or the entry's MESSAGE (journal), without its newline */
  text: string;
  /** The source's name: the file's path, 'journal', 'stdin', or the command */
  source: string;
  /** 1-based line number in its file since the source began reading it; null for journal entries */
  lineNo: number | null;
  /** The position after this line; null where there is none to resume from (stdin, command) */
  position: Position | null;
  /** Structured fields, for journal entries: the parser routes by them instead of a syslog banner */
  journal: JournalFields | null;
  /** ms, wall clock when read: the event's time when the line has no timestamp of its own */
  readAt: number;
}

export interface SourceStatus {
  name: string;
  kind: 'file' | 'journal' | 'stdin' | 'command';
  /** reading: healthy; waiting: the file does not exist yet, or the process is being restarted; failed: gave up */
  state: 'reading' | 'waiting' | 'failed' | 'stopped';
  lines: number;
  /** Problems met so far (unreadable file, journalctl exit, ...): each one was also logged */
  errors: number;
  lastError: string | null;
  /** ms, when the last line was read; null before the first */
  lastLineAt: number | null;
  /** Files: bytes written to the file but not read yet */
  lagBytes: number | null;
}

export interface Source {
  readonly name: string;
  /**
   * Starts reading; batches of lines are handed to `onLines` in order, never concurrently. Resolves once reading
   * has begun (a missing file is not an error: it is waited for).
   */
  start(onLines: (lines: SourceLine[]) => void): Promise<void>;
  /** Stops reading; resolves when no batch will come any more. */
  stop(): Promise<void>;
  status(): SourceStatus;
  /**
   * Where the source stands now (after the last line handed out, or where it began reading), for sources that can
   * resume; null while it has none. Kept at start, so that a first start read from the end resumes there even when
   * no line came before the next start.
   */
  position?(): Position | null;
}
