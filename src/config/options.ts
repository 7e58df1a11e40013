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
  /** Commands that accept it ('*' = all) */
  commands: readonly string[];
}

const POLICY_COMMANDS = ['audit', 'run'] as const;
const FIREWALL_COMMANDS = ['block', 'unblock', 'flush'] as const;

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
    describe: 'Also print login events (json and text formats)',
    default: false,
    commands: ['parse'],
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
    describe: 'Folder of rule files (*.json) to use instead of the bundled rules',
    commands: ['parse', 'rules', 'audit'],
  },
  threshold: {
    type: 'number',
    alias: 'a',
    describe: 'Block an address when the danger of its attacks within the detection time reaches this',
    default: 30,
    sshguardKey: 'THRESHOLD',
    commands: POLICY_COMMANDS,
  },
  'block-time': {
    type: 'number',
    alias: 'p',
    describe: 'Seconds a first block lasts',
    default: 120,
    sshguardKey: 'BLOCK_TIME',
    commands: POLICY_COMMANDS,
  },
  'detection-time': {
    type: 'number',
    alias: 's',
    describe: "Seconds of an address's score window, counted from the window's first attack",
    default: 1800,
    sshguardKey: 'DETECTION_TIME',
    commands: POLICY_COMMANDS,
  },
  'block-time-multiplier': {
    type: 'number',
    alias: 'm',
    describe: 'Each further block of the same offender lasts this many times longer (decaying with the penalty half-life)',
    default: 2,
    sshguardKey: 'BLOCK_TIME_MULTIPLIER',
    commands: POLICY_COMMANDS,
  },
  'max-block-time': {
    type: 'number',
    describe: 'Upper limit of a temporary block, in seconds',
    default: 30 * 86400,
    commands: POLICY_COMMANDS,
  },
  'penalty-half-life': {
    type: 'number',
    describe: "Seconds for an offender's penalty level to halve, so that an address back months later is treated almost as new",
    default: 7 * 86400,
    commands: POLICY_COMMANDS,
  },
  blacklist: {
    type: 'string',
    alias: 'b',
    describe: 'THRESH:FILE — block permanently once the danger summed over an offender\'s blocks reaches THRESH, and record it in FILE (sshguard format)',
    sshguardKey: 'BLACKLIST_FILE',
    commands: POLICY_COMMANDS,
  },
  'ipv4-subnet': {
    type: 'number',
    alias: 'n',
    describe: 'Prefix length that IPv4 attacks are scored and blocked by (32: each address alone)',
    default: 32,
    sshguardKey: 'IPV4_SUBNET',
    commands: POLICY_COMMANDS,
  },
  'ipv6-subnet': {
    type: 'number',
    alias: 'N',
    describe: 'Prefix length that IPv6 attacks are scored and blocked by (64: one end site\'s network)',
    default: 64,
    sshguardKey: 'IPV6_SUBNET',
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
    commands: POLICY_COMMANDS,
  },
  'no-trust-users': {
    type: 'string',
    describe: 'Comma-separated shared accounts whose logins grant no trust',
    default: 'git,gitea,gitlab,forgejo,gogs,anonymous,ftp',
    commands: POLICY_COMMANDS,
  },
  whitelist: {
    type: 'string',
    alias: 'w',
    repeatable: true,
    describe: 'Never block this address, CIDR or hostname; a value starting with / or . (or naming a file) is a whitelist file',
    sshguardKey: 'WHITELIST_FILE',
    commands: [...POLICY_COMMANDS, ...FIREWALL_COMMANDS],
  },
  config: {
    type: 'string',
    describe: 'Configuration file (sshguard.conf syntax is accepted as is); options on the command line win',
    commands: ['audit', 'run', ...FIREWALL_COMMANDS],
  },
  db: {
    type: 'string',
    describe: 'The state database (default /var/lib/logwarden/state.db as root, else under $XDG_STATE_HOME/logwarden)',
    commands: ['run', 'explain', 'status', ...FIREWALL_COMMANDS],
  },
  backend: {
    type: 'string',
    describe: 'Firewall to use: nft (sets with kernel expiry), iptables, ipset, or null (changes nothing, says what it would do)',
    choices: ['nft', 'iptables', 'ipset', 'null'],
    default: 'nft',
    commands: ['run', 'status', ...FIREWALL_COMMANDS],
  },
  'fw-name': {
    type: 'string',
    describe: 'Name of the firewall table, chains and sets logwarden creates (a prefix for ipset/iptables)',
    default: 'logwarden',
    commands: ['run', 'status', ...FIREWALL_COMMANDS],
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
    commands: ['run', ...FIREWALL_COMMANDS],
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
    commands: ['audit', 'rules'],
  },
  year: {
    type: 'number',
    describe: 'Year of timestamps that carry none (BSD syslog); by default inferred from the file\'s date, across New Year',
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

/** The options reference in Markdown (docs/options.md is generated from this). */
export function optionsMarkdown(): string {
  const rows = (Object.entries(OPTIONS) as [string, OptionSpec][]).map(([name, spec]) => {
    const flag = `\`--${name}\`${spec.alias ? ` / \`-${spec.alias}\`` : ''}`;
    const def = spec.default === undefined ? '' : `\`${String(spec.default)}\``;
    const values = spec.choices ? ` (${spec.choices.join(', ')})` : '';
    return `| ${flag} | ${spec.type}${spec.repeatable ? ', repeatable' : ''} | ${def} | ${spec.sshguardKey ?? ''} | ${spec.commands.join(', ')} | ${spec.describe}${values} |`;
  });
  return [
    '# Options',
    '',
    'Generated from `src/config/options.ts` by `npm run docs:options`; do not edit by hand.',
    '',
    '| option | type | default | sshguard.conf | commands | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
