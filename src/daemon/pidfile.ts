/**
 * The PID file (-i, PID_FILE): refuses to start while another live logwarden holds it, takes over a stale one
 * (left by a crash), and is removed at exit only if it is still ours.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeFolders } from '../files/folders.js';

export class PidFileError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function writePidFile(path: string): () => void {
  let previous: number | null = null;
  try {
    previous = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
  } catch {
    // none yet
  }
  if (previous !== null && Number.isInteger(previous) && previous !== process.pid && alive(previous)) {
    throw new PidFileError(`another logwarden (pid ${previous}) is running: ${path}`);
  }
  try {
    makeFolders(dirname(path));
    writeFileSync(path, `${process.pid}\n`, { mode: 0o644 });
  } catch (error) {
    throw new PidFileError(`cannot write the PID file ${path}: ${(error as Error).message}`);
  }
  return () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path);
    } catch {
      // already gone
    }
  };
}
