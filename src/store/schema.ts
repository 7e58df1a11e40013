/**
 * The store's schema as numbered migrations; PRAGMA user_version records how far a file has come.
 * Times are ms since the epoch.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: offenders, evidence, blocks, source positions
  `
  CREATE TABLE offenders (
    key TEXT PRIMARY KEY,
    addr TEXT NOT NULL,
    cidr INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    score INTEGER NOT NULL,
    window_attacks INTEGER NOT NULL,
    level REAL NOT NULL,
    level_at INTEGER NOT NULL,
    blocked_danger INTEGER NOT NULL,
    blocked_until INTEGER,            -- NULL: not blocked; -1: permanent
    blocks INTEGER NOT NULL,
    attacks INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- append-only with ids given by the store; no index on offender: index upkeep cost 3x the insert, and the
  -- store knows each offender's row ids (it trims them itself); readers of one offender's rows scan
  CREATE TABLE evidence (
    id INTEGER PRIMARY KEY,
    offender TEXT NOT NULL,
    time INTEGER NOT NULL,
    source TEXT NOT NULL,
    line_no INTEGER,
    event TEXT NOT NULL,
    rule TEXT NOT NULL,
    service INTEGER NOT NULL,
    danger INTEGER NOT NULL,
    addr TEXT NOT NULL,
    outcome TEXT NOT NULL,
    line TEXT NOT NULL
  );

  CREATE TABLE blocks (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    addr TEXT NOT NULL,
    cidr INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    start INTEGER NOT NULL,
    expires INTEGER,                  -- NULL: permanent
    origin TEXT NOT NULL CHECK (origin IN ('policy', 'blacklist', 'manual')),
    reason TEXT NOT NULL,             -- JSON: score, attacks, services, rules, evidence lines
    state TEXT NOT NULL CHECK (state IN ('active', 'expired', 'released', 'whitelisted')),
    ended_at INTEGER
  );
  CREATE INDEX blocks_by_state ON blocks (state, key);
  CREATE INDEX blocks_by_key ON blocks (key, id);

  CREATE TABLE positions (
    source TEXT PRIMARY KEY,
    inode INTEGER,
    offset INTEGER,
    cursor TEXT,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
];
