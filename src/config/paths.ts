/**
 * Where logwarden keeps its files by default: the system's folders when it runs as root, else the user's XDG
 * folders (https://specifications.freedesktop.org/basedir-spec/), so a user can try it without root.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export interface DefaultPaths {
  /** Read when it exists and no --config is given */
  config: string;
  /** Read (and watched) when it exists, in addition to -w and WHITELIST_FILE */
  whitelist: string;
  db: string;
  pidFile: string;
}

export interface PathEnvironment {
  uid: number | undefined;
  env: Record<string, string | undefined>;
  home: string;
}

const current = (): PathEnvironment => ({ uid: process.getuid?.(), env: process.env, home: homedir() });

/** An XDG variable counts only when it holds an absolute path (the spec says to ignore relative ones). */
function xdg(env: PathEnvironment['env'], name: string, fallback: string): string {
  const value = env[name];
  return value && isAbsolute(value) ? value : fallback;
}

export function defaultPaths(environment: PathEnvironment = current()): DefaultPaths {
  if (environment.uid === 0) {
    return {
      config: '/etc/logwarden/logwarden.conf',
      whitelist: '/etc/logwarden/whitelist',
      db: '/var/lib/logwarden/state.db',
      pidFile: '/run/logwarden.pid',
    };
  }
  const { env, home } = environment;
  const config = join(xdg(env, 'XDG_CONFIG_HOME', join(home, '.config')), 'logwarden');
  const state = join(xdg(env, 'XDG_STATE_HOME', join(home, '.local', 'state')), 'logwarden');
  const runtime = xdg(env, 'XDG_RUNTIME_DIR', state);
  return {
    config: join(config, 'logwarden.conf'),
    whitelist: join(config, 'whitelist'),
    db: join(state, 'state.db'),
    pidFile: join(runtime, 'logwarden.pid'),
  };
}
