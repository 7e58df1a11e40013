/**
 * Whether the local syslog daemon takes lines from the network. When it does, anyone who can reach its port can
 * write `sshd[1]: Failed password for root from ADDR` into the files logwarden reads, with any banner they like:
 * a file keeps no trace of who wrote a line. Found by reading rsyslog's and syslog-ng's configuration text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ConfigText {
  path: string;
  text: string;
}

export interface NetworkInput {
  path: string;
  /** 1-based */
  line: number;
  /** What was found: `imudp`, `$UDPServerRun`, `udp()`, ... */
  what: string;
}

const RSYSLOG: { re: RegExp; what: (m: RegExpExecArray) => string }[] = [
  { re: /\b(?:module|input)\s*\(\s*(?:load|type)\s*=\s*"(im(?:udp|tcp|ptcp|relp|gssapi))"/gi, what: (m) => m[1].toLowerCase() },
  { re: /^\s*\$ModLoad\s+(im(?:udp|tcp|ptcp|relp|gssapi))\b/gim, what: (m) => m[1].toLowerCase() },
  { re: /^\s*(\$(?:UDPServerRun|InputTCPServerRun|InputPTCPServerRun|InputRELPServerRun|InputUDPServerRun))\b/gim, what: (m) => m[1] },
];

/** rsyslog's lines without their comments (`#` to the end of the line; quoted text is kept as it is). */
function withoutComments(text: string): string {
  return text.replace(/("(?:[^"\\\n]|\\.){0,4096}")|#[^\n]*/g, (_m, quoted: string | undefined) => quoted ?? '');
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

export function rsyslogNetworkInputs(config: ConfigText): NetworkInput[] {
  const text = withoutComments(config.text);
  const found: NetworkInput[] = [];
  for (const { re, what } of RSYSLOG) {
    for (const m of text.matchAll(re)) found.push({ path: config.path, line: lineOf(text, m.index), what: what(m) });
  }
  return found.sort((a, b) => a.line - b.line);
}

/** syslog-ng's network drivers inside `source NAME { ... };` blocks */
export function syslogNgNetworkInputs(config: ConfigText): NetworkInput[] {
  // syslog-ng comments also start with # (outside strings)
  const text = withoutComments(config.text);
  const found: NetworkInput[] = [];
  for (const block of text.matchAll(/\bsource\s+[\w-]+\s*\{/g)) {
    let depth = 1;
    let end = block.index + block[0].length;
    for (; end < text.length && depth > 0; end++) {
      if (text[end] === '{') depth++;
      else if (text[end] === '}') depth--;
    }
    const body = text.slice(block.index, end);
    for (const m of body.matchAll(/\b(udp6?|tcp6?|network|syslog)\s*\(/g)) {
      found.push({ path: config.path, line: lineOf(text, block.index + m.index), what: `${m[1]}()` });
    }
  }
  return found;
}

/** The configuration files of rsyslog and syslog-ng that exist (unreadable ones are left out). */
export function readSyslogConfigs(root = '/etc'): { rsyslog: ConfigText[]; syslogNg: ConfigText[] } {
  const read = (paths: string[]) =>
    paths.flatMap((path) => {
      try {
        return [{ path, text: readFileSync(path, 'utf8') }];
      } catch {
        return [];
      }
    });
  const dir = (path: string) => {
    try {
      return readdirSync(path).filter((n) => n.endsWith('.conf')).sort().map((n) => join(path, n));
    } catch {
      return [];
    }
  };
  return {
    rsyslog: read([join(root, 'rsyslog.conf'), ...dir(join(root, 'rsyslog.d'))]),
    syslogNg: read([join(root, 'syslog-ng/syslog-ng.conf'), ...dir(join(root, 'syslog-ng/conf.d'))]),
  };
}

/** Every network input of the local syslog daemons' configuration. */
export function syslogNetworkInputs(configs: { rsyslog: ConfigText[]; syslogNg: ConfigText[] }): NetworkInput[] {
  return [...configs.rsyslog.flatMap(rsyslogNetworkInputs), ...configs.syslogNg.flatMap(syslogNgNetworkInputs)];
}
