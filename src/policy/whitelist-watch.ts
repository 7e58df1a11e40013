/**
 * Keeps the daemon's whitelist in step with its files: re-reads them when they change (chokidar) or when asked
 * (SIGHUP), and reports what was added and removed, so that a newly whitelisted address can be unblocked at once
 * and a removed one stops being protected. A file that cannot be read any more keeps its last good entries and
 * is logged at error: protection is never dropped silently.
 */
import { dirname, join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log/logger.js';
import { networkText } from './network.js';
import { diffWhitelist, emptyEntries, readWhitelistFile, withoutWide, type WhitelistDiff, type WhitelistEntries, type WhitelistProblem } from './whitelist.js';

export interface WhitelistFile {
  path: string;
  /** Configured (a missing file was fatal at start), or the default file (read only when it exists) */
  required: boolean;
  /** The entries of its last good read */
  entries: WhitelistEntries;
}

export interface WhitelistSetup {
  /** Entries given on the command line or in the configuration (not in a file): they never change */
  fixed: WhitelistEntries;
  files: WhitelistFile[];
  /** Accept entries wider than WIDEST_WHITELIST; otherwise a reload skips them (loudly) */
  allowWide?: boolean;
}

export interface WhitelistChange extends WhitelistDiff {
  /** The whole whitelist now */
  entries: WhitelistEntries;
  /** Lines that are not entries, and files that could not be read (their last entries are kept) */
  problems: WhitelistProblem[];
}

export interface WhitelistWatchOptions {
  log: Logger;
  onChange: (change: WhitelistChange) => void;
  /** Events closer together than this make one reload (an editor's save is several) */
  debounceMs?: number;
}

/** The fixed entries followed by each file's, in order. */
export function mergeWhitelist(setup: WhitelistSetup): WhitelistEntries {
  const all = emptyEntries();
  for (const part of [setup.fixed, ...setup.files.map((f) => f.entries)]) {
    all.networks.push(...part.networks);
    all.hostnames.push(...part.hostnames);
    all.problems.push(...part.problems);
  }
  return all;
}

export class WhitelistWatcher {
  private readonly files: WhitelistFile[];
  private merged: WhitelistEntries;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly setup: WhitelistSetup,
    private readonly options: WhitelistWatchOptions,
  ) {
    this.files = setup.files.map((f) => ({ ...f }));
    this.merged = mergeWhitelist(setup);
  }

  get entries(): WhitelistEntries {
    return this.merged;
  }

  /** Starts watching the files (also those that do not exist yet); resolves once the watcher is ready. */
  async start(): Promise<void> {
    if (this.files.length === 0) return;
    // The folders, not the files: an editor's save renames a new file over the old one, and a file may not exist yet
    const paths = new Set(this.files.map((f) => f.path));
    const folders = new Set([...paths].map((p) => dirname(p)));
    const watcher = watch([...folders], { ignoreInitial: true, depth: 0, ignored: (path) => !folders.has(path) && !paths.has(path) });
    this.watcher = watcher;
    watcher.on('all', (_event, path) => {
      if (paths.has(path)) this.schedule();
    });
    // chokidar's own events can miss a rename over a file it watches: the raw ones do not (a reload that finds
    // nothing new is silent)
    watcher.on('raw', (_event, name, details) => {
      const at = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (at !== undefined && (paths.has(at) || paths.has(join(at, String(name))))) this.schedule();
    });
    watcher.on('error', (error) => this.options.log.error({ error: String(error) }, 'whitelist watcher failed: reload with SIGHUP'));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reload();
    }, this.options.debounceMs ?? 50);
  }

  /** Re-reads every file now (the daemon calls this on SIGHUP); reports and returns what changed. */
  reload(): WhitelistChange {
    const { log } = this.options;
    const problems: WhitelistProblem[] = [];
    for (const file of this.files) {
      let entries: WhitelistEntries;
      try {
        entries = readWhitelistFile(file.path);
        if (!this.setup.allowWide) entries = withoutWide(entries);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const kept = file.entries.networks.length + file.entries.hostnames.length;
        // The default file, never seen: nothing to keep, nothing to say
        if (!file.required && code === 'ENOENT' && kept === 0) continue;
        const message = `cannot read: ${(error as Error).message}; keeping its ${kept} entries from the last good read`;
        problems.push({ source: file.path, line: null, entry: file.path, message });
        log.error({ file: file.path, kept }, `whitelist ${file.path} ${message}`);
        continue;
      }
      for (const p of entries.problems) {
        problems.push(p);
        log[p.wide ? 'error' : 'warn']({ file: p.source, line: p.line, entry: p.entry }, `whitelist entry skipped: ${p.message}`);
      }
      file.entries = entries;
    }
    const next = mergeWhitelist({ fixed: this.setup.fixed, files: this.files });
    const change: WhitelistChange = { ...diffWhitelist(this.merged, next), entries: next, problems };
    this.merged = next;
    const { added, removed } = change;
    if (added.networks.length + added.hostnames.length + removed.networks.length + removed.hostnames.length > 0) {
      log.info(
        {
          added: [...added.networks.map(networkText), ...added.hostnames],
          removed: [...removed.networks.map(networkText), ...removed.hostnames],
        },
        'whitelist reloaded',
      );
      this.options.onChange(change);
    } else if (problems.length > 0) {
      this.options.onChange(change);
    }
    return change;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.watcher?.close();
    this.watcher = null;
  }
}
