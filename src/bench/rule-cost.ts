/**
 * What each rule costs: its pre-filters and regex run over the lines routed to it, timed per rule over batches
 * of lines (one clock reading per rule and batch, so the clock costs nothing next to the work). A measuring pass
 * beside the parser's own, which stays as fast as it is: every routed line is tried by every rule of its route,
 * as a line that no rule matches is (most lines), so a rule's cost does not depend on the rules before it.
 */
import { Banner, parseBanner } from '../parse/banner.js';
import type { Parser } from '../parse/parser.js';
import type { CompiledRule } from '../parse/rules.js';

export interface RuleCost {
  id: string;
  /** Lines routed to the rule (by program tag) */
  routed: number;
  /** Of those, lines that passed its startsWith/contains pre-filters and reached its regex */
  reachedRegex: number;
  /** Nanoseconds spent in its pre-filters and regex */
  ns: number;
}

const BATCH = 4096;
const ROUTE_CACHE_LIMIT = 4096;

export class RuleCostMeter {
  private readonly costs = new Map<CompiledRule, RuleCost>();
  private readonly unknownProgram: CompiledRule[];
  private readonly routes = new Map<string, readonly CompiledRule[]>();
  private readonly scratch = new Banner('');
  /** Messages of the batch, by rule they are routed to */
  private readonly pending = new Map<CompiledRule, string[]>();
  private buffered = 0;

  constructor(private readonly parser: Parser) {
    for (const rule of parser.rules) {
      this.costs.set(rule, { id: rule.id, routed: 0, reachedRegex: 0, ns: 0 });
      // V8 compiles a regex on its first use: not a cost of the log
      rule.plain.exec(rule.examples.match[0].line);
    }
    this.unknownProgram = parser.rules.filter((r) => !r.ownProgramsOnly);
  }

  private routeOf(tag: string | null): readonly CompiledRule[] {
    if (tag === null) return this.unknownProgram;
    let rules = this.routes.get(tag);
    if (rules === undefined) {
      rules = this.parser.route(tag) ?? this.unknownProgram;
      if (this.routes.size < ROUTE_CACHE_LIMIT) this.routes.set(tag, rules);
    }
    return rules;
  }

  add(line: string): void {
    const banner = parseBanner(line, this.scratch);
    const rules = this.routeOf(banner.tag);
    if (rules.length === 0) return;
    const msg = banner.msg.trimEnd();
    for (const rule of rules) {
      const list = this.pending.get(rule);
      if (list) list.push(msg);
      else this.pending.set(rule, [msg]);
    }
    if (++this.buffered >= BATCH) this.flush();
  }

  /** Runs the batch's lines, rule by rule, each under its own clock. */
  flush(): void {
    for (const [rule, messages] of this.pending) {
      const cost = this.costs.get(rule)!;
      const { startsWith, contains, plain } = rule;
      let reached = 0;
      const started = process.hrtime.bigint();
      for (const msg of messages) {
        if (startsWith !== null && !startsWith.some((p) => msg.startsWith(p))) continue;
        if (contains.length > 0 && !contains.every((c) => msg.includes(c))) continue;
        reached++;
        plain.exec(msg);
      }
      cost.ns += Number(process.hrtime.bigint() - started);
      cost.routed += messages.length;
      cost.reachedRegex += reached;
    }
    this.pending.clear();
    this.buffered = 0;
  }

  /** Every rule's cost, the most expensive first. */
  result(): RuleCost[] {
    this.flush();
    return [...this.costs.values()].sort((a, b) => b.ns - a.ns || a.id.localeCompare(b.id));
  }
}
