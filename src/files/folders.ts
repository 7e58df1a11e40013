/**
 * `mkdir -p` that fails instead of spinning: Node 20's `mkdirSync(path, { recursive: true })` loops forever,
 * at full CPU and deaf to signals, when a parent refuses a new entry with ENOENT (as /proc and /sys do), so
 * `--db /proc/x/state.db` hung the daemon instead of naming the mistake.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function makeFolders(folder: string): void {
  const missing: string[] = [];
  let at = resolve(folder);
  for (; !existsSync(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${at}'`), { code: 'ENOTDIR' });
  for (const f of missing.reverse()) {
    try {
      mkdirSync(f);
    } catch (error) {
      // made meanwhile by another process: what was wanted
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
