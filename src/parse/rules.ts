/**
 * Signatures are data: rules/*.json, one file per service. This module loads and validates those files
 * and compiles each pattern once.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guidelineProblem } from './guideline.js';
import { GUIDELINE_PASSED, guidelineKey } from './guideline-passed.js';

/**
 * `attack` and `login` are what the policy scores and trusts; `connect` only tells which address a session
 * (captured as `session`) belongs to, for later lines of the session that do not repeat it.
 */
export type EventType = 'attack' | 'login' | 'connect';

/**
 * What a line takes part in when attempts are correlated on one connection (src/correlate): `opens` is the
 * first line of an attempt (a later `ends` line of the same attempt joins it), `ends` is the line that ends
 * an attempt (its twin, or an attempt of its own), `held` waits until the connection ends or logs in (a
 * client offering its keys one by one), `closes` ends a connection without success.
 */
export type CorrelationRole = 'opens' | 'ends' | 'held' | 'closes';
export const CORRELATION_ROLES: readonly CorrelationRole[] = ['opens', 'ends', 'held', 'closes'];

export interface RuleExample {
  line: string;
  /** Expected canonical address; absent for lines that must produce no event at all. */
  addr?: string;
  user?: string;
  /** Expected number of events (for `message repeated N times`) */
  count?: number;
}

/**
 * A line whose attacker-controlled part is the placeholder `%U%`: whatever text is put there (fake addresses,
 * fake log text), the event must be attributed to `addr` or not produced at all.
 */
export interface HostileExample {
  line: string;
  addr: string;
}

export interface RuleSpec {
  id: string;
  description: string;
  event?: EventType;
  danger?: number;
  /** Overrides the file's service code */
  service?: number;
  /** Cheap pre-filter on the message: it must start with this text (or one of these)... */
  startsWith?: string | string[];
  /** ...and/or contain every one of these texts. */
  contains?: string | string[];
  pattern: string;
  flags?: string;
  /** Who else recognises this line: 'sshguard-2.4.2', 'sshguard-upstream' or 'logwarden' only */
  origin: 'sshguard-2.4.2' | 'sshguard-upstream' | 'logwarden';
  correlation?: CorrelationRole;
  /**
   * Tried only on lines whose program tag is one of the file's programs: for messages whose wording many
   * daemons share, which would otherwise be blamed on this service when the tag is unknown or missing.
   */
  ownProgramsOnly?: boolean;
  /**
   * Service code by the text the pattern captures as `service` (a generic PAM line names its service);
   * a name not listed gets the rule's own code.
   */
  serviceCodes?: Record<string, number>;
  examples: RuleExamples;
}

export interface RuleExamples {
  match: RuleExample[];
  ignore: string[];
  /** Lines with attacker-controlled fields as `%U%`, run with hostile text by the injection tests */
  hostile?: HostileExample[];
}

export interface ServiceFile {
  service: number;
  name: string;
  /**
   * Program tags routed to these rules; `prefix/*` matches any tag starting with `prefix/`, and `*` every tag
   * (for messages that name their service themselves, as generic PAM lines do).
   */
  programs: string[];
  /** The daemon forks one process per client connection, so host+program+pid names a connection (OpenSSH) */
  connectionPerPid?: boolean;
  /** Who may write this service's journal entries (src/daemon/senders.ts) */
  senders?: SenderSpec;
  rules: RuleSpec[];
}

/**
 * The daemon behind a service, as journald records it from the kernel (fields a client cannot set): its
 * executable (`_EXE`) or systemd unit (`_SYSTEMD_UNIT`), each possibly with one `*`, and its accounts (`_UID`).
 */
export interface SenderSpec {
  executables: string[];
  units: string[];
  /** Account names (resolved through /etc/passwd) or numeric uids */
  users: string[];
}

/** The fields a rule's pattern captures, by the numbers of their groups (0: not captured) */
export interface GroupNumbers {
  addr: number;
  user: number;
  service: number;
  session: number;
}

export interface CompiledRule {
  id: string;
  description: string;
  event: EventType;
  service: number;
  serviceName: string;
  danger: number;
  origin: RuleSpec['origin'];
  correlation: CorrelationRole | null;
  ownProgramsOnly: boolean;
  serviceCodes: ReadonlyMap<string, number> | null;
  /** Prefixes, one of which the message must start with; null when the rule has none */
  startsWith: string[] | null;
  contains: string[];
  /** The pattern as written, its fields in named groups */
  regex: RegExp;
  /**
   * The same pattern with plain (numbered) groups, which the parser runs: a match of named groups also builds
   * their `groups` object, which cost the parser about 240 instructions a line (docs/benchmarks.md)
   */
  plain: RegExp;
  /** The number of each field's group in `plain` (0: the pattern has none) */
  groups: GroupNumbers;
  /**
   * `plain` without its leading `^`, sticky: run on the whole line from the message's start, so the
   * message need not be cut out first. Null for patterns it would not be the same for (lookbehinds, which
   * would see the banner, or alternatives outside any group).
   */
  sticky: RegExp | null;
  /**
   * `sticky` begins with a lookahead for the startsWith prefixes (rules with prefixes and no `contains`): its one
   * run checks them, and the parser need not compare them apart (about 200 instructions a line)
   */
  stickyChecksPrefixes: boolean;
  programs: string[];
  connectionPerPid: boolean;
  /** null when the file names none: journal entries are then accepted from root only */
  senders: SenderSpec | null;
  file: string;
  examples: RuleExamples;
}

/**
 * Macros keep the address shape in one place. The address class is bounded and excludes spaces, so a
 * pattern like `.* from %ADDR% port` backtracks at most once per candidate ` from `, never exponentially.
 */
export const MACROS: Record<string, string> = {
  '%ADDR%': '(?<addr>[0-9A-Za-z_.:%-]{1,253})',
  '%PORT%': '\\d{1,5}',
};

export function expandMacros(pattern: string): string {
  return pattern.replace(/%[A-Z]+%/g, (m) => {
    const expansion = MACROS[m];
    if (expansion === undefined) throw new Error(`unknown macro ${m}`);
    return expansion;
  });
}

export class RuleError extends Error {}

const RULE_KEYS = new Set([
  'id', 'description', 'event', 'danger', 'service', 'startsWith', 'contains', 'pattern', 'flags', 'origin', 'examples',
  'correlation', 'serviceCodes', 'ownProgramsOnly',
]);
const ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function fail(file: string, where: string, message: string): never {
  throw new RuleError(`${file}: ${where}: ${message}`);
}

function compileFile(file: string, data: unknown): CompiledRule[] {
  if (typeof data !== 'object' || data === null) fail(file, 'top level', 'expected an object');
  const spec = data as ServiceFile;
  if (!Number.isInteger(spec.service)) fail(file, 'service', 'expected an integer service code');
  if (typeof spec.name !== 'string') fail(file, 'name', 'expected a string');
  if (!Array.isArray(spec.programs) || !spec.programs.every((p) => typeof p === 'string' && p.length > 0)) {
    fail(file, 'programs', 'expected a list of program tags');
  }
  if (!Array.isArray(spec.rules) || spec.rules.length === 0) fail(file, 'rules', 'expected a non-empty list');
  for (const key of Object.keys(spec)) {
    if (!['service', 'name', 'programs', 'connectionPerPid', 'senders', 'rules'].includes(key)) fail(file, key, 'unknown key');
  }
  const senders = spec.senders === undefined ? null : sendersOf(file, spec.senders);
  if (spec.connectionPerPid !== undefined && typeof spec.connectionPerPid !== 'boolean') fail(file, 'connectionPerPid', 'expected true or false');
  return spec.rules.map((rule, index) => {
    const where = `rules[${index}]${typeof rule?.id === 'string' ? ` (${rule.id})` : ''}`;
    if (typeof rule !== 'object' || rule === null) fail(file, where, 'expected an object');
    for (const key of Object.keys(rule)) if (!RULE_KEYS.has(key)) fail(file, `${where}.${key}`, 'unknown key');
    if (typeof rule.id !== 'string' || !ID.test(rule.id)) fail(file, `${where}.id`, 'expected a lower-case-dashed id');
    if (typeof rule.description !== 'string') fail(file, `${where}.description`, 'expected a string');
    if (rule.event !== undefined && !['attack', 'login', 'connect'].includes(rule.event)) {
      fail(file, `${where}.event`, "expected 'attack', 'login' or 'connect'");
    }
    if (rule.danger !== undefined && !(Number.isInteger(rule.danger) && rule.danger >= 0)) {
      fail(file, `${where}.danger`, 'expected a non-negative integer');
    }
    if (!['sshguard-2.4.2', 'sshguard-upstream', 'logwarden'].includes(rule.origin)) {
      fail(file, `${where}.origin`, "expected 'sshguard-2.4.2', 'sshguard-upstream' or 'logwarden'");
    }
    const contains = rule.contains === undefined ? [] : Array.isArray(rule.contains) ? rule.contains : [rule.contains];
    if (!contains.every((c) => typeof c === 'string' && c.length > 0)) fail(file, `${where}.contains`, 'expected text');
    const prefixes = rule.startsWith === undefined ? null : Array.isArray(rule.startsWith) ? rule.startsWith : [rule.startsWith];
    if (prefixes !== null && (prefixes.length === 0 || !prefixes.every((p) => typeof p === 'string' && p.length > 0))) {
      fail(file, `${where}.startsWith`, 'expected text or a list of texts');
    }
    if (prefixes === null && contains.length === 0) {
      fail(file, where, 'needs a startsWith or contains pre-filter, so that most lines never reach the regex');
    }
    if (typeof rule.pattern !== 'string') fail(file, `${where}.pattern`, 'expected a string');
    let regex: RegExp;
    try {
      // dotAll: a line separator such as U+2028 inside attacker text must not stop `.*` and hide the attack
      regex = new RegExp(expandMacros(rule.pattern), `s${(rule.flags ?? '').replace('s', '')}`);
    } catch (error) {
      fail(file, `${where}.pattern`, (error as Error).message);
    }
    const problem = GUIDELINE_PASSED.has(guidelineKey(regex.source, regex.flags)) ? null : guidelineProblem(regex.source, regex.flags);
    if (problem !== null) fail(file, `${where}.pattern`, `breaks the cost guideline (docs/rules.md): ${problem}`);
    const session = regex.source.includes('(?<session>');
    if (!regex.source.includes('(?<addr>') && !session) {
      fail(file, `${where}.pattern`, 'must capture the address with %ADDR% (or a (?<session>...) that an earlier line of the session names)');
    }
    if (rule.event === 'connect' && !(session && regex.source.includes('(?<addr>'))) {
      fail(file, `${where}.pattern`, "a 'connect' line must capture both the session and its address");
    }
    if (rule.correlation !== undefined && !CORRELATION_ROLES.includes(rule.correlation)) {
      fail(file, `${where}.correlation`, `expected one of ${CORRELATION_ROLES.join(', ')}`);
    }
    if (rule.ownProgramsOnly !== undefined && typeof rule.ownProgramsOnly !== 'boolean') {
      fail(file, `${where}.ownProgramsOnly`, 'expected true or false');
    }
    let serviceCodes: Map<string, number> | null = null;
    if (rule.serviceCodes !== undefined) {
      const codes = rule.serviceCodes;
      if (typeof codes !== 'object' || codes === null || !Object.values(codes).every((c) => Number.isInteger(c) && c >= 100)) {
        fail(file, `${where}.serviceCodes`, 'expected an object of service names to service codes');
      }
      if (!regex.source.includes('(?<service>')) fail(file, `${where}.pattern`, 'serviceCodes needs a (?<service>...) group');
      serviceCodes = new Map(Object.entries(codes));
    }
    const examples = rule.examples;
    if (!examples || !Array.isArray(examples.match) || examples.match.length === 0 || !Array.isArray(examples.ignore)) {
      fail(file, `${where}.examples`, 'expected { match: [at least one], ignore: [...] }');
    }
    for (const key of Object.keys(examples)) {
      if (!['match', 'ignore', 'hostile'].includes(key)) fail(file, `${where}.examples.${key}`, 'unknown key');
    }
    if (examples.hostile !== undefined) {
      const ok = Array.isArray(examples.hostile) && examples.hostile.every(
        (h) => typeof h?.line === 'string' && h.line.includes('%U%') && typeof h.addr === 'string',
      );
      if (!ok) fail(file, `${where}.examples.hostile`, 'expected a list of { line: "...%U%...", addr }');
    }
    return {
      id: rule.id,
      description: rule.description,
      event: rule.event ?? 'attack',
      service: rule.service ?? spec.service,
      serviceName: spec.name,
      danger: rule.danger ?? ((rule.event ?? 'attack') === 'attack' ? 10 : 0),
      origin: rule.origin,
      correlation: rule.correlation ?? null,
      ownProgramsOnly: rule.ownProgramsOnly === true,
      serviceCodes,
      startsWith: prefixes,
      contains,
      ...matcherOf(regex, contains.length === 0 ? prefixes : null),
      programs: spec.programs,
      connectionPerPid: spec.connectionPerPid === true,
      senders,
      file,
      examples,
    };
  });
}

const SENDER_KEYS = ['executables', 'units', 'users'] as const;

function sendersOf(file: string, data: unknown): SenderSpec {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) fail(file, 'senders', 'expected { executables, units, users }');
  const spec = data as Record<string, unknown>;
  for (const key of Object.keys(spec)) if (!(SENDER_KEYS as readonly string[]).includes(key)) fail(file, `senders.${key}`, 'unknown key');
  for (const key of SENDER_KEYS) {
    const list = spec[key];
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && v.length > 0 && v.split('*').length <= 2)) {
      fail(file, `senders.${key}`, 'expected a list of names (each with at most one *)');
    }
  }
  if ((spec.users as string[]).length === 0) fail(file, 'senders.users', 'expected at least one account');
  if ((spec.executables as string[]).length + (spec.units as string[]).length === 0) fail(file, 'senders', 'expected at least one executable or unit');
  return { executables: spec.executables as string[], units: spec.units as string[], users: spec.users as string[] };
}

/**
 * What the parser runs for a pattern: its plain-group and sticky forms, and where its fields are; `prefixes`, when
 * given, are checked by the sticky form's lookahead (not under the `i` flag: startsWith compares case).
 */
export function matcherOf(
  regex: RegExp,
  prefixes: readonly string[] | null = null,
): Pick<CompiledRule, 'regex' | 'plain' | 'groups' | 'sticky' | 'stickyChecksPrefixes'> {
  const { plain, groups } = withPlainGroups(regex);
  const checked = prefixes !== null && !regex.flags.includes('i') ? prefixes : null;
  const sticky = stickyOf(plain, checked);
  return { regex, plain, groups, sticky, stickyChecksPrefixes: sticky !== null && checked !== null };
}

/**
 * The pattern with its named groups made plain, and the numbers of the groups the parser reads. Groups are
 * numbered by their opening parenthesis, skipping `(?:`, lookarounds and escaped or bracketed parentheses.
 */
function withPlainGroups(regex: RegExp): { plain: RegExp; groups: GroupNumbers } {
  const numbers = new Map<string, number>();
  let count = 0;
  const plain = regex.source.replace(GROUP_TOKEN, (token: string, name: string | undefined, special: string | undefined) => {
    if (token[0] !== '(' || special !== undefined) return token;
    count++;
    if (name === undefined) return token;
    numbers.set(name, count);
    return '(';
  });
  const number = (name: string) => numbers.get(name) ?? 0;
  return {
    plain: new RegExp(plain, regex.flags),
    groups: { addr: number('addr'), user: number('user'), service: number('service'), session: number('session') },
  };
}

/**
 * What numbering groups needs of a pattern: escapes and bracketed classes (whose parentheses open no group),
 * and opening parentheses with a group name, with `?` (no group: `(?:`, lookarounds) or plain.
 */
const GROUP_TOKEN = /\\.|\[(?:\\.|[^\]\\])*\]|\((?:\?<([A-Za-z_][A-Za-z0-9_]*)>|(\?))?/gs;

function stickyOf(regex: RegExp, prefixes: readonly string[] | null): RegExp | null {
  const source = regex.source;
  if (!source.startsWith('^') || source.includes('(?<=') || source.includes('(?<!')) return null;
  let depth = 0;
  for (let i = 1; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if ((c === '|' && depth === 0) || c === '^') return null;
  }
  const lookahead = prefixes === null ? '' : `(?=${prefixes.map(literal).join('|')})`;
  return new RegExp(lookahead + source.slice(1), `${regex.flags}y`);
}

/** A text as a pattern that matches just it */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const DEFAULT_RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));

/** Loads every rules/*.json file of one folder (sorted by name, so matching order is stable). */
export function loadRules(dir: string = DEFAULT_RULES_DIR): CompiledRule[] {
  const rules = readRuleFolder(dir);
  if (rules.length === 0) throw new RuleError(`${dir}: no rule files`);
  return rules;
}

function readRuleFolder(dir: string): CompiledRule[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new RuleError(`${dir}: cannot read the rules folder: ${(error as Error).message}`);
  }
  const rules: CompiledRule[] = [];
  const seen = new Map<string, string>();
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const path = join(dir, name);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new RuleError(`${path}: ${(error as Error).message}`);
    }
    for (const rule of compileFile(path, data)) {
      const other = seen.get(rule.id);
      if (other) throw new RuleError(`${path}: rule id ${rule.id} is already used in ${other}`);
      seen.set(rule.id, path);
      rules.push(rule);
    }
  }
  return rules;
}

/** One choice of the operator's, with where it was made (`--disable-rule`, or `FILE:LINE: KEY`) for errors. */
export interface RuleChoice<T> {
  value: T;
  origin: string;
}

export interface RuleSetOptions {
  /** The bundled rules (default: the package's rules/) */
  bundledDir?: string;
  /** Local rule files, added to the bundled ones; a local rule with a bundled rule's id replaces it */
  localDir?: string | null;
  /** Rule ids not to use */
  disable?: readonly RuleChoice<string>[];
  /** `RULE_ID=N` or `SERVICE=N` (a service by code, file name or name): the danger of those rules' attacks */
  danger?: readonly RuleChoice<string>[];
}

/** How a rule of the set differs from the bundled one, for `rules list`. */
export interface RuleNote {
  /** From the local folder */
  local: boolean;
  /** The bundled rule's file, when a local rule with its id replaced it */
  replaces: string | null;
  /** The danger before an override, and where the override was made */
  danger: { was: number; origin: string } | null;
}

export interface RuleSet {
  /** In matching order: bundled (replaced ones in their place), then the local ones new */
  rules: CompiledRule[];
  /** Rules left out by --disable-rule, for listings */
  disabled: CompiledRule[];
  notes: ReadonlyMap<string, RuleNote>;
}

const DANGER = /^([^=\s]+)=(\d{1,6})$/;

/** A service named by its code (100), its file's name (ssh, as in rules/ssh.json) or its name (OpenSSH). */
function servesAs(rule: CompiledRule, key: string): boolean {
  const lower = key.toLowerCase();
  return String(rule.service) === key || basename(rule.file, '.json').toLowerCase() === lower || rule.serviceName.toLowerCase() === lower;
}

/**
 * The bundled rules with the operator's own: local files added (a local rule replaces the bundled rule of the
 * same id), rules disabled, dangers overridden. An unknown id or service is an error that names it and where it
 * was given, as a typo must not leave a false positive in place silently.
 */
export function loadRuleSet(options: RuleSetOptions = {}): RuleSet {
  const notes = new Map<string, RuleNote>();
  const note = (id: string) => {
    let n = notes.get(id);
    if (!n) notes.set(id, (n = { local: false, replaces: null, danger: null }));
    return n;
  };
  let rules = loadRules(options.bundledDir ?? DEFAULT_RULES_DIR);
  if (options.localDir) {
    const local = readRuleFolder(options.localDir);
    if (local.length === 0) throw new RuleError(`${options.localDir}: no rule files (*.json) in the local rules folder`);
    const byId = new Map(local.map((r) => [r.id, r]));
    rules = rules.map((r) => {
      const mine = byId.get(r.id);
      if (!mine) return r;
      byId.delete(r.id);
      note(r.id).replaces = r.file;
      return mine;
    });
    for (const r of local) note(r.id).local = true;
    rules.push(...byId.values());
  }
  const known = new Set(rules.map((r) => r.id));
  const unknownRule = (choice: RuleChoice<string>, id: string, what: string) =>
    new RuleError(`${choice.origin}: no rule ${JSON.stringify(id)} ${what} (logwarden rules list shows the ids)`);
  const off = new Set<string>();
  for (const choice of options.disable ?? []) {
    if (!known.has(choice.value)) throw unknownRule(choice, choice.value, 'to disable');
    off.add(choice.value);
  }
  // a rule's own override wins over its service's, whatever their order
  const byRule = new Map<string, { danger: number; origin: string }>();
  const byService: { key: string; danger: number; origin: string }[] = [];
  for (const choice of options.danger ?? []) {
    const m = DANGER.exec(choice.value.trim());
    if (!m) throw new RuleError(`${choice.origin}: expected RULE_ID=N or SERVICE=N (N a whole number >= 0), got ${JSON.stringify(choice.value)}`);
    const [, key, n] = m;
    const danger = Number(n);
    if (known.has(key)) {
      const rule = rules.find((r) => r.id === key)!;
      if (rule.event !== 'attack') throw new RuleError(`${choice.origin}: rule ${key} recognises ${rule.event} lines, which have no danger`);
      byRule.set(key, { danger, origin: choice.origin });
    } else if (rules.some((r) => servesAs(r, key))) {
      byService.push({ key, danger, origin: choice.origin });
    } else {
      throw new RuleError(`${choice.origin}: ${JSON.stringify(key)} is neither a rule id nor a service (code, file name or name; logwarden rules list shows them)`);
    }
  }
  rules = rules.map((r) => {
    if (r.event !== 'attack') return r;
    const set = byRule.get(r.id) ?? [...byService].reverse().find((s) => servesAs(r, s.key));
    if (!set || set.danger === r.danger) return r;
    note(r.id).danger = { was: r.danger, origin: set.origin };
    return { ...r, danger: set.danger };
  });
  return { rules: rules.filter((r) => !off.has(r.id)), disabled: rules.filter((r) => off.has(r.id)), notes };
}
