/**
 * The rule-writing cost guideline of docs/rules.md, checked on a pattern's source when rules are loaded: the
 * shapes that make a backtracking engine slow on attacker text are refused before any line meets them.
 * Character classes are compared on a sample alphabet (Latin-1 and a few characters beyond), which is exact for
 * the classes rules use and can only make two classes look disjoint when they share nothing but rare characters.
 */

/** A sample of characters: every code under 256, a line separator, a CJK letter, the replacement character */
const SAMPLE = [...Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)), '\u2028', '\u4e2d', '\ufffd'];
/** A set of SAMPLE's characters, one bit each: rules are checked at every start, so set operations must be cheap */
type CharSet = Uint32Array;
const WORDS = Math.ceil(SAMPLE.length / 32);

interface Item {
  /** The item's text in the pattern, for messages */
  text: string;
  /** Characters the item can start with (empty for zero-width items) */
  first: CharSet;
  /** Every character the item can match */
  any: CharSet;
  min: number;
  max: number;
  /** The quantifier's own upper bound (1 when there is none) */
  times: number;
  /** Alternatives of a group, else null */
  alternatives: Item[][] | null;
  zeroWidth: boolean;
}

const setCache = new Map<string, CharSet>();
/** Characters that mean something in a pattern: any other single character matches only itself */
const SPECIAL = new Set([...'\\^$.|?*+()[]{}']);

function setOf(atom: string, flags: string): CharSet {
  const key = `${flags}/${atom}`;
  let set = setCache.get(key);
  if (set === undefined) {
    set = new Uint32Array(WORDS);
    if (atom.length === 1 && !SPECIAL.has(atom) && !flags.includes('i')) {
      const i = SAMPLE.indexOf(atom);
      if (i >= 0) set[i >> 5] |= 1 << (i & 31);
    } else {
      const regex = new RegExp(`^(?:${atom})$`, flags.replace(/[gyd]/g, ''));
      for (let i = 0; i < SAMPLE.length; i++) if (regex.test(SAMPLE[i])) set[i >> 5] |= 1 << (i & 31);
    }
    setCache.set(key, set);
  }
  return set;
}

const union = (sets: CharSet[]): CharSet => {
  const out = new Uint32Array(WORDS);
  for (const s of sets) for (let w = 0; w < WORDS; w++) out[w] |= s[w];
  return out;
};
const overlap = (a: CharSet, b: CharSet): boolean => {
  for (let w = 0; w < WORDS; w++) if ((a[w] & b[w]) !== 0) return true;
  return false;
};
const EVERY = setOf('[^]', '');
const NONE = new Uint32Array(WORDS);

// Sticky, matched where the reader is: slicing the rest of the source for each atom made reading quadratic
const NAMED = /\?<([A-Za-z_$][\w$]*)>/y;
const BACK_REFERENCE = /\\(?:k<[^>]*>|[1-9]\d*)/y;
const ESCAPE = /\\(?:u\{[0-9A-Fa-f]+\}|u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|[pP]\{[^}]*\}|c[A-Za-z]|.)/sy;
const QUANTIFIER = /(?:([*+?])|\{(\d+)(?:(,)(\d*))?\})\??/y;

class PatternReader {
  private i = 0;
  constructor(private readonly source: string, private readonly flags: string) {}

  private at(regex: RegExp): RegExpExecArray | null {
    regex.lastIndex = this.i;
    return regex.exec(this.source);
  }

  alternatives(): Item[][] {
    const out: Item[][] = [this.sequence()];
    while (this.source[this.i] === '|') {
      this.i++;
      out.push(this.sequence());
    }
    return out;
  }

  private sequence(): Item[] {
    const items: Item[] = [];
    while (this.i < this.source.length && this.source[this.i] !== '|' && this.source[this.i] !== ')') items.push(this.quantified(this.atom()));
    return items;
  }

  private atom(): Item {
    const { source } = this;
    const start = this.i;
    const c = source[this.i];
    if (c === '^' || c === '$') {
      this.i++;
      return zero(c);
    }
    if (c === '(') {
      let lookaround = false;
      this.i++;
      if (source[this.i] === '?') {
        const rest = source.slice(this.i, this.i + 4);
        lookaround = /^\?(?:=|!|<=|<!)/.test(rest);
        const named = this.at(NAMED);
        this.i += named ? named[0].length : rest.startsWith('?<=') || rest.startsWith('?<!') ? 3 : 2;
      }
      const alternatives = this.alternatives();
      this.i++; // ')'
      const text = source.slice(start, this.i);
      if (lookaround) return { ...zero(text), alternatives };
      return groupItem(text, alternatives);
    }
    if (c === '[') {
      this.i++;
      while (this.i < source.length && source[this.i] !== ']') this.i += source[this.i] === '\\' ? 2 : 1;
      this.i++;
    } else if (c === '\\') {
      const next = source[this.i + 1];
      if (next === 'b' || next === 'B') {
        this.i += 2;
        return zero(source.slice(start, this.i));
      }
      const long = this.at(BACK_REFERENCE);
      if (long) {
        // a back-reference can match anything its group did
        this.i += long[0].length;
        return { text: long[0], first: EVERY, any: EVERY, min: 0, max: Infinity, times: 1, alternatives: null, zeroWidth: false };
      }
      const escape = this.at(ESCAPE);
      this.i += escape ? escape[0].length : 2;
    } else {
      this.i++;
    }
    const text = source.slice(start, this.i);
    const set = setOf(text, this.flags);
    return { text, first: set, any: set, min: 1, max: 1, times: 1, alternatives: null, zeroWidth: false };
  }

  private quantified(item: Item): Item {
    const m = this.at(QUANTIFIER);
    if (m === null || item.zeroWidth) return item;
    this.i += m[0].length;
    let min: number;
    let max: number;
    if (m[1] !== undefined) [min, max] = m[1] === '*' ? [0, Infinity] : m[1] === '+' ? [1, Infinity] : [0, 1];
    else {
      min = Number(m[2]);
      max = m[3] === undefined ? min : m[4] === '' ? Infinity : Number(m[4]);
    }
    return { ...item, text: item.text + m[0], min: item.min * min, max: max === 0 ? 0 : item.max * max, times: max };
  }
}

function zero(text: string): Item {
  return { text, first: NONE, any: NONE, min: 0, max: 0, times: 1, alternatives: null, zeroWidth: true };
}

function groupItem(text: string, alternatives: Item[][]): Item {
  const widths = alternatives.map((seq) => seq.reduce((w, it) => ({ min: w.min + it.min, max: w.max + it.max }), { min: 0, max: 0 }));
  return {
    text,
    first: union(alternatives.map(firstOf)),
    any: union(alternatives.flat().map((it) => it.any)),
    min: Math.min(...widths.map((w) => w.min)),
    max: Math.max(...widths.map((w) => w.max)),
    times: 1,
    alternatives,
    zeroWidth: false,
  };
}

/** The characters a sequence can start with: its first items' up to the first one that must match something. */
function firstOf(seq: Item[]): CharSet {
  const sets: CharSet[] = [];
  for (const item of seq) {
    sets.push(item.first);
    if (item.min > 0) break;
  }
  return union(sets);
}

/** Whether the item can end with an unbounded run (a group only through one of its alternatives' last items) */
function endsFree(item: Item): boolean {
  if (item.alternatives === null || item.times > 1) return item.max === Infinity;
  return item.alternatives.some((seq) => {
    for (let k = seq.length - 1; k >= 0; k--) {
      if (seq[k].zeroWidth) continue;
      if (endsFree(seq[k])) return true;
      if (seq[k].min > 0) return false;
    }
    return false;
  });
}

function* inside(item: Item): Generator<Item> {
  for (const seq of item.alternatives ?? []) {
    for (const it of seq) {
      yield it;
      yield* inside(it);
    }
  }
}

function checkSequence(seq: Item[]): string | null {
  for (let k = 0; k < seq.length; k++) {
    const a = seq[k];
    if (a.alternatives !== null && a.times > 1) {
      const repeated = [...inside(a)];
      const unbounded = repeated.find((it) => it.max === Infinity);
      if (unbounded) return `nested quantifiers: ${a.text} repeats ${unbounded.text}`;
      const variable = repeated.find((it) => it.max > it.min && it.max > 1);
      if (a.times === Infinity && variable) return `nested quantifiers: ${a.text} repeats ${variable.text} without bound`;
      const firsts = a.alternatives.map(firstOf);
      if (firsts.some((f, x) => firsts.some((g, y) => y > x && overlap(f, g)))) {
        return `${a.text} repeats alternatives that can start with the same character`;
      }
    }
    if (a.max !== Infinity) continue;
    // what follows: zero-width items and text `a` can also match do not stop it from taking over
    const between: Item[] = [];
    for (let n = k + 1; n < seq.length; n++) {
      const b = seq[n];
      if (b.zeroWidth) continue;
      if (!overlap(a.any, b.first)) break;
      if (between.length === 0 && endsFree(a) && b.max > b.min) {
        return `${a.text} is right before ${b.text}, which can start with what it matches: they trade characters`;
      }
      // quadratic when each can run over the text between them: every copy of it is a place to split
      if (b.max === Infinity && overlap(a.any, b.any) && between.every((it) => overlap(it.any, b.any))) {
        return `${a.text} and ${b.text} are unbounded over the same characters with only text both can match between them`;
      }
      if (b.min > 0) between.push(b);
    }
  }
  for (const item of seq) {
    for (const alternative of item.alternatives ?? []) {
      const problem = checkSequence(alternative);
      if (problem !== null) return problem;
    }
  }
  return null;
}

/** What breaks the guideline in a compiled pattern's source (`regex.source`), or null when nothing does. */
export function guidelineProblem(source: string, flags: string): string | null {
  const alternatives = new PatternReader(source, flags).alternatives();
  for (const seq of alternatives) {
    const problem = checkSequence(seq);
    if (problem !== null) return problem;
  }
  return null;
}
