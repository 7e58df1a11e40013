/**
 * Reading `iptables-save` / `ip6tables-save` output (legacy and nft variants alike): every rule that matches an
 * address by `-s`/`-d`, `-m iprange`, or `-m set --match-set NAME` whose ipset holds it (pure). A rule in a chain
 * no built-in chain leads to (logwarden's chain left without its jump from INPUT) is said to block nothing.
 */
import { blocking, covers, type Finding, markShadowed, type Target, toolOf, type Verdict } from './finding.js';
import { type IpsetSet, memberCovering } from './ipset.js';

/** Splits a rule line into words; iptables-save quotes words with spaces ("--comment "a b"") and escapes quotes. */
export function ruleWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '\\' && i + 1 < line.length) word += line[++i];
      else if (c === '"') quoted = false;
      else word += c;
    } else if (c === '"') {
      quoted = true;
      started = true;
    } else if (c === ' ' || c === '\t') {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += c;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

const VERDICTS: Record<string, Verdict> = { DROP: 'drop', REJECT: 'reject', ACCEPT: 'accept', RETURN: 'return' };

interface Match {
  matched: string;
  direction: 'source' | 'destination';
  set: string | null;
  expiresIn: number | null;
}

/** The ways one rule's words match the target (none when a match is negated with `!`). */
function matchesOf(words: string[], target: Target, ipsets: ReadonlyMap<string, IpsetSet>): Match[] {
  const found: Match[] = [];
  for (let i = 0; i < words.length - 1; i++) {
    const negated = words[i - 1] === '!';
    const w = words[i];
    const value = words[i + 1];
    if (negated) continue;
    if (w === '-s' || w === '--source' || w === '-d' || w === '--destination') {
      if (covers(target, value)) found.push({ matched: value, direction: w.startsWith('-s') || w === '--source' ? 'source' : 'destination', set: null, expiresIn: null });
    } else if (w === '--src-range' || w === '--dst-range') {
      if (covers(target, value)) found.push({ matched: value, direction: w === '--src-range' ? 'source' : 'destination', set: null, expiresIn: null });
    } else if (w === '--match-set' && i + 2 < words.length) {
      const set = ipsets.get(value);
      const flags = words[i + 2].split(',');
      const member = set ? memberCovering(set, target) : null;
      if (member && (flags[0] === 'src' || flags[0] === 'dst')) {
        found.push({ matched: member.value, direction: flags[0] === 'src' ? 'source' : 'destination', set: value, expiresIn: member.timeout });
      }
    }
  }
  return found;
}

export interface IptablesOptions {
  /** The command that printed the text (iptables-legacy-save, ip6tables-nft-save, ...) */
  source: string;
  fwName: string;
  /** ipset's sets by name, for rules that use one (empty when ipset could not be read) */
  ipsets: ReadonlyMap<string, IpsetSet>;
}

/** The chain a rule's words jump or go to (`-j`, `-g`), or null. */
function jumpOf(words: string[]): string | null {
  const at = Math.max(words.lastIndexOf('-j'), words.lastIndexOf('-g'), words.lastIndexOf('--jump'), words.lastIndexOf('--goto'));
  return at >= 0 ? (words[at + 1] ?? null) : null;
}

/** One table's chains as a save output declares them, and its jumps (`-j`/`-g` to another chain) */
interface ChainGraph {
  /** User chains (policy `-`) */
  user: string[];
  /** Built-in chains (with a policy): packets enter them */
  builtIn: string[];
  /** chain -> the chains its rules jump or go to */
  to: Map<string, string[]>;
  /** chain -> the chains whose rules jump or go to it */
  from: Map<string, string[]>;
}

/**
 * Per table, why each user chain that packets never enter is not entered: the built-in chains are entered, and
 * every chain one of them jumps or goes to, directly or through other chains.
 */
export function unreachedChains(text: string): Map<string, Map<string, string>> {
  const graphs = new Map<string, ChainGraph>();
  let graph: ChainGraph | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      graph = { user: [], builtIn: [], to: new Map(), from: new Map() };
      graphs.set(line.slice(1).trim(), graph);
    } else if (graph !== null && line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(' ');
      (policy === '-' ? graph.user : graph.builtIn).push(name);
    } else if (graph !== null && line.startsWith('-A ')) {
      const words = ruleWords(line);
      const target = jumpOf(words);
      if (target !== null) {
        graph.to.set(words[1], [...(graph.to.get(words[1]) ?? []), target]);
        graph.from.set(target, [...(graph.from.get(target) ?? []), words[1]]);
      }
    }
  }
  const out = new Map<string, Map<string, string>>();
  for (const [table, g] of graphs) {
    const entered = new Set(g.builtIn);
    const queue = [...g.builtIn];
    for (let chain = queue.pop(); chain !== undefined; chain = queue.pop()) {
      for (const next of g.to.get(chain) ?? []) {
        if (entered.has(next)) continue;
        entered.add(next);
        queue.push(next);
      }
    }
    const parents = (chain: string) => g.from.get(chain) ?? [];
    const why = new Map<string, string>();
    for (const chain of g.user) {
      if (entered.has(chain)) continue;
      // the chains it is reached through that nothing jumps to: where a missing jump would go
      const seen = new Set([chain]);
      const up = [chain];
      const roots: string[] = [];
      for (let c = up.pop(); c !== undefined; c = up.pop()) {
        const from = parents(c);
        if (from.length === 0 && c !== chain) roots.push(c);
        for (const p of from) {
          if (seen.has(p)) continue;
          seen.add(p);
          up.push(p);
        }
      }
      if (parents(chain).length === 0) why.set(chain, `nothing jumps to chain ${chain}`);
      else if (roots.length > 0) why.set(chain, `chain ${chain} is reached only through ${roots.join(', ')}, and nothing jumps to ${roots.length > 1 ? 'them' : 'it'}`);
      else why.set(chain, `chain ${chain} is jumped to only from chains no built-in chain leads to`);
    }
    out.set(table, why);
  }
  return out;
}

export function iptablesFindings(text: string, target: Target, options: IptablesOptions): Finding[] {
  const findings: Finding[] = [];
  const unreached = unreachedChains(text);
  let table = '';
  const chains = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      chains.clear();
    } else if (line.startsWith(':')) {
      chains.add(line.slice(1).split(' ')[0]);
    } else if (line.startsWith('-A ')) {
      const words = ruleWords(line);
      const chain = words[1];
      const jumpTo = jumpOf(words);
      const verdict: Verdict = jumpTo === null ? 'other' : (VERDICTS[jumpTo] ?? (chains.has(jumpTo) ? 'jump' : 'other'));
      const never = unreached.get(table)?.get(chain);
      for (const m of matchesOf(words, target, options.ipsets)) {
        findings.push({
          source: options.source,
          tool: toolOf({ set: m.set, chain, table }, options.fwName),
          table,
          chain,
          set: m.set,
          matched: m.matched,
          direction: m.direction,
          rule: line.trim(),
          verdict,
          target: verdict === 'jump' || verdict === 'other' ? jumpTo : null,
          blocks: never === undefined && blocking(verdict),
          expiresIn: m.expiresIn,
          handle: null,
          shadowedBy: null,
          ...(never === undefined ? {} : { unreached: never }),
        });
      }
    }
  }
  return markShadowed(findings);
}

/** The ipsets a save output's rules use (`--match-set NAME`), to tell sets no rule uses. */
export function ipsetsUsed(text: string): Set<string> {
  const used = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('-A ')) continue;
    const words = ruleWords(line);
    for (let i = 0; i < words.length - 1; i++) if (words[i] === '--match-set') used.add(words[i + 1]);
  }
  return used;
}

/** The tables a save output holds: with iptables-nft they are nft tables too, and shown from here instead. */
export function savedTables(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('*')).map((l) => l.slice(1).trim());
}
