/** The store's one error type: a message naming the database file and what to do. */
export class StoreError extends Error {
  constructor(
    message: string,
    /** SQLite's code (SQLITE_FULL, SQLITE_BUSY, ...) when the cause was SQLite's */
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** SQLite's code of an error, or ''. */
export function sqliteCode(error: unknown): string {
  return (error as { code?: unknown }).code?.toString() ?? '';
}

export function isCorruption(error: unknown): boolean {
  return sqliteCode(error).startsWith('SQLITE_CORRUPT');
}

/** A StoreError naming `path`, worded by the kind of failure. */
export function explain(path: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = sqliteCode(error);
  const message = (error as Error).message;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(`database ${path} is locked by another process (${message})`, code);
  }
  if (code.startsWith('SQLITE_FULL')) return new StoreError(`database ${path}: the disk is full (${message})`, code);
  if (code.startsWith('SQLITE_READONLY')) return new StoreError(`database ${path} is read-only (${message})`, code);
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'EACCES' || code === 'EROFS') {
    return new StoreError(`cannot open database ${path} for writing (${message})`, code);
  }
  return new StoreError(`database ${path}: ${message}`, code || null);
}
