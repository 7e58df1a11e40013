/**
 * Every option is declared once here: name, type, default, help and (where sshguard has one) its
 * sshguard.conf key. The CLI, the config-file parser and docs/options.md are all derived from this table.
 */

export interface OptionSpec {
  type: 'string' | 'number' | 'boolean';
  describe: string;
  default?: string | number | boolean;
  alias?: string;
  choices?: readonly string[];
  /** Takes one value per occurrence and may be given several times (never swallows positionals) */
  repeatable?: boolean;
  /** The sshguard.conf key with the same meaning */
  sshguardKey?: string;
  /** Bounds of a number, enforced for flags and configuration values alike */
  range?: { min: number; max?: number; /** default true: whole numbers only */ integer?: boolean };
  /**
   * How a repeatable option's configuration values meet the command line's: 'add' (both count, the file's first)
   * or 'replace' (the command line's, when given, replace the file's). Default 'add'.
   */
  combine?: 'add' | 'replace';
  /** Only on the command line: not a configuration key */
  cliOnly?: boolean;
  /** Not read from a LOGWARDEN_* environment variable (help, version) */
  noEnv?: boolean;
  /** The flag's former name, so that the command line can say what it is called now */
  renamedFrom?: string;
  /** Commands that accept it ('*' = all) */
  commands: readonly string[];
}

const POLICY_COMMANDS = ['audit', 'run'] as const;
/** explain reads the policy's numbers to tell what a score, a penalty and a trust decay to, and when */
const SCORING_COMMANDS = [...POLICY_COMMANDS, 'explain'] as const;
const FIREWALL_COMMANDS = ['block', 'unblock', 'flush', 'whitelist'] as const;
/** Commands that load the rules */
const RULE_COMMANDS = ['parse', 'rules', 'audit', 'run', 'bench'] as const;
const SECONDS = { min: 1 } as const;

export const OPTIONS = {
  format: {
    type: 'string',
    describe: 'Output format: sshguard (sshg-parser lines), json (NDJSON) or text',
    choices: ['sshguard', 'json', 'text'],
    default: 'sshguard',
    commands: ['parse'],
  },
  all: {
    type: 'boolean',
    describe: 'Show everything: parse prints login events too (json and text formats); explain shows every evidence line kept, not the last 10',
    default: false,
    commands: ['parse', 'explain'],
  },
  'every-line': {
    type: 'boolean',
    describe:
      'Print every matching line, as sshg-parser does; by default attempts are printed as the policy counts them (the lines of one attempt once, keys a client tried before logging in not at all)',
    default: false,
    commands: ['parse'],
  },
  stats: {
    type: 'boolean',
    describe: 'Print lines read, lines/s, attacks per rule and unmatched lines to stderr',
    default: false,
    commands: ['parse'],
  },
  'rules-dir': {
    type: 'string',
    describe:
      'Folder of local rule files (*.json, the format of the bundled rules/), added to the bundled rules; a local rule with the id of a bundled one replaces it',
    commands: RULE_COMMANDS,
  },
  'disable-rule': {
    type: 'string',
    repeatable: true,
    describe: 'Do not use this rule (its id, as rules list shows it); an unknown id is an error',
    commands: RULE_COMMANDS,
  },
  danger: {
    type: 'string',
    repeatable: true,
    describe:
      "RULE_ID=N or SERVICE=N: the danger of that rule's attacks, or of every attack rule of that service (its code, rules file name or name); a rule's own value wins over its service's",
    commands: RULE_COMMANDS,
  },
  missed: {
    type: 'boolean',
    describe: 'rules test: also print a sample of the lines no rule matched that contain an address (likely gaps)',
    default: false,
    commands: ['rules'],
  },
  rule: {
    type: 'string',
    describe: 'rules test: try only this rule',
    cliOnly: true,
    commands: ['rules'],
  },
  log: {
    type: 'string',
    describe: 'bench: the log to parse (default: a generated one of sshd, mail and web lines)',
    cliOnly: true,
    commands: ['bench'],
  },
  blocks: {
    type: 'number',
    describe: 'bench: how many blocks the firewall batch holds (iptables takes seconds for 1000)',
    default: 1000,
    range: { min: 10, max: 100000 },
    cliOnly: true,
    commands: ['bench'],
  },
  threshold: {
    type: 'number',
    alias: 'a',
    describe: 'Block an address when the danger of its attacks within the detection time reaches this',
    default: 30,
    sshguardKey: 'THRESHOLD',
    range: { min: 1 },
    commands: SCORING_COMMANDS,
  },
  'block-time': {
    type: 'number',
    alias: 'p',
    describe: 'Seconds a first block lasts',
    default: 120,
    sshguardKey: 'BLOCK_TIME',
    range: SECONDS,
    commands: SCORING_COMMANDS,
  },
  'detection-time': {
    type: 'number',
    alias: 's',
    describe: "Seconds of an address's score window, counted from the window's first attack",
    default: 1800,
    sshguardKey: 'DETECTION_TIME',
    range: SECONDS,
    commands: SCORING_COMMANDS,
  },
  'block-time-multiplier': {
    type: 'number',
    alias: 'm',
    describe: 'Each further block of the same offender lasts this many times longer (decaying with the penalty half-life)',
    default: 2,
    sshguardKey: 'BLOCK_TIME_MULTIPLIER',
    range: { min: 1, max: 100, integer: false },
    commands: SCORING_COMMANDS,
  },
  'max-block-time': {
    type: 'number',
    describe: 'Upper limit of a temporary block, in seconds',
    default: 30 * 86400,
    range: SECONDS,
    commands: SCORING_COMMANDS,
  },
  'penalty-half-life': {
    type: 'number',
    describe: "Seconds for an offender's penalty level to halve, so that an address back months later is treated almost as new",
    default: 7 * 86400,
    range: SECONDS,
    commands: SCORING_COMMANDS,
  },
  blacklist: {
    type: 'string',
    alias: 'b',
    describe: 'THRESH:FILE — block permanently once the danger summed over an offender\'s blocks reaches THRESH, and record it in FILE (sshguard format)',
    sshguardKey: 'BLACKLIST_FILE',
    commands: SCORING_COMMANDS,
  },
  'ipv4-subnet': {
    type: 'number',
    alias: 'n',
    describe: 'Prefix length that IPv4 attacks are scored and blocked by (32: each address alone)',
    default: 32,
    sshguardKey: 'IPV4_SUBNET',
    range: { min: 0, max: 32 },
    commands: POLICY_COMMANDS,
  },
  'ipv6-subnet': {
    type: 'number',
    alias: 'N',
    describe: 'Prefix length that IPv6 attacks are scored and blocked by (64: one end site\'s network)',
    default: 64,
    sshguardKey: 'IPV6_SUBNET',
    range: { min: 0, max: 128 },
    commands: POLICY_COMMANDS,
  },
  'resolve-hostnames': {
    type: 'boolean',
    describe:
      'Resolve the host names some lines give instead of an address (when no line of the same connection gives it): forward-confirmed, cached, at most 5 lookups a second, off the parsing path',
    default: false,
    commands: POLICY_COMMANDS,
  },
  'trust-time': {
    type: 'number',
    describe: 'Seconds a successful login exempts its address from scoring (its attacks are still recorded)',
    default: 3600,
    range: { min: 0 },
    commands: SCORING_COMMANDS,
  },
  'untrusted-users': {
    type: 'string',
    describe: 'Comma-separated shared accounts whose logins grant no trust',
    renamedFrom: 'no-trust-users',
    default: 'git,gitea,gitlab,forgejo,gogs,anonymous,ftp',
    commands: POLICY_COMMANDS,
  },
  whitelist: {
    type: 'string',
    alias: 'w',
    repeatable: true,
    describe:
      'Never block this address, CIDR or hostname; a value starting with / or . (or naming a file) is a whitelist file, watched and reloaded by run (WHITELIST_FILE in a configuration file is always a file)',
    sshguardKey: 'WHITELIST_FILE',
    commands: [...SCORING_COMMANDS, ...FIREWALL_COMMANDS],
  },
  'wide-whitelist': {
    type: 'boolean',
    describe:
      'Accept whitelist entries wider than /8 (IPv4) or /32 (IPv6), up to 0.0.0.0/0 and ::/0: without it such an entry is an error at start, and skipped (logged at error) when a whitelist file is reloaded, as it would turn protection off',
    default: false,
    commands: ['run'],
  },
  config: {
    type: 'string',
    describe:
      'Configuration file (sshguard.conf syntax is accepted as is); options on the command line win. Default: /etc/logwarden/logwarden.conf as root, else $XDG_CONFIG_HOME/logwarden/logwarden.conf, when it exists',
    cliOnly: true,
    commands: ['audit', 'run', 'explain', 'rules', 'bench', ...FIREWALL_COMMANDS],
  },
  db: {
    type: 'string',
    describe: 'The state database (default /var/lib/logwarden/state.db as root, else under $XDG_STATE_HOME/logwarden)',
    commands: ['run', 'explain', 'status', ...FIREWALL_COMMANDS],
  },
  backend: {
    type: 'string',
    describe:
      "Firewall to use: nft (sets with kernel expiry), iptables, ipset, or null (changes nothing, says what it would do). sshguard.conf's BACKEND path maps to these (sshg-fw-nft-sets: nft, sshg-fw-iptables: iptables, sshg-fw-ipset: ipset, sshg-fw-null: null)",
    choices: ['nft', 'iptables', 'ipset', 'null'],
    default: 'nft',
    sshguardKey: 'BACKEND',
    commands: ['run', 'status', 'explain', ...FIREWALL_COMMANDS],
  },
  'fw-name': {
    type: 'string',
    describe: 'Name of the firewall table, chains and sets logwarden creates (a prefix for ipset/iptables)',
    default: 'logwarden',
    commands: ['run', 'status', 'explain', ...FIREWALL_COMMANDS],
  },
  hook: {
    type: 'string',
    describe: 'Where to filter: input, or input,forward to also protect ports published by containers',
    choices: ['input', 'input,forward'],
    default: 'input',
    commands: ['run', ...FIREWALL_COMMANDS],
  },
  priority: {
    type: 'number',
    describe: "Priority of logwarden's nft base chains (lower runs earlier)",
    default: -10,
    range: { min: -2147483648, max: 2147483647 },
    commands: ['run', ...FIREWALL_COMMANDS],
  },
  journal: {
    type: 'boolean',
    describe: "Read the systemd journal (run: followed with journalctl -f -o json, resuming from the last entry read; audit: replayed); the services' identifiers are matched unless --journal-match is given",
    default: false,
    commands: ['run', 'audit'],
  },
  'journal-match': {
    type: 'string',
    repeatable: true,
    combine: 'replace',
    describe: 'Journal entries to read instead of the default services: IDENTIFIER, SYSLOG_IDENTIFIER=IDENTIFIER or _SYSTEMD_UNIT=UNIT',
    commands: ['run', 'audit'],
  },
  'journal-file': {
    type: 'string',
    describe: 'Read this journal file (journalctl --file), or every journal file of this folder, followed through rotation (journalctl -D), instead of the system journal',
    commands: ['run', 'audit'],
  },
  since: {
    type: 'string',
    describe: 'audit --journal: entries from this time on (journalctl --since: "2026-05-01 10:00", "yesterday", "-2h")',
    commands: ['audit'],
  },
  until: {
    type: 'string',
    describe: 'audit --journal: entries up to this time (journalctl --until)',
    commands: ['audit'],
  },
  logreader: {
    type: 'string',
    describe:
      'A shell command whose standard output is the log (run with /bin/sh -c, as sshguard does); a plain journalctl command is recognised and read natively as with --journal',
    sshguardKey: 'LOGREADER',
    commands: ['run'],
  },
  source: {
    type: 'string',
    alias: 'l',
    repeatable: true,
    describe: 'A log file to follow, or - for standard input (as sshguard -l); adds to the FILE arguments',
    sshguardKey: 'FILES',
    commands: ['run'],
  },
  'pid-file': {
    type: 'string',
    alias: 'i',
    describe: 'Write the process id to this file (default /run/logwarden.pid as root, else $XDG_RUNTIME_DIR/logwarden.pid)',
    sshguardKey: 'PID_FILE',
    commands: ['run'],
  },
  'service-pid-file': {
    type: 'string',
    alias: 'f',
    repeatable: true,
    describe:
      "sshguard 1.x's SERVICE:PID_FILE log authentication: accepted and ignored with a warning; read the journal (--journal), whose trusted fields (_PID, _EXE, _SYSTEMD_UNIT) no client can forge",
    cliOnly: true,
    commands: ['run'],
  },
  'mask-subnet-by': {
    type: 'string',
    describe:
      'sshguard 2.5 scores by subnet only when this is set; logwarden always scores and blocks by the --ipv4-subnet/--ipv6-subnet prefix, so this is accepted with a warning when it says otherwise',
    sshguardKey: 'MASK_SUBNET_BY',
    commands: ['run'],
  },
  'dry-run': {
    type: 'boolean',
    describe: 'Watch the logs and log each block it would make ("would block"), changing no firewall; such blocks are recorded as simulated',
    default: false,
    commands: ['run'],
  },
  check: {
    type: 'boolean',
    describe: 'Validate the configuration, sources and backend without side effects, say what would be done, and exit',
    default: false,
    commands: ['run'],
  },
  'keep-on-exit': {
    type: 'boolean',
    describe: "Leave logwarden's firewall objects and blocks in place on exit (they expire by themselves)",
    default: false,
    commands: ['run'],
  },
  'log-level': {
    type: 'string',
    describe: 'Lowest level logged',
    choices: ['debug', 'info', 'warn', 'error'],
    default: 'info',
    commands: ['run'],
  },
  'sync-interval': {
    type: 'number',
    describe: 'Seconds between re-applying the store to the kernel (restoring what was flushed, lifting what expired)',
    default: 60,
    range: { min: 1, max: 86400 },
    commands: ['run'],
  },
  parser: {
    type: 'string',
    describe:
      "A shell command that replaces logwarden's parser: log lines on its standard input, sshg-parser lines (SERVICE ADDR KIND DANGER) on its output",
    sshguardKey: 'PARSER',
    commands: ['run'],
  },
  'post-parser': {
    type: 'string',
    describe: "A shell command filtering the parser's SERVICE ADDR KIND DANGER lines before they are scored (e.g. grep -v 192.0.2.1)",
    sshguardKey: 'POST_PARSER',
    commands: ['run'],
  },
  user: {
    type: 'string',
    describe:
      'Privilege separation: started as root, logwarden reads, parses, decides and stores as this user with no capabilities (PARSER and POST_PARSER too); only a small firewall process keeps root and runs the firewall commands',
    sshguardKey: 'SSHGUARD_USER',
    commands: ['run'],
  },
  metrics: {
    type: 'string',
    describe:
      'Serve Prometheus metrics at http://ADDR:PORT/metrics (an IPv6 address in brackets: [::1]:9150; port 0: a free one, logged); off by default. Counts only, no addresses: bind it to loopback or a trusted network',
    commands: ['run'],
  },
  'on-block': {
    type: 'string',
    describe:
      'Program run on each block, never through a shell, as PROGRAM ADDRESS PREFIX_LENGTH SECONDS|permanent REASON (LOGWARDEN_EVENT=block); killed after 10 s, at most 4 at once',
    commands: ['run'],
  },
  'on-release': {
    type: 'string',
    describe: 'Program run when a block ends, as PROGRAM ADDRESS PREFIX_LENGTH SECONDS_IT_LASTED REASON (LOGWARDEN_EVENT=release); as --on-block',
    commands: ['run'],
  },
  'lapi-url': {
    type: 'string',
    sshguardKey: 'LAPI_URL',
    describe: "CrowdSec Local API to share decisions with the fleet, e.g. http://10.0.0.5:8080 (see docs/fleet.md); needs --lapi-machine to push, --lapi-key to pull",
    commands: ['run'],
  },
  'lapi-machine': {
    type: 'string',
    sshguardKey: 'LAPI_MACHINE_ID',
    describe: "This host's machine id in the LAPI (cscli machines add ID -p PW): its blocks are pushed as alerts",
    commands: ['run'],
  },
  'lapi-password': {
    type: 'string',
    sshguardKey: 'LAPI_PASSWORD',
    describe: 'The machine\'s LAPI password (prefer --lapi-password-file: a command line is visible to every user)',
    commands: ['run'],
  },
  'lapi-password-file': {
    type: 'string',
    sshguardKey: 'LAPI_PASSWORD_FILE',
    describe: "A file holding the machine's LAPI password (one line)",
    commands: ['run'],
  },
  'lapi-key': {
    type: 'string',
    sshguardKey: 'LAPI_BOUNCER_KEY',
    describe: "This host's bouncer key (cscli bouncers add NAME): the fleet's decisions are enforced; one key per host",
    commands: ['run'],
  },
  'lapi-key-file': {
    type: 'string',
    sshguardKey: 'LAPI_BOUNCER_KEY_FILE',
    describe: 'A file holding the bouncer key (one line)',
    commands: ['run'],
  },
  'lapi-ca-file': {
    type: 'string',
    sshguardKey: 'LAPI_CA_FILE',
    describe: "PEM certificate(s) of the CA that signed the LAPI's https certificate, trusted instead of the system's (a self-signed LAPI)",
    commands: ['run'],
  },
  'lapi-machine-cert': {
    type: 'string',
    sshguardKey: 'LAPI_MACHINE_CERT_FILE',
    describe: "Push with a client certificate (PEM; its OU one of the LAPI's agents_allowed_ou) instead of --lapi-machine and --lapi-password; with --lapi-machine-cert-key",
    commands: ['run'],
  },
  'lapi-machine-cert-key': {
    type: 'string',
    sshguardKey: 'LAPI_MACHINE_CERT_KEY_FILE',
    describe: "The private key (PEM) of --lapi-machine-cert",
    commands: ['run'],
  },
  'lapi-bouncer-cert': {
    type: 'string',
    sshguardKey: 'LAPI_BOUNCER_CERT_FILE',
    describe: "Pull with a client certificate (PEM; its OU one of the LAPI's bouncers_allowed_ou) instead of --lapi-key; with --lapi-bouncer-cert-key",
    commands: ['run'],
  },
  'lapi-bouncer-cert-key': {
    type: 'string',
    sshguardKey: 'LAPI_BOUNCER_CERT_KEY_FILE',
    describe: 'The private key (PEM) of --lapi-bouncer-cert',
    commands: ['run'],
  },
  'lapi-interval': {
    type: 'number',
    describe: 'Seconds between polls of the LAPI decision stream',
    default: 10,
    range: { min: 1, max: 3600 },
    commands: ['run'],
  },
  'lapi-share-evidence': {
    type: 'boolean',
    describe: 'Send the log lines of each block with its alert (by default they stay on this host)',
    default: false,
    commands: ['run'],
  },
  'stats-dir': {
    type: 'string',
    describe: "sshguard 2.5 writes Prometheus .prom files here; logwarden does not yet, and warns (logwarden status --json gives its counts)",
    sshguardKey: 'STATS_DIR',
    commands: ['run'],
  },
  help: {
    type: 'boolean',
    alias: 'h',
    describe: 'Show the options of the command and exit',
    cliOnly: true,
    noEnv: true,
    commands: ['*'],
  },
  version: {
    type: 'boolean',
    alias: 'v',
    describe: 'Print the version and exit (as sshguard -v)',
    cliOnly: true,
    noEnv: true,
    commands: ['run'],
  },
  for: {
    type: 'string',
    describe: 'How long to block: seconds, or forever',
    default: 'forever',
    commands: ['block'],
  },
  reason: {
    type: 'string',
    describe: 'Why, recorded with the block (explain shows it)',
    commands: ['block'],
  },
  force: {
    type: 'boolean',
    describe: 'Allow a prefix shorter than /8 (IPv4) or /32 (IPv6); one holding this host or an open SSH session is always refused',
    default: false,
    commands: ['block'],
  },
  yes: {
    type: 'boolean',
    describe: 'Do not ask for confirmation',
    default: false,
    commands: ['flush'],
  },
  json: {
    type: 'boolean',
    describe: 'Print the result as JSON',
    default: false,
    commands: ['audit', 'rules', 'explain', 'status', 'whitelist', 'bench'],
  },
  year: {
    type: 'number',
    describe: 'Year of timestamps that carry none (BSD syslog); by default inferred from the file\'s date, across New Year',
    range: { min: 1970, max: 9999 },
    commands: ['audit'],
  },
  timezone: {
    type: 'string',
    describe: 'Time zone (IANA name, e.g. Europe/Paris, or UTC) of timestamps that carry none; default: local',
    commands: ['audit'],
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** The options one command accepts, from the table. */
export function optionsFor(command: string): Record<string, OptionSpec> {
  const result: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    if (spec.commands.includes(command) || spec.commands.includes('*')) result[name] = spec;
  }
  return result;
}

/** The environment variable that sets an option (flags win over it; it wins over the configuration file). */
export function envVariable(name: string): string {
  return `LOGWARDEN_${name.toUpperCase().replaceAll('-', '_')}`;
}

/** `1 to 32`, `>= 0`, for help and errors. */
export function rangeText(range: NonNullable<OptionSpec['range']>): string {
  const kind = range.integer === false ? 'a number' : 'a whole number';
  return range.max === undefined ? `${kind} >= ${range.min}` : `${kind} from ${range.min} to ${range.max}`;
}

/** Checks a number against its option's range; returns the problem, or null. */
export function outOfRange(spec: OptionSpec, value: number): string | null {
  if (!Number.isFinite(value)) return `expected a number, got ${String(value)}`;
  const range = spec.range;
  if (!range) return null;
  const integer = range.integer !== false;
  if ((integer && !Number.isInteger(value)) || value < range.min || (range.max !== undefined && value > range.max)) {
    return `expected ${rangeText(range)}, got ${String(value)}`;
  }
  return null;
}

/** The options reference in Markdown (docs/options.md is generated from this). */
export function optionsMarkdown(): string {
  const rows = (Object.entries(OPTIONS) as [string, OptionSpec][]).map(([name, spec]) => {
    const flag = `\`--${name}\`${spec.alias ? ` / \`-${spec.alias}\`` : ''}`;
    const def = spec.default === undefined ? '' : `\`${String(spec.default)}\``;
    const values = spec.choices ? ` (${spec.choices.join(', ')})` : spec.range ? ` (${rangeText(spec.range)})` : '';
    const env = spec.noEnv ? '' : `\`${envVariable(name)}\``;
    return `| ${flag} | ${spec.type}${spec.repeatable ? ', repeatable' : ''} | ${def} | ${spec.sshguardKey ?? ''} | ${env} | ${spec.commands.join(', ')} | ${spec.describe}${values} |`;
  });
  return [
    '# Options',
    '',
    'Generated from `src/config/options.ts` by `npm run docs:options`; do not edit by hand.',
    '',
    'An option takes its value from, in this order: the command line, its environment variable, the configuration',
    'file (its sshguard.conf key or its own name), its default. A repeatable option adds up the values of all three,',
    "the file's first, unless it says that the command line's replace them. In an environment variable, a repeatable",
    'option takes several values separated by spaces, and an on/off option true, false, yes, no, 1 or 0. `--no-X`',
    'turns off an on/off option X; options that take a value have no `--no-` form.',
    '',
    '| option | type | default | sshguard.conf | environment | commands | meaning |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
