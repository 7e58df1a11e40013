/**
 * The allow table: the networks the kernel's allow sets must hold, each with where it came from (origin: config,
 * interface, session, ...) and a detail (FILE:LINE, -w, the interface, the session), so that every command and
 * the daemon apply the same list and one command's -w is not wiped by the next.
 */
import type Database from 'better-sqlite3';
import { type Network, parseNetwork } from '../policy/network.js';

export interface AllowEntry {
  net: Network;
  origin: string;
  detail: string;
}

export class AllowTable {
  private readonly selectAll: Database.Statement;
  private readonly deleteOrigin: Database.Statement;
  private readonly insertOne: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.selectAll = db.prepare('SELECT network, origin, detail FROM allow ORDER BY id');
    this.deleteOrigin = db.prepare('DELETE FROM allow WHERE origin = ?');
    this.insertOne = db.prepare('INSERT INTO allow (network, kind, origin, detail) VALUES (?, ?, ?, ?)');
  }

  list(): AllowEntry[] {
    const entries: AllowEntry[] = [];
    for (const row of this.selectAll.all() as { network: string; origin: string; detail: string }[]) {
      const net = parseNetwork(row.network);
      // written canonical by replace(); a row that no longer parses is not ours to guess about
      if (net !== null) entries.push({ net, origin: row.origin, detail: row.detail });
    }
    return entries;
  }

  /** Replaces the rows of `origin` (only) in one transaction. */
  replace(origin: string, entries: readonly { net: Network; detail: string }[]): void {
    this.db.transaction(() => {
      this.deleteOrigin.run(origin);
      for (const e of entries) this.insertOne.run(`${e.net.addr}/${e.net.cidr}`, e.net.kind, origin, e.detail);
    }).immediate();
  }
}
