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
  // 2: the wanted state. Blocks may come from the fleet and be simulated (dry run: recorded, never applied); SQLite
  // cannot change a CHECK constraint, so the table is rebuilt. Positions keep a source's whole Position. The
  // allow list the kernel must hold, by origin (config file, interface, session).
  `
  CREATE TABLE blocks_v2 (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    addr TEXT NOT NULL,
    cidr INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    start INTEGER NOT NULL,
    expires INTEGER,                  -- NULL: permanent
    origin TEXT NOT NULL CHECK (origin IN ('policy', 'blacklist', 'manual', 'fleet')),
    reason TEXT NOT NULL,             -- JSON: score, attacks, services, rules, evidence lines
    state TEXT NOT NULL CHECK (state IN ('active', 'expired', 'released', 'whitelisted')),
    ended_at INTEGER,
    simulated INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1))
  );
  INSERT INTO blocks_v2 (id, key, addr, cidr, kind, start, expires, origin, reason, state, ended_at)
    SELECT id, key, addr, cidr, kind, start, expires, origin, reason, state, ended_at FROM blocks;
  DROP TABLE blocks;
  ALTER TABLE blocks_v2 RENAME TO blocks;
  CREATE INDEX blocks_by_state ON blocks (state, key);
  CREATE INDEX blocks_by_key ON blocks (key, id);

  -- version 1 kept inode, offset and cursor; a row without kind is one of those (read as well as it can be)
  ALTER TABLE positions ADD COLUMN kind TEXT CHECK (kind IN ('file', 'journal'));
  ALTER TABLE positions ADD COLUMN path TEXT;
  ALTER TABLE positions ADD COLUMN dev INTEGER;
  ALTER TABLE positions ADD COLUMN fingerprint TEXT;
  ALTER TABLE positions ADD COLUMN time INTEGER;

  CREATE TABLE allow (
    id INTEGER PRIMARY KEY,
    network TEXT NOT NULL,            -- canonical addr/cidr
    kind INTEGER NOT NULL,
    origin TEXT NOT NULL,             -- config, interface, session, ...
    detail TEXT NOT NULL              -- FILE:LINE, -w, the interface, the session
  );
  CREATE INDEX allow_by_origin ON allow (origin);
  `,
  // 3: what a running daemon publishes about itself (one row, rewritten every few seconds, read by `status`), and
  // attacks counted per hour, rule and service (evidence is trimmed per offender: it cannot be counted)
  `
  CREATE TABLE daemon_status (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at INTEGER,               -- NULL: running (or died without saying so: see heartbeat_at)
    state TEXT NOT NULL               -- JSON: sources, firewall, store health, counts
  );

  CREATE TABLE attack_counts (
    hour INTEGER NOT NULL,            -- ms of the hour's start, in the events' own time
    rule TEXT NOT NULL,
    service INTEGER NOT NULL,
    service_name TEXT NOT NULL,
    attacks INTEGER NOT NULL,
    PRIMARY KEY (hour, rule, service)
  ) WITHOUT ROWID;
  `,
  // 4: the lines attempt correlation still holds (an attempt's first line, keys tried before a login), written
  // with the positions that pass them: a restart feeds them back, so a crash neither skips nor doubles them
  `
  CREATE TABLE waiting_lines (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    line_no INTEGER,
    time INTEGER NOT NULL,            -- ms, the line's own time
    line TEXT NOT NULL,
    journal TEXT                      -- JSON: identifier, pid, host and trusted fields of a journal entry; NULL for a log line
  );
  `,
  // 5 (fleet, issue 11): sharing decisions through CrowdSec's Local API. The outbox holds pushes in order until the
  // LAPI takes them (a restart loses none); pushed maps our blocks to the LAPI's decision ids (to delete them, and
  // to know them when the stream brings them back); fleet_decisions is what the stream gave, apart from local blocks
  `
  CREATE TABLE fleet_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('block', 'release')),
    key TEXT NOT NULL,
    payload TEXT NOT NULL,            -- JSON
    queued_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE fleet_pushed (
    decision_id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    pushed_at INTEGER NOT NULL
  );
  CREATE INDEX fleet_pushed_by_key ON fleet_pushed (key);

  CREATE TABLE fleet_decisions (
    id INTEGER PRIMARY KEY,           -- the LAPI's decision id
    key TEXT NOT NULL,
    addr TEXT NOT NULL,
    cidr INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    origin TEXT NOT NULL,
    scenario TEXT NOT NULL,
    until INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'refused', 'own')),
    detail TEXT NOT NULL,             -- why refused or own; '' when applied
    seen_at INTEGER NOT NULL
  );
  CREATE INDEX fleet_decisions_by_state ON fleet_decisions (state, key);
  `,
];
