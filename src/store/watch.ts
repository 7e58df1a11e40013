/**
 * How a long-running process learns what the commands changed: the store is the channel. Polling is cheap:
 * SQLite's data_version changes only when another connection has committed something.
 */
import type { BlockRow, Store } from './store.js';

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

  constructor(private readonly store: Store) {
    for (const b of store.activeBlocks()) this.known.set(b.id, b);
    this.version = this.dataVersion();
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
