/**
 * Everything `logwarden run` needs, from its parsed arguments (the configuration file already applied), checked
 * once into one typed object: the daemon never looks at raw options. Errors name the flag, or the file, line and
 * key; what is accepted but not done as sshguard does is returned as warnings to log at start.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { FleetConfig } from '../fleet/fleet.js';
import { type ListenAddress, parseListenAddress } from '../metrics/server.js';
import type { LogLevel } from '../log/logger.js';
import type { BlacklistOption } from '../policy/blacklist.js';
import type { PolicyConfig } from '../policy/policy.js';
import { addWhitelistEntry, emptyEntries, isWhitelistFile, isWideNetwork, readWhitelistFile, type WhitelistEntries, wideNetworkProblem } from '../policy/whitelist.js';
import { mergeWhitelist, type WhitelistFile, type WhitelistSetup } from '../policy/whitelist-watch.js';
import { ConfigError } from './errors.js';
import { DEFAULT_JOURNAL_IDENTIFIERS } from '../sources/journal.js';
import { journalReaderOf } from '../sources/command.js';
import { defaultPaths, type DefaultPaths } from './paths.js';
import { originOf, type PolicyArgs, policyFromArgs } from './policy.js';

export type BackendName = 'nft' | 'iptables' | 'ipset' | 'null';

export interface JournalConfig {
  /** SYSLOG_IDENTIFIER matches (journalctl -t); with `units`, empty for both means every entry */
  identifiers: string[];
  /** _SYSTEMD_UNIT matches (journalctl -u) */
  units: string[];
  /** A journal file to follow (journalctl --file), or null for the system journal */
  file: string | null;
  /** journalctl -p, as a LOGREADER gave it */
  priority?: string;
}

export interface RunSources {
  files: string[];
  stdin: boolean;
  journal: JournalConfig | null;
  /** A LOGREADER that is not a plain journalctl command: run with /bin/sh -c */
  logreader: string | null;
}

export interface FirewallConfig {
  backend: BackendName;
  name: string;
  hooks: ('input' | 'forward')[];
  priority: number;
}

export interface RunUser {
  name: string;
  uid: number;
  gid: number;
}

export interface RunWarning {
  /** The flag, or `FILE:LINE: KEY` */
  origin: string;
  message: string;
}

export interface RunConfig {
  configFile: string | null;
  sources: RunSources;
  policy: PolicyConfig;
  blacklist: BlacklistOption | null;
  /** For a WhitelistWatcher; `entries` is everything merged, as read at start */
  whitelist: WhitelistSetup & { entries: WhitelistEntries };
  resolveHostnames: boolean;
  rulesDir: string | null;
  firewall: FirewallConfig;
  db: string;
  pidFile: string;
  dryRun: boolean;
  check: boolean;
  keepOnExit: boolean;
  logLevel: LogLevel;
  /** seconds */
  syncInterval: number;
  /** Shell commands, as sshguard runs them (they come from root's configuration) */
  parser: string | null;
  postParser: string | null;
  /** The user PARSER and POST_PARSER run as */
  user: RunUser | null;
  statsDir: string | null;
  /** --metrics: where /metrics is served, or null */
  metrics: ListenAddress | null;
  /** --on-block / --on-release programs (an absolute path, or a name found in PATH at start) */
  hooks: { onBlock: string | null; onRelease: string | null };
  /** --lapi-*: sharing decisions through CrowdSec's Local API, or null */
  fleet: FleetConfig | null;
  warnings: RunWarning[];
}

/** What loadRunConfig reads: the parsed arguments of `run` (see cli/command.ts's Args). */
export interface RunArgs extends PolicyArgs {
  files?: string[];
  _configFile?: string | null;
  _warnings?: { file: string; line: number; key: string; message: string }[];
  [option: string]: unknown;
}

/** Firewall object names: safe in nft, iptables and ipset, short enough for ipset's 31 characters with suffixes. */
const FIREWALL_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,23}$/;
/** Journal identifiers and units go to journalctl as arguments: no option look-alikes, no odd characters. */
const JOURNAL_NAME = /^[A-Za-z0-9_.@:/+()][A-Za-z0-9_.@:/+()-]{0,127}$/;

export interface RunEnvironment {
  paths: DefaultPaths;
  /** Looks a user up: uid and gid, or null when there is none */
  lookupUser: (name: string) => { uid: number; gid: number } | null;
}

function getentUser(name: string): { uid: number; gid: number } | null {
  try {
    const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const fields = line.trim().split(':');
    return { uid: Number(fields[2]), gid: Number(fields[3]) };
  } catch {
    return null;
  }
}

const defaultEnvironment = (): RunEnvironment => ({ paths: defaultPaths(), lookupUser: getentUser });

function str(args: RunArgs, name: string): string | null {
  const value = args[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

function list(args: RunArgs, name: string): string[] {
  const value = args[name];
  return Array.isArray(value) ? (value as string[]) : [];
}

const fail = (origin: string, message: string) => new ConfigError(`${origin}: ${message}`);

/** The journal to read (--journal, --journal-file, --journal-match, or a LOGREADER running journalctl), or null. */
export function journalOf(args: RunArgs, logreaderJournal: { identifiers: string[]; units?: string[]; priority?: string } | null): JournalConfig | null {
  const file = str(args, 'journal-file');
  const matches = list(args, 'journal-match');
  if (!args.journal && file === null && logreaderJournal === null) {
    if (matches.length > 0) throw fail(originOf(args, 'journal-match'), 'needs --journal or --journal-file');
    return null;
  }
  const journal: JournalConfig = { identifiers: [], units: [], file: file === null ? null : resolve(file) };
  if (matches.length === 0 && logreaderJournal) {
    journal.identifiers.push(...logreaderJournal.identifiers);
    journal.units.push(...(logreaderJournal.units ?? []));
    if (logreaderJournal.priority !== undefined) journal.priority = logreaderJournal.priority;
  } else if (matches.length === 0) {
    journal.identifiers.push(...DEFAULT_JOURNAL_IDENTIFIERS);
  }
  matches.forEach((match, i) => {
    const m = /^(?:(SYSLOG_IDENTIFIER|_SYSTEMD_UNIT)=)?(.*)$/s.exec(match)!;
    if (!JOURNAL_NAME.test(m[2])) {
      throw fail(originOf(args, 'journal-match', i), `expected IDENTIFIER, SYSLOG_IDENTIFIER=IDENTIFIER or _SYSTEMD_UNIT=UNIT, got ${JSON.stringify(match)}`);
    }
    (m[1] === '_SYSTEMD_UNIT' ? journal.units : journal.identifiers).push(m[2]);
  });
  for (const name of [...journal.identifiers, ...journal.units]) {
    if (!JOURNAL_NAME.test(name)) throw fail(originOf(args, 'logreader'), `journal match ${JSON.stringify(name)} is not a plain identifier or unit name`);
  }
  return journal;
}

function sourcesOf(args: RunArgs, warnings: RunWarning[]): RunSources {
  const positional = args.files ?? [];
  // As sshguard: FILE arguments replace the configuration's FILES and LOGREADER; -l adds to FILES
  const fromConfig = (name: string, i = 0) => !originOf(args, name, i).startsWith('--');
  const listed = list(args, 'source').filter((_, i) => positional.length === 0 || !fromConfig('source', i));
  const logreaderText = positional.length > 0 && fromConfig('logreader') ? null : str(args, 'logreader');
  const logreaderJournal = logreaderText === null ? null : journalReaderOf(logreaderText);
  if (logreaderJournal) {
    warnings.push({
      origin: originOf(args, 'logreader'),
      message: `read natively as the journal (identifiers: ${logreaderJournal.identifiers.join(', ') || 'all'}${logreaderJournal.units?.length ? `; units: ${logreaderJournal.units.join(', ')}` : ''}), resuming from the last entry read, instead of running the command`,
    });
  }
  const sources: RunSources = {
    files: [],
    stdin: false,
    journal: journalOf(args, logreaderJournal),
    logreader: logreaderJournal ? null : logreaderText,
  };
  for (const file of [...positional, ...listed]) {
    if (file === '-') sources.stdin = true;
    else if (!sources.files.includes(resolve(file))) sources.files.push(resolve(file));
  }
  if (sources.files.length === 0 && !sources.stdin && !sources.journal && sources.logreader === null) {
    throw new ConfigError('no log to read: give FILE arguments, -l FILE, - (standard input), --journal or --journal-file, or FILES or LOGREADER in the configuration');
  }
  return sources;
}

function whitelistOf(args: RunArgs, paths: DefaultPaths, warnings: RunWarning[]): RunConfig['whitelist'] {
  const fixed = emptyEntries();
  const files: WhitelistFile[] = [];
  const values = list(args, 'whitelist');
  const allowWide = args['wide-whitelist'] === true;
  /** Where each whitelist file was given */
  const given = new Map<string, string>();
  values.forEach((value, i) => {
    const origin = originOf(args, 'whitelist', i);
    if (!isWhitelistFile(value)) {
      addWhitelistEntry(fixed, value, origin);
      const problem = fixed.problems.pop();
      if (problem) throw fail(origin, `${JSON.stringify(value)} is ${problem.message}`);
      const net = fixed.networks[fixed.networks.length - 1]?.net;
      if (!allowWide && net && isWideNetwork(net)) throw fail(origin, wideNetworkProblem(net));
      return;
    }
    const path = resolve(value);
    if (files.some((f) => f.path === path)) return;
    let entries: WhitelistEntries;
    try {
      entries = readWhitelistFile(path);
    } catch (error) {
      // As sshguard: starting without the whitelist is how an administrator locks himself out
      throw fail(origin, `cannot read whitelist file ${path}: ${(error as Error).message}`);
    }
    files.push({ path, required: true, entries });
    given.set(path, origin);
  });
  if (!files.some((f) => f.path === paths.whitelist)) {
    let entries = emptyEntries();
    if (existsSync(paths.whitelist)) {
      try {
        entries = readWhitelistFile(paths.whitelist);
      } catch (error) {
        throw new ConfigError(`cannot read the default whitelist file ${paths.whitelist}: ${(error as Error).message}`);
      }
    }
    // Watched even while missing, so that creating it takes effect
    files.push({ path: paths.whitelist, required: false, entries });
  }
  for (const file of files) {
    const wide = allowWide ? undefined : file.entries.networks.find((n) => isWideNetwork(n.net));
    if (wide) throw fail(given.get(file.path) ?? 'the default whitelist', `${file.path}:${wide.line}: ${wideNetworkProblem(wide.net)}`);
    for (const p of file.entries.problems) {
      warnings.push({ origin: `${p.source}:${p.line}`, message: `whitelist entry ${JSON.stringify(p.entry)} skipped: ${p.message}` });
    }
  }
  const setup = { fixed, files, allowWide };
  return { ...setup, entries: mergeWhitelist(setup) };
}

function firewallOf(args: RunArgs): FirewallConfig {
  const name = String(args['fw-name'] ?? 'logwarden');
  if (!FIREWALL_NAME.test(name)) {
    throw fail(originOf(args, 'fw-name'), `letters, digits, - and _ only (at most 24), starting with a letter; got ${JSON.stringify(name)}`);
  }
  const hook = String(args.hook ?? 'input');
  if (hook !== 'input' && hook !== 'input,forward') throw fail(originOf(args, 'hook'), `expected input or input,forward, got ${JSON.stringify(hook)}`);
  const backend = String(args.backend ?? 'nft');
  if (!['nft', 'iptables', 'ipset', 'null'].includes(backend)) {
    throw fail(originOf(args, 'backend'), `expected nft, iptables, ipset or null, got ${JSON.stringify(backend)}`);
  }
  return { backend: backend as BackendName, name, hooks: hook.split(',') as FirewallConfig['hooks'], priority: Number(args.priority ?? -10) };
}

/** sshguard settings logwarden accepts but does differently: each says what logwarden does instead. */
function compatibilityWarnings(args: RunArgs, config: Pick<RunConfig, 'parser' | 'postParser' | 'statsDir'>): RunWarning[] {
  const warnings: RunWarning[] = [];
  list(args, 'service-pid-file').forEach((_, i) =>
    warnings.push({
      origin: originOf(args, 'service-pid-file', i),
      message:
        "ignored: logwarden does not check log lines against a service's pid file; read the journal (--journal), whose trusted fields (_PID, _EXE, _SYSTEMD_UNIT) no client can forge",
    }),
  );
  const mask = str(args, 'mask-subnet-by');
  if (mask !== null) {
    warnings.push({
      origin: originOf(args, 'mask-subnet-by'),
      message: `logwarden always scores and blocks attackers by their IPV4_SUBNET/IPV6_SUBNET prefix (now /${args['ipv4-subnet'] ?? 32} and /${args['ipv6-subnet'] ?? 64}); ${JSON.stringify(mask)} changes nothing`,
    });
  }
  if (config.statsDir !== null) {
    warnings.push({
      origin: originOf(args, 'stats-dir'),
      message: 'logwarden writes no .prom files; `logwarden status --json` gives its counts',
    });
  }
  return warnings;
}

function metricsOf(args: RunArgs): ListenAddress | null {
  const text = str(args, 'metrics');
  if (text === null) return null;
  const at = parseListenAddress(text);
  if (typeof at === 'string') throw fail(originOf(args, 'metrics'), at);
  return at;
}

/** A secret given inline or in a file (its first line); both at once is a mistake. */
function secretOf(args: RunArgs, inline: string, file: string): string | null {
  const value = str(args, inline);
  const path = str(args, file);
  if (value !== null && path !== null) throw fail(originOf(args, file), `give --${inline} or --${file}, not both`);
  if (path === null) return value;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fail(originOf(args, file), `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const secret = text.split(/\r?\n/)[0].trim();
  if (secret === '') throw fail(originOf(args, file), `${path} is empty`);
  return secret;
}

/** A PEM file's text, checked to hold `what` ('CERTIFICATE', 'PRIVATE KEY'). */
function pemOf(args: RunArgs, name: string, what: string): string | null {
  const path = str(args, name);
  if (path === null) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fail(originOf(args, name), `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${what}-----`).test(text)) throw fail(originOf(args, name), `${path} holds no PEM ${what.toLowerCase()}`);
  return text;
}

/** A client certificate and its key, both or neither. */
function clientCertOf(args: RunArgs, certName: string): { cert: string; key: string } | null {
  const keyName = `${certName}-key`;
  const cert = pemOf(args, certName, 'CERTIFICATE');
  const key = pemOf(args, keyName, 'PRIVATE KEY');
  if ((cert === null) !== (key === null)) throw fail(originOf(args, cert === null ? keyName : certName), `--${certName} and --${keyName} go together`);
  if (cert === null || key === null) return null;
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw fail(originOf(args, certName), `cannot read the certificate or its key: ${(error as Error).message}`);
  }
  if (!matches) throw fail(originOf(args, keyName), `${str(args, keyName)} is not the key of ${str(args, certName)}`);
  return { cert, key };
}

function fleetOf(args: RunArgs): FleetConfig | null {
  const url = str(args, 'lapi-url');
  const machineId = str(args, 'lapi-machine');
  const password = secretOf(args, 'lapi-password', 'lapi-password-file');
  const bouncerKey = secretOf(args, 'lapi-key', 'lapi-key-file');
  const caFile = str(args, 'lapi-ca-file');
  const machineCert = clientCertOf(args, 'lapi-machine-cert');
  const bouncerCert = clientCertOf(args, 'lapi-bouncer-cert');
  if (url === null) {
    const stray =
      machineId !== null ? 'lapi-machine' : password !== null ? 'lapi-password' : bouncerKey !== null ? 'lapi-key' : caFile !== null ? 'lapi-ca-file'
        : machineCert !== null ? 'lapi-machine-cert' : bouncerCert !== null ? 'lapi-bouncer-cert' : null;
    if (stray !== null) throw fail(originOf(args, stray), 'needs --lapi-url (the CrowdSec Local API to share decisions with)');
    return null;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail(originOf(args, 'lapi-url'), `expected a URL such as http://127.0.0.1:8080, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw fail(originOf(args, 'lapi-url'), `expected an http or https URL, got ${JSON.stringify(url)}`);
  if ((machineCert !== null || bouncerCert !== null) && parsed.protocol !== 'https:') {
    throw fail(originOf(args, machineCert !== null ? 'lapi-machine-cert' : 'lapi-bouncer-cert'), `a client certificate is for an https LAPI; --lapi-url is ${JSON.stringify(url)}`);
  }
  if (machineCert !== null && (machineId !== null || password !== null)) {
    throw fail(originOf(args, 'lapi-machine-cert'), 'give --lapi-machine and --lapi-password, or --lapi-machine-cert, not both');
  }
  if (bouncerCert !== null && bouncerKey !== null) throw fail(originOf(args, 'lapi-bouncer-cert'), 'give --lapi-key or --lapi-bouncer-cert, not both');
  if ((machineId === null) !== (password === null)) {
    throw fail(originOf(args, machineId === null ? 'lapi-password' : 'lapi-machine'), 'pushing to the LAPI needs both --lapi-machine and --lapi-password (or --lapi-password-file)');
  }
  if (machineId === null && bouncerKey === null && machineCert === null && bouncerCert === null) {
    throw fail(originOf(args, 'lapi-url'), 'give --lapi-machine and --lapi-password to push blocks, --lapi-key to enforce the fleet\'s decisions, or both (client certificates can stand for them: --lapi-machine-cert, --lapi-bouncer-cert)');
  }
  let ca: string | null = null;
  if (caFile !== null) {
    if (parsed.protocol !== 'https:') throw fail(originOf(args, 'lapi-ca-file'), `a CA is for an https LAPI; --lapi-url is ${JSON.stringify(url)}`);
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw fail(originOf(args, 'lapi-ca-file'), `cannot read ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw fail(originOf(args, 'lapi-ca-file'), `${caFile} holds no PEM certificate`);
  }
  return {
    url,
    ca,
    machine: machineId !== null ? { id: machineId, password: password! } : null,
    bouncerKey,
    machineCert,
    bouncerCert,
    interval: Number(args['lapi-interval'] ?? 10),
    shareEvidence: args['lapi-share-evidence'] === true,
  };
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A hook program: a path must be an executable file; a bare name must be found in PATH (it is run without a shell). */
function hookOf(args: RunArgs, name: 'on-block' | 'on-release'): string | null {
  const program = str(args, name);
  if (program === null) return null;
  if (program.includes('/')) {
    const path = resolve(program);
    if (!isExecutableFile(path)) throw fail(originOf(args, name), `${path} is not an executable file`);
    return path;
  }
  const found = (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && isExecutableFile(join(dir, program)));
  if (!found) throw fail(originOf(args, name), `no program ${JSON.stringify(program)} in PATH (it is run directly, not through a shell: give a path or a program name)`);
  return program;
}

export function loadRunConfig(args: RunArgs, environment: RunEnvironment = defaultEnvironment()): RunConfig {
  const warnings: RunWarning[] = (args._warnings ?? []).map((w) => ({ origin: `${w.file}:${w.line}: ${w.key}`, message: w.message }));
  const { policy, blacklist } = policyFromArgs(args);
  const sources = sourcesOf(args, warnings);
  const whitelist = whitelistOf(args, environment.paths, warnings);
  const userName = str(args, 'user');
  let user: RunUser | null = null;
  if (userName !== null) {
    const found = environment.lookupUser(userName);
    if (!found) throw fail(originOf(args, 'user'), `no such user ${JSON.stringify(userName)}`);
    user = { name: userName, ...found };
  }
  const parts = { parser: str(args, 'parser'), postParser: str(args, 'post-parser'), user, statsDir: str(args, 'stats-dir') };
  warnings.push(...compatibilityWarnings(args, parts));
  const logLevel = String(args['log-level'] ?? 'info');
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw fail(originOf(args, 'log-level'), `expected debug, info, warn or error, got ${JSON.stringify(logLevel)}`);
  return {
    configFile: args._configFile ?? null,
    sources,
    policy,
    blacklist,
    whitelist,
    resolveHostnames: args['resolve-hostnames'] === true,
    rulesDir: str(args, 'rules-dir'),
    firewall: firewallOf(args),
    db: resolve(str(args, 'db') ?? environment.paths.db),
    pidFile: resolve(str(args, 'pid-file') ?? environment.paths.pidFile),
    dryRun: args['dry-run'] === true,
    check: args.check === true,
    keepOnExit: args['keep-on-exit'] === true,
    logLevel: logLevel as LogLevel,
    syncInterval: Number(args['sync-interval'] ?? 60),
    ...parts,
    metrics: metricsOf(args),
    hooks: { onBlock: hookOf(args, 'on-block'), onRelease: hookOf(args, 'on-release') },
    fleet: fleetOf(args),
    warnings,
  };
}
