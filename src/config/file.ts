/**
 * Configuration files in sshguard.conf syntax (`KEY=value` lines, `#` comments, optional quotes). Keys are
 * sshguard.conf's (THRESHOLD, BLOCK_TIME...) or logwarden's own option names; both come from the option table.
 */
import { readFileSync } from 'node:fs';
import { OPTIONS, type OptionSpec } from './options.js';
import { ConfigError } from './errors.js';

/** sshguard.conf keys that configure sshguard's shell wrapper, not its policy: accepted, not used here. */
const WRAPPER_KEYS = new Set(['BACKEND', 'FILES', 'LOGREADER', 'PID_FILE']);

export interface ConfigFile {
  values: Record<string, string | number | boolean | string[]>;
  /** Keys accepted but not used by this command */
  ignored: { key: string; line: number }[];
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) return v.slice(1, -1);
  return v.replace(/\s+#.*$/, '');
}

export function parseConfigText(text: string, file: string, command: string): ConfigFile {
  const byKey = new Map<string, [string, OptionSpec]>();
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    byKey.set(name, [name, spec]);
    if (spec.sshguardKey) byKey.set(spec.sshguardKey, [name, spec]);
  }
  const result: ConfigFile = { values: {}, ignored: [] };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const where = `${file}:${i + 1}`;
    const m = /^([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*)$/s.exec(raw);
    if (!m) throw new ConfigError(`${where}: expected KEY=value, got ${JSON.stringify(raw.slice(0, 80))}`);
    const [, key, rawValue] = m;
    const value = unquote(rawValue);
    if (WRAPPER_KEYS.has(key)) {
      result.ignored.push({ key, line: i + 1 });
      continue;
    }
    const known = byKey.get(key);
    if (!known) throw new ConfigError(`${where}: unknown key ${key}`);
    const [name, spec] = known;
    if (!spec.commands.includes(command) && !spec.commands.includes('*')) {
      result.ignored.push({ key, line: i + 1 });
      continue;
    }
    if (spec.type === 'number') {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n)) throw new ConfigError(`${where}: ${key}: expected a number, got ${JSON.stringify(value)}`);
      result.values[name] = n;
    } else if (spec.type === 'boolean') {
      if (!/^(true|false|yes|no|1|0)$/i.test(value)) throw new ConfigError(`${where}: ${key}: expected true or false, got ${JSON.stringify(value)}`);
      result.values[name] = /^(true|yes|1)$/i.test(value);
    } else if (spec.repeatable) {
      result.values[name] = [...((result.values[name] as string[] | undefined) ?? []), value];
    } else {
      if (spec.choices && !spec.choices.includes(value)) {
        throw new ConfigError(`${where}: ${key}: expected one of ${spec.choices.join(', ')}, got ${JSON.stringify(value)}`);
      }
      result.values[name] = value;
    }
  }
  return result;
}

export function readConfigFile(file: string, command: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read configuration ${file}: ${(error as Error).message}`);
  }
  return parseConfigText(text, file, command);
}
