/**
 * One wiring of the stages after the parser: attempt correlation → policy → store. `audit` and the daemon
 * both feed it parsed lines; what they do with block decisions (report, or apply) is theirs.
 */
import { AttemptCorrelator, type CorrelatorOptions, DEFAULT_CORRELATOR, type Disposition } from '../correlate/attempts.js';
import { connectionOf } from '../correlate/connections.js';
import { attributed, type ParsedEvent } from '../parse/parser.js';
import {
  applyEvent,
  type BlockDecision,
  type Evidence,
  forgiveAttack,
  keyOf,
  type PolicyConfig,
  type PolicyEvent,
  type PolicyState,
  prune,
} from '../policy/policy.js';
import { networkText } from '../policy/network.js';
import type { HostnameResolver, ResolvedHost } from '../resolve/hostnames.js';
import type { EvidenceLog } from './evidence.js';
import { boundHeapGrowth } from './memory.js';

/** A parsed line on its way through the engine. */
export interface Item {
  parsed: ParsedEvent;
  event: ParsedEvent['event'];
  correlation: ParsedEvent['correlation'];
  address: string;
  hostname: boolean;
  /** ms, the event's own time */
  time: number;
  connection: string | null;
  source: string;
  lineNo: number | null;
  line: string;
}

/** The engine's view of a parsed line read from `source`. */
export function itemOf(parsed: ParsedEvent, time: number, source: string, lineNo: number | null, line: string): Item {
  return {
    parsed,
    event: parsed.event,
    correlation: parsed.correlation,
    address: parsed.addr,
    hostname: parsed.kind === null,
    time,
    connection: connectionOf(parsed),
    source,
    lineNo,
    line,
  };
}

/** A line that named its client by host name, attributed to the address its connection's other line gives. */
function resolved(item: Item, by: Item | undefined): Item {
  return withAddress(item, by?.parsed);
}

function withAddress(item: Item, host: ResolvedHost | ParsedEvent | undefined): Item {
  const parsed = attributed(item.parsed, host);
  return parsed === item.parsed ? item : { ...item, parsed, address: parsed.addr, hostname: false };
}

export interface EngineStats {
  events: number;
  scored: number;
  joined: number;
  forgiven: number;
  whitelisted: number;
  trusted: number;
  alreadyBlocked: number;
  logins: number;
  hostnames: number;
  /** Lines that name only a session whose address no line gave */
  unattributed: number;
  blocks: number;
}

export interface EngineOptions {
  policy: PolicyConfig;
  state: PolicyState;
  /** Where evidence, offenders and blocks go (the store, or nowhere for a dry run) */
  evidence: EvidenceLog;
  /** The real time (ms): blocks that end before it are recorded, not applied */
  now: () => number;
  onBlock: (block: BlockDecision, trigger: Item) => void;
  correlator?: CorrelatorOptions;
  /** Opt-in: attempts known by host name only are resolved (forward-confirmed) and then scored */
  resolver?: HostnameResolver | null;
}

/**
 * Attacks of an address while it is blocked are all counted, but only this many per block are stored as
 * evidence: in a running daemon the firewall already drops such an address, and a flood replayed from old
 * logs would otherwise fill the store with lines that say nothing new.
 */
export const EVIDENCE_WHILE_BLOCKED = 10;

/** Offenders are pruned at most this often, in the events' own time. */
const PRUNE_EVERY_MS = 10 * 60_000;
/** Held lines are released at most this often. */
const EXPIRE_EVERY_MS = 1_000;

/** host|program|session, or host|program|pid of a daemon that forks per connection: one connection. */
export { connectionOf };

export class Engine {
  readonly stats: EngineStats = {
    events: 0,
    scored: 0,
    joined: 0,
    forgiven: 0,
    whitelisted: 0,
    trusted: 0,
    alreadyBlocked: 0,
    logins: 0,
    hostnames: 0,
    unattributed: 0,
    blocks: 0,
  };
  private readonly correlator: AttemptCorrelator<Item, PolicyEvent | null>;
  private lastExpire = -Infinity;
  /** The newest event time handled, and the wall-clock time of the last line handled */
  private newest = -Infinity;
  private newestAt = 0;
  private lastPrune = -Infinity;
  /** offender key → [its block count, evidence stored during that block] */
  private readonly storedWhileBlocked = new Map<string, [number, number]>();
  private readonly lookups = new Set<Promise<void>>();

  constructor(private readonly options: EngineOptions) {
    boundHeapGrowth();
    this.correlator = new AttemptCorrelator<Item, PolicyEvent | null>(
      (event, disposition, resolvedBy) => this.step(event, disposition, resolvedBy),
      (scored) => {
        if (scored !== null) forgiveAttack(options.state, options.policy, scored);
      },
      (item, by) => policyEvent(resolved(item, by), undefined),
      options.correlator ?? DEFAULT_CORRELATOR,
    );
  }

  handle(item: Item): void {
    this.stats.events += item.parsed.count;
    if (item.time > this.newest) this.newest = item.time;
    this.newestAt = this.options.now();
    if (item.time - this.lastExpire >= EXPIRE_EVERY_MS) {
      this.lastExpire = item.time;
      this.correlator.expire(item.time);
    }
    for (let i = 0; i < item.parsed.count; i++) this.correlator.push(item);
    if (item.time - this.lastPrune >= PRUNE_EVERY_MS) {
      if (this.lastPrune !== -Infinity) this.pruneAt(item.time);
      this.lastPrune = item.time;
    }
  }

  /**
   * The wall clock of a live process: on a quiet server, held lines are released, offenders pruned and blocks
   * expired without waiting for the next log line. Times never go back: a tick behind the last line's time
   * does nothing that line has not done.
   */
  tick(now: number): void {
    // the lines' own time moves on with the wall clock only from the newest line: a backlog read now is timed
    // by its own lines, so an attempt is not cut in two by a tick between its lines
    const clock = this.newest === -Infinity ? now : Math.min(now, this.newest + Math.max(0, now - this.newestAt));
    if (clock - this.lastExpire >= EXPIRE_EVERY_MS) {
      this.lastExpire = clock;
      this.correlator.expire(clock);
    }
    if (clock - this.lastPrune >= PRUNE_EVERY_MS) {
      this.pruneAt(clock);
      this.lastPrune = clock;
    }
    // blocks end in wall-clock time (the kernel's): once a second, not at each prune of a backlog's lines
    this.options.evidence.expire(now);
  }

  private pruneAt(time: number): void {
    const removed = prune(this.options.state, this.options.policy, time);
    this.options.evidence.offendersForgotten(removed);
    for (const key of removed) this.storedWhileBlocked.delete(key);
  }

  /** Waits for the host-name lookups under way (their attacks are scored when they answer). */
  async settle(): Promise<void> {
    while (this.lookups.size > 0) await Promise.all(this.lookups);
  }

  /** The lines correlation holds now, not counted yet (what a restart must read again). */
  waiting(): Item[] {
    return this.correlator.waiting();
  }

  /** End of input: held lines are scored, and everything is written. */
  finish(): void {
    this.correlator.flush();
  }

  private step(event: Item, disposition: Disposition, resolvedBy: Item | undefined): void {
    const item = resolved(event, resolvedBy);
    const resolver = this.options.resolver;
    if (resolver && item.hostname && item.address !== '' && disposition === 'score') {
      const lookup = resolver.resolve(item.address).then((hosts) => {
        this.lookups.delete(lookup);
        if (hosts.length === 0) this.apply(item, disposition);
        for (const host of hosts) this.apply(withAddress(item, host), disposition);
      });
      this.lookups.add(lookup);
      return;
    }
    this.apply(item, disposition);
  }

  private apply(item: Item, disposition: Disposition): void {
    const { parsed } = item;
    if (parsed.event === 'connect') return;
    if (parsed.addr === '') {
      this.stats.unattributed++; // its session's address was never seen (the log began after it)
      return;
    }
    const log = this.options.evidence;
    const read = { line: item.line, source: item.source, lineNo: item.lineNo };
    const ref = log.reference(read);
    let outcome: string = disposition;
    let key: string | null = null;
    if (disposition === 'joined') this.stats.joined++;
    else if (disposition === 'forgiven') this.stats.forgiven++;
    else {
      const e = policyEvent(item, ref);
      if (e === null) {
        outcome = 'unresolved-hostname';
        this.stats.hostnames++;
      } else {
        const result = applyEvent(this.options.state, this.options.policy, e, this.options.now());
        outcome = result.outcome;
        key = result.key;
        this.count(outcome);
        // an attack while blocked changes only counters: not worth rewriting the offender's row for each
        const o = outcome === 'already-blocked' ? undefined : this.options.state.offenders.get(result.key);
        if (o !== undefined) log.offenderChanged(o);
        if (result.block) {
          this.stats.blocks++;
          const b = result.block;
          const lines = log.linesOf(b.evidence, ref, read);
          b.evidence = lines.map((l) => l.line);
          b.evidenceSources = lines.map((l) => (l.source === '' ? null : { source: l.source, lineNo: l.lineNo }));
          log.blockDecided(b, b.evidence as string[]);
          this.options.onBlock(b, item);
        }
      }
    }
    if (!log.keepsRows) return;
    key ??= parsed.kind === null ? parsed.addr : networkText(keyOf(parsed.addr, parsed.kind, this.options.policy));
    if (outcome === 'already-blocked' && !this.storeWhileBlocked(key)) return;
    log.record({
      id: ref as number,
      offender: key,
      time: item.time,
      source: item.source,
      lineNo: item.lineNo,
      event: parsed.event,
      rule: parsed.rule,
      service: parsed.service,
      danger: parsed.danger,
      addr: parsed.addr,
      outcome,
      line: item.line,
    });
  }

  private storeWhileBlocked(key: string): boolean {
    const blocks = this.options.state.offenders.get(key)?.blocks ?? 0;
    const seen = this.storedWhileBlocked.get(key);
    if (seen === undefined || seen[0] !== blocks) {
      this.storedWhileBlocked.set(key, [blocks, 1]);
      return true;
    }
    return ++seen[1] <= EVIDENCE_WHILE_BLOCKED;
  }

  private count(outcome: string): void {
    const s = this.stats;
    if (outcome === 'scored' || outcome === 'blocked') s.scored++;
    else if (outcome === 'whitelisted') s.whitelisted++;
    else if (outcome === 'trusted') s.trusted++;
    else if (outcome === 'already-blocked') s.alreadyBlocked++;
    else s.logins++;
  }
}

function policyEvent(item: Item, evidence: Evidence | undefined): PolicyEvent | null {
  const p = item.parsed;
  if (p.kind === null || p.event === 'connect') return null;
  return {
    event: p.event,
    time: item.time,
    addr: p.addr,
    kind: p.kind,
    danger: p.danger,
    service: p.service,
    rule: p.rule,
    user: p.user,
    evidence,
  };
}
