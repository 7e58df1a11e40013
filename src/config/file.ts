/**
 * Configuration files in sshguard.conf syntax: `KEY=value`, `KEY="value"` or `KEY='value'` lines, each optionally
 * followed by a `# comment`; blank lines and comments. Keys are sshguard.conf's (THRESHOLD, BLOCK_TIME...) or
 * logwarden's own option names; both come from the option table. Values are checked here, so that a mistake names
 * the file, line and key.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseBlacklistOption } from '../policy/blacklist.js';
import { ConfigError } from './errors.js';
import { OPTIONS, type OptionSpec, outOfRange } from './options.js';

export type ConfigValue = string | number | boolean | string[];

export interface ConfigNote {
  file: string;
  line: number;
  key: string;
  message: string;
}

export interface ConfigFile {
  file: string;
  /** By option name */
  values: Record<string, ConfigValue>;
  /** Where each value was set (`file:line: KEY`), by option name; for lists, one per value */
  origins: Record<string, string[]>;
  /** Keys this command does not use, unknown keys, keys set twice: reported, not fatal */
  warnings: ConfigNote[];
}

/** sshguard's firewall programs, by the name of their file, and ours that does the same job. */
const SSHGUARD_BACKENDS: Record<string, string | null> = {
  'sshg-fw-nft-sets': 'nft',
  'sshg-fw-iptables': 'iptables',
  'sshg-fw-ipset': 'ipset',
  'sshg-fw-null': 'null',
  'sshg-fw-firewalld': null,
  'sshg-fw-pf': null,
  'sshg-fw-ipfw': null,
  'sshg-fw-ipfilter': null,
  'sshg-fw-hosts': null,
};

/**
 * BACKEND: a path to one of sshguard's `sshg-fw-*` programs, or one of our backend names. Throws a message
 * saying which backends exist when there is no equivalent.
 */
export function backendFromSshguard(value: string, ours: readonly string[]): string {
  if (ours.includes(value)) return value;
  const program = basename(value);
  const mapped = SSHGUARD_BACKENDS[program];
  if (mapped) return mapped;
  const hint = program === 'sshg-fw-firewalld' ? ' (firewalld runs on nftables: the nft backend works beside it, in its own table)' : '';
  const what = mapped === null ? `sshguard's ${program} has no logwarden equivalent${hint}` : `${JSON.stringify(value)} is not a backend logwarden knows`;
  throw new Error(`${what}; logwarden has ${ours.join(', ')} (sshg-fw-nft-sets, sshg-fw-iptables, sshg-fw-ipset, sshg-fw-null map to them)`);
}

interface Assignment {
  key: string;
  value: string;
}

/** Reads a double-quoted value (sh rules: backslash escapes " \ $ `); returns it and the index after the quote. */
function doubleQuoted(text: string, start: number): [string, number] | null {
  let out = '';
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return [out, i + 1];
    if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) {
      out += text[++i];
    } else {
      out += c;
    }
  }
  return null;
}

/** Splits one line into key and value, or throws a message (without the location). Null for blank and comment lines. */
function assignment(line: string): Assignment | null {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return null;
  const m = /^(?:export\s+)?([A-Za-z][A-Za-z0-9_-]*)\s*=\s*/.exec(text);
  if (!m) throw new Error(`expected KEY=value, got ${JSON.stringify(text.slice(0, 80))}`);
  const key = m[1];
  let i = m[0].length;
  let value: string;
  if (text[i] === '"' || text[i] === "'") {
    const quote = text[i];
    let end: number;
    if (quote === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new Error(`${key}: unterminated ' quote`);
      value = text.slice(i + 1, close);
      end = close + 1;
    } else {
      const read = doubleQuoted(text, i + 1);
      if (!read) throw new Error(`${key}: unterminated " quote`);
      [value, end] = read;
    }
    i = end;
  } else {
    const stop = text.slice(i).search(/\s/);
    value = stop < 0 ? text.slice(i) : text.slice(i, i + stop);
    i = stop < 0 ? text.length : i + stop;
  }
  const rest = text.slice(i);
  if (rest.trim() !== '' && !/^\s+#/.test(rest)) {
    throw new Error(`${key}: unexpected ${JSON.stringify(rest.trim().slice(0, 40))} after the value (quote a value that contains spaces)`);
  }
  return { key, value };
}

function keyTable(): Map<string, [string, OptionSpec]> {
  const byKey = new Map<string, [string, OptionSpec]>();
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    if (spec.cliOnly) continue;
    byKey.set(name, [name, spec]);
    if (spec.sshguardKey) byKey.set(spec.sshguardKey, [name, spec]);
  }
  return byKey;
}

/** One value of an option, checked against its type, choices and range; throws a message (without the location). */
function convert(key: string, name: string, spec: OptionSpec, value: string, file: string): ConfigValue {
  if (spec.type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`expected a number, got ${JSON.stringify(value)}`);
    const problem = outOfRange(spec, n);
    if (problem) throw new Error(problem);
    return n;
  }
  if (spec.type === 'boolean') {
    if (!/^(true|false|yes|no|1|0)$/i.test(value)) throw new Error(`expected true or false, got ${JSON.stringify(value)}`);
    return /^(true|yes|1)$/i.test(value);
  }
  if (name === 'backend') return backendFromSshguard(value, spec.choices ?? []);
  if (spec.choices && !spec.choices.includes(value)) throw new Error(`expected one of ${spec.choices.join(', ')}, got ${JSON.stringify(value)}`);
  if (name === 'blacklist') {
    try {
      parseBlacklistOption(value);
    } catch (error) {
      throw new Error((error as Error).message.replace(/^--blacklist: /, ''));
    }
  }
  // sshguard reads WHITELIST_FILE as a file, always: a relative name is taken from the configuration's folder
  if (key === 'WHITELIST_FILE') return resolve(dirname(file), value);
  return value;
}

export function parseConfigText(text: string, file: string, command: string): ConfigFile {
  const byKey = keyTable();
  const result: ConfigFile = { file, values: {}, origins: {}, warnings: [] };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const where = `${file}:${i + 1}`;
    let a: Assignment | null;
    try {
      a = assignment(lines[i]);
    } catch (error) {
      throw new ConfigError(`${where}: ${(error as Error).message}`);
    }
    if (!a) continue;
    const { key, value } = a;
    const known = byKey.get(key);
    if (!known) {
      result.warnings.push({ file, line: i + 1, key, message: 'unknown key, ignored' });
      continue;
    }
    const [name, spec] = known;
    if (!spec.commands.includes(command) && !spec.commands.includes('*')) {
      result.warnings.push({ file, line: i + 1, key, message: `not used by ${command}` });
      continue;
    }
    // As in sh, where sshguard reads it: an empty value leaves the key unset
    if (value === '') continue;
    const origin = `${where}: ${key}`;
    // FILES is a space-separated list, as the shell splits it
    const raw = key === 'FILES' ? value.split(/\s+/).filter((v) => v !== '') : [value];
    let converted: ConfigValue[];
    try {
      converted = raw.map((v) => convert(key, name, spec, v, file));
    } catch (error) {
      throw new ConfigError(`${origin}: ${(error as Error).message}`);
    }
    if (spec.repeatable) {
      result.values[name] = [...((result.values[name] as string[] | undefined) ?? []), ...(converted as string[])];
      result.origins[name] = [...(result.origins[name] ?? []), ...converted.map(() => origin)];
    } else {
      // As sh reads sshguard.conf, the last assignment wins; the earlier one was likely meant, or forgotten
      const earlier = result.origins[name]?.[0];
      if (earlier !== undefined) result.warnings.push({ file, line: i + 1, key, message: `set again: replaces ${earlier}` });
      result.values[name] = converted[0];
      result.origins[name] = [origin];
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
