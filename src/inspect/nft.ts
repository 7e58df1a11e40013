/**
 * Reading `nft -j list ruleset`: every rule that matches an address by `ip saddr`/`ip6 daddr` and the like
 * (an address, a prefix, a range, an anonymous set, or a named set that holds a covering element), and every
 * named set holding it that no rule uses (pure).
 */
import { blocking, covers, type Finding, markShadowed, type Target, toolOf, type Verdict } from './finding.js';

type Json = unknown;

interface NftSet {
  family: string;
  table: string;
  name: string;
  elem: Json[];
}

interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: number | null;
  expr: Json[];
}

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An element or value as nft prints it: `192.0.2.7`, `198.51.100.0/24`, `192.0.2.1-192.0.2.9`; null for others. */
function valueText(v: Json): string | null {
  if (typeof v === 'string') return v;
  if (!isObject(v)) return null;
  if (isObject(v.prefix)) return `${String(v.prefix.addr)}/${String(v.prefix.len)}`;
  if (Array.isArray(v.range) && v.range.length === 2) return `${String(v.range[0])}-${String(v.range[1])}`;
  return null;
}

/** A set element: its value, and the seconds it has left when it has a timeout. */
function elementOf(e: Json): { text: string | null; expiresIn: number | null } {
  if (isObject(e) && isObject(e.elem)) {
    const expires = typeof e.elem.expires === 'number' ? e.elem.expires : null;
    return { text: valueText(e.elem.val), expiresIn: expires };
  }
  return { text: valueText(e), expiresIn: null };
}

/** A short text of an expression, for showing the rule: enough to recognise it, not nft's exact syntax. */
function exprText(x: Json): string {
  if (!isObject(x)) return String(x);
  const [key, body] = Object.entries(x)[0] ?? ['?', null];
  if (key === 'match' && isObject(body)) {
    const op = body.op === '==' || body.op === 'in' ? '' : `${String(body.op)} `;
    return `${operandText(body.left)} ${op}${operandText(body.right)}`;
  }
  if (key === 'jump' || key === 'goto') return `${key} ${isObject(body) ? String(body.target) : ''}`;
  if (key === 'xt' && isObject(body)) return `xt ${String(body.type)} ${String(body.name)}`;
  if (key === 'reject' && isObject(body)) return `reject with ${String(body.type)} ${String(body.expr)}`;
  return key;
}

function operandText(v: Json): string {
  if (isObject(v)) {
    if (isObject(v.payload)) return `${String(v.payload.protocol)} ${String(v.payload.field)}`;
    if (isObject(v.meta)) return `meta ${String(v.meta.key)}`;
    if (Array.isArray(v.set)) return `{ ${v.set.map((e) => valueText(e) ?? JSON.stringify(e)).join(', ')} }`;
    const text = valueText(v);
    if (text !== null) return text;
    return JSON.stringify(v);
  }
  return String(v);
}

function verdictOf(expr: Json[]): { verdict: Verdict; target: string | null } {
  for (let i = expr.length - 1; i >= 0; i--) {
    const x = expr[i];
    if (!isObject(x)) continue;
    if ('drop' in x) return { verdict: 'drop', target: null };
    if ('reject' in x) return { verdict: 'reject', target: null };
    if ('accept' in x) return { verdict: 'accept', target: null };
    if ('return' in x) return { verdict: 'return', target: null };
    if (isObject(x.jump)) return { verdict: 'jump', target: String(x.jump.target) };
    if (isObject(x.goto)) return { verdict: 'jump', target: String(x.goto.target) };
    if (isObject(x.xt) && x.xt.type === 'target') {
      const name = String(x.xt.name);
      return name === 'REJECT' ? { verdict: 'reject', target: null } : { verdict: 'other', target: name };
    }
  }
  return { verdict: 'other', target: null };
}

export interface NftOptions {
  fwName: string;
  /** Tables shown by iptables-nft-save (`ip filter`, `ip6 filter`): reported from there, not twice */
  skipTables: ReadonlySet<string>;
}

export function nftFindings(json: string, target: Target, options: NftOptions): Finding[] {
  const items = (JSON.parse(json) as { nftables?: Json[] }).nftables ?? [];
  const sets = new Map<string, NftSet>();
  const rules: NftRule[] = [];
  for (const item of items) {
    if (!isObject(item)) continue;
    if (isObject(item.set)) {
      const s = item.set;
      sets.set(`${String(s.family)} ${String(s.table)} ${String(s.name)}`, {
        family: String(s.family),
        table: String(s.table),
        name: String(s.name),
        elem: Array.isArray(s.elem) ? s.elem : [],
      });
    } else if (isObject(item.rule)) {
      const r = item.rule;
      rules.push({ family: String(r.family), table: String(r.table), chain: String(r.chain), handle: typeof r.handle === 'number' ? r.handle : null, expr: Array.isArray(r.expr) ? r.expr : [] });
    }
  }
  const protocol = target.kind === 4 ? 'ip' : 'ip6';
  const covering = (values: Json[]) => {
    for (const e of values) {
      const el = elementOf(e);
      if (el.text !== null && covers(target, el.text)) return { text: el.text, expiresIn: el.expiresIn };
    }
    return null;
  };
  const findings: Finding[] = [];
  const usedSets = new Set<string>();
  for (const rule of rules) {
    const table = `${rule.family} ${rule.table}`;
    if (options.skipTables.has(table)) continue;
    const { verdict, target: jumpTo } = verdictOf(rule.expr);
    const text = rule.expr.map(exprText).join(' ');
    for (const x of rule.expr) {
      if (!isObject(x) || !isObject(x.match)) continue;
      const { op, left, right } = x.match;
      if (!isObject(left) || !isObject(left.payload)) continue;
      const field = left.payload.field;
      if (left.payload.protocol !== protocol || (field !== 'saddr' && field !== 'daddr')) continue;
      let hit: { text: string; expiresIn: number | null } | null = null;
      let set: string | null = null;
      if (typeof right === 'string' && right.startsWith('@')) {
        set = right.slice(1);
        usedSets.add(`${rule.family} ${rule.table} ${set}`);
        hit = covering(sets.get(`${rule.family} ${rule.table} ${set}`)?.elem ?? []);
      } else if (isObject(right) && Array.isArray(right.set)) {
        hit = covering(right.set);
      } else {
        hit = covering([right]);
      }
      // a negated match (`ip saddr != ...`) lets the address through
      if (hit === null || (op !== '==' && op !== 'in')) continue;
      findings.push({
        source: 'nft',
        tool: toolOf({ set, chain: rule.chain, table: rule.table }, options.fwName),
        table,
        chain: rule.chain,
        set,
        matched: hit.text,
        direction: field === 'saddr' ? 'source' : 'destination',
        rule: text,
        verdict,
        target: jumpTo,
        blocks: blocking(verdict),
        expiresIn: hit.expiresIn,
        handle: rule.handle,
        shadowedBy: null,
      });
    }
  }
  markShadowed(findings);
  for (const [key, set] of sets) {
    const table = `${set.family} ${set.table}`;
    if (usedSets.has(key) || options.skipTables.has(table)) continue;
    const hit = covering(set.elem);
    if (hit === null) continue;
    findings.push({
      source: 'nft',
      tool: toolOf({ set: set.name, table: set.table }, options.fwName),
      table,
      chain: null,
      set: set.name,
      matched: hit.text,
      direction: 'source',
      rule: null,
      verdict: 'other',
      target: null,
      blocks: false,
      expiresIn: hit.expiresIn,
      handle: null,
      shadowedBy: null,
    });
  }
  return findings;
}
