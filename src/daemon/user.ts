/**
 * The user --user runs the daemon process as (daemon/privsep.ts): whether this process can switch to it, the
 * switch itself (checked in /proc), and the store's writability for it. Kept apart from privsep.ts so that
 * `run --check` loads none of the daemon's modules.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RunConfig } from '../config/run.js';

const CAP_SETGID = 6n;
const CAP_SETUID = 7n;

export type RunUser = NonNullable<RunConfig['user']>;

function statusField(status: string, field: string): string {
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status)?.[1].trim() ?? '';
}

/** Why this process cannot switch to `user`, or null when it can (root, or CAP_SETUID and CAP_SETGID). */
export function cannotSwitch(user: RunUser, status = readFileSync('/proc/self/status', 'utf8')): string | null {
  const uids = statusField(status, 'Uid').split(/\s+/).map(Number);
  if (uids[1] === user.uid) return `logwarden already runs as ${user.name} (uid ${user.uid}): start it as root, it then runs its daemon process as ${user.name} and keeps only the firewall process privileged`;
  const eff = BigInt(`0x${statusField(status, 'CapEff') || '0'}`);
  const has = (bit: bigint) => (eff & (1n << bit)) !== 0n;
  if (!has(CAP_SETUID) || !has(CAP_SETGID)) {
    const who = uids[1] === 0 ? 'root without them (a capability bounding set that leaves them out: the systemd unit needs them added, docs/security.md)' : `uid ${uids[1]} without them`;
    return `switching to ${user.name} needs CAP_SETUID and CAP_SETGID; logwarden runs as ${who}`;
  }
  return null;
}

/**
 * Becomes `user` for good: its supplementary groups (e.g. adm to read auth.log), its group, its uid. From
 * root to a non-root uid, the kernel clears every capability (permitted, effective, ambient); /proc says so.
 */
export function dropPrivileges(user: RunUser): void {
  // Node has initgroups on POSIX; its type declarations leave it out
  const posix = process as unknown as Required<Pick<NodeJS.Process, 'setgid' | 'setuid'>> & { initgroups: (user: string, group: number) => void };
  posix.initgroups(user.name, user.gid);
  posix.setgid(user.gid);
  posix.setuid(user.uid);
  const status = readFileSync('/proc/self/status', 'utf8');
  const uids = statusField(status, 'Uid').split(/\s+/).map(Number);
  const gids = statusField(status, 'Gid').split(/\s+/).map(Number);
  if (uids.some((u) => u !== user.uid) || gids.some((g) => g !== user.gid)) throw new Error(`dropping to ${user.name} failed: /proc says Uid ${uids.join(' ')}, Gid ${gids.join(' ')}`);
  for (const set of ['CapPrm', 'CapEff', 'CapAmb']) {
    if (BigInt(`0x${statusField(status, set) || '1'}`) !== 0n) throw new Error(`dropping to ${user.name} left capabilities: ${set} ${statusField(status, set)}`);
  }
}

/** The path, or its nearest folder that exists */
export function nearestExisting(path: string): string {
  while (!existsSync(path) && dirname(path) !== path) path = dirname(path);
  return path;
}

/**
 * As `user`: the store's folder and files must be writable (SQLite makes PATH-wal and PATH-shm beside it).
 * Nothing is chowned: the message says what to do.
 */
export function checkStoreWritable(db: string, user: RunUser): void {
  const folder = nearestExisting(dirname(db));
  for (const path of [folder, db, `${db}-wal`, `${db}-shm`]) {
    if (path !== folder && !existsSync(path)) continue;
    try {
      accessSync(path, constants.W_OK);
    } catch {
      const what = path === folder ? `the store's folder ${folder}` : `the store file ${path}`;
      throw new Error(`${what} is not writable for ${user.name} (uid ${user.uid}), the user --user runs the daemon as: chown ${user.name}: ${path} (or choose a --db in a folder ${user.name} owns)`);
    }
  }
}
