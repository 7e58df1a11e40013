/**
 * How a long-running process learns what the commands changed: the store is the channel. Polling is cheap:
 * SQLite's data_version changes only when another connection has committed something.
 */
import type Database from 'better-sqlite3';
import { toBlockRow } from './blocks.js';
import type { BlockRow, Store } from './store.js';

/** Blocks ended by another process are looked for this far back from the previous poll (ms) */
const ENDED_MARGIN_MS = 10_000;

export interface BlockChanges {
  /** Blocks that became active (by `logwarden block`, or another process) */
  added: BlockRow[];
  /** Blocks that stopped being active, with their new state (released, whitelisted, expired) */
  ended: BlockRow[];
}

export class BlockWatcher {
  private known = new Map<number, BlockRow>();
  private version = -1;
  private timer: NodeJS.Timeout | null = null;
  /** Blocks lifted by hand or by the whitelist lately, already reported (by id) */
  private reported = new Map<number, number>();
  private lastPoll = Date.now();
  private readonly endedLately: Database.Statement;

  constructor(private readonly store: Store) {
    for (const b of store.activeBlocks()) this.known.set(b.id, b);
    this.version = this.dataVersion();
    this.endedLately = store.db.prepare(`SELECT * FROM blocks WHERE state IN ('released', 'whitelisted') AND ended_at >= ?`);
  }

  private dataVersion(): number {
    return this.store.db.pragma('data_version', { simple: true }) as number;
  }

  /** What changed since the last poll; nothing (without a query) when no other connection wrote. */
  poll(): BlockChanges {
    const version = this.dataVersion();
    if (version === this.version) return { added: [], ended: [] };
    this.version = version;
    const active = new Map(this.store.activeBlocks().map((b) => [b.id, b]));
    const added = [...active.values()].filter((b) => !this.known.has(b.id));
    const endedIds = [...this.known.keys()].filter((id) => !active.has(id));
    const ended = endedIds.map((id) => this.store.block(id)).filter((b): b is BlockRow => b !== null);
    // a block this process made since the last poll was never known: lifted by another process, it is found here
    const since = this.lastPoll - ENDED_MARGIN_MS;
    this.lastPoll = Date.now();
    for (const b of ended) this.reported.set(b.id, b.endedAt ?? this.lastPoll);
    for (const row of this.endedLately.all(since) as Record<string, unknown>[]) {
      const b = toBlockRow(row);
      if (this.reported.has(b.id) || this.known.has(b.id)) continue;
      this.reported.set(b.id, b.endedAt ?? this.lastPoll);
      ended.push(b);
    }
    for (const [id, at] of this.reported) if (at < since) this.reported.delete(id);
    this.known = active;
    return { added, ended };
  }

  /** Polls every `intervalMs` (default 500: changes are seen within a second) and reports non-empty changes. */
  start(onChange: (changes: BlockChanges) => void, intervalMs = 500): void {
    this.stop();
    this.timer = setInterval(() => {
      const changes = this.poll();
      if (changes.added.length > 0 || changes.ended.length > 0) onChange(changes);
    }, intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
