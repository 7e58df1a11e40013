/**
 * Attempt correlation, between the parser and the policy: one failed attempt is one attack, whatever number
 * of lines the daemon writes for it, and failures on a connection that then logs a successful login from the
 * same address are forgiven. The first line of an attempt waits for its last (a few ms later, or until the
 * connection ends or goes quiet for `holdMs`), so the attempt is counted once, by the line that ends it. A connection is identified by host, program and pid, for daemons that fork one
 * process per client (rules declare it, and what each line takes part in: src/parse/rules.ts).
 *
 * A line that names its client by host name only (pam_unix's `rhost=` under sshd's UseDNS), or not at all (a
 * daemon that names the address on a session's first line only, as OpenSMTPD does), is resolved by the
 * connection's own address-bearing lines: the attempt counts once, against the address.
 */
import type { CorrelationRole, EventType } from '../parse/rules.js';

/** What the correlator needs to know of an event (it passes the rest through untouched). */
export interface AttemptEvent {
  /** `connect` lines only tell the session's address: they are remembered, never emitted */
  event: EventType;
  /** From the rule's data: what the line takes part in (null: an attempt of its own) */
  correlation: CorrelationRole | null;
  /** The client as the line names it: a canonical address, a host name, or '' when only its session is named */
  address: string;
  /** True when `address` is not an address (a host name, or nothing) */
  hostname: boolean;
  /** ms */
  time: number;
  /** host|program|pid, or null when the line has no pid (then nothing is correlated) */
  connection: string | null;
}

export type Disposition =
  /** score it */
  | 'score'
  /** another line of an attempt already scored: keep as evidence only */
  | 'joined'
  /** part of a connection that then succeeded: keep as evidence only */
  | 'forgiven';

/**
 * What becomes of a line; resolvedBy, for a line naming a host name: the line of the same connection that gives
 * its address. Arguments rather than an object: one emit per line, on the parser's hot path.
 */
export type Emit<E> = (event: E, disposition: Disposition, resolvedBy: E | undefined) => void;

export interface CorrelatorOptions {
  /** How long held `Failed publickey` lines wait for their connection to end or succeed (ms) */
  holdMs: number;
  /** A connection with no line for this long is forgotten (ms): long enough to retype a password, and each
   * remembered connection costs memory on a server under a brute-force attack */
  idleMs: number;
}

export const DEFAULT_CORRELATOR: CorrelatorOptions = { holdMs: 5_000, idleMs: 30_000 };

const MAX_REMEMBERED = 32;
/** The empty list every connection starts with (most never hold or remember anything): never written to */
const NONE = Object.freeze([]) as unknown as never[];

interface Connection<E, K> {
  id: string;
  open: boolean;
  held: E[];
  /** The first line of the open attempt: joined by the line that ends it, scored if none does */
  pending: E | null;
  /** The latest line of the connection that names an address */
  addressed: E | null;
  /** What forgiveness needs of the failures already scored on this connection, with their address */
  scored: { address: string; kept: K }[];
  lastSeen: number;
  /** On the quiet list rather than the active one */
  quiet: boolean;
  /** Neighbours in the list it is on, in last-seen order */
  older: Connection<E, K> | null;
  newer: Connection<E, K> | null;
}

/**
 * Connections in last-seen order, linked through the connections themselves: a line moves its connection to the
 * newest end by relinking it, where a Map kept in that order would take a delete and an insert.
 */
class SeenOrder<C extends { older: C | null; newer: C | null }> {
  oldest: C | null = null;
  newest: C | null = null;

  append(c: C): void {
    c.older = this.newest;
    c.newer = null;
    if (this.newest === null) this.oldest = c;
    else this.newest.newer = c;
    this.newest = c;
  }

  remove(c: C): void {
    if (c.older === null) this.oldest = c.newer;
    else c.older.newer = c.newer;
    if (c.newer === null) this.newest = c.older;
    else c.newer.older = c.older;
    c.older = null;
    c.newer = null;
  }

  clear(): void {
    this.oldest = null;
    this.newest = null;
  }
}

/**
 * E is the event passed through; K what is remembered of a scored failure until its connection ends (kept
 * small: a busy server has many connections open at once).
 */
export class AttemptCorrelator<E extends AttemptEvent, K = E> {
  /** Every connection remembered, active or quiet */
  private readonly connections = new Map<string, Connection<E, K>>();
  private readonly active = new SeenOrder<Connection<E, K>>();
  /**
   * Connections quiet for longer than holdMs, their held lines released, kept until idleMs for forgiveness and
   * host-name resolution. Apart so that an expiry does not walk them again and again (a brute force from
   * thousands of addresses keeps tens of thousands of them)
   */
  private readonly quiet = new SeenOrder<Connection<E, K>>();

  constructor(
    private readonly emit: Emit<E>,
    /** Called with failures already scored whose connection then succeeded; null: nothing is remembered */
    private readonly forgive: ((scored: K) => void) | null,
    private readonly remember: (event: E, resolvedBy: E | undefined) => K = (event) => event as unknown as K,
    private readonly options: CorrelatorOptions = DEFAULT_CORRELATOR,
  ) {}

  push(e: E): void {
    if (e.connection === null) {
      this.emit(e, 'score', undefined);
      return;
    }
    // lines of one connection come in runs, and ConnectionNames gives a run one key string: no lookup for most
    const newest = this.active.newest;
    let c = newest !== null && newest.id === e.connection ? newest : this.connections.get(e.connection);
    if (c === undefined) {
      c = {
        id: e.connection,
        open: false,
        held: NONE,
        pending: null,
        addressed: null,
        scored: NONE,
        lastSeen: e.time,
        quiet: false,
        older: null,
        newer: null,
      };
      this.connections.set(e.connection, c);
      this.active.append(c);
    } else if (c.quiet) {
      this.quiet.remove(c);
      c.quiet = false;
      this.active.append(c);
    } else if (c !== newest) {
      this.active.remove(c);
      this.active.append(c);
    }
    c.lastSeen = Math.max(c.lastSeen, e.time);

    if (e.event === 'connect') {
      if (!e.hostname) c.addressed = e;
      return;
    }
    const via = this.via(c, e);
    if (!e.hostname) c.addressed = e;
    this.handle(c, e, via);
    if (e.correlation === 'closes') {
      this.connections.delete(e.connection);
      this.active.remove(c);
    }
  }

  private handle(c: Connection<E, K>, e: E, via: E | undefined): void {
    if (e.event === 'login') {
      // only failures from the address that logged in are forgiven: a pid is reused, an address is not
      const held = c.pending === null ? c.held : [c.pending, ...c.held];
      c.pending = null;
      c.held = NONE;
      for (const h of held) {
        if (this.addressOf(c, h) === e.address) this.emit(h, 'forgiven', this.via(c, h));
        else this.score(c, h, this.via(c, h));
      }
      for (const s of c.scored) if (s.address === e.address) this.forgive!(s.kept);
      c.scored = NONE;
      c.open = false;
      this.emit(e, 'score', via);
      return;
    }
    switch (e.correlation) {
      case 'held':
        if (c.held === NONE) c.held = [];
        c.held.push(e);
        if (c.held.length > MAX_REMEMBERED) this.score(c, c.held.shift()!);
        return;
      case 'opens':
        if (c.open) this.emit(e, 'joined', via);
        else {
          c.open = true;
          c.pending = e;
        }
        return;
      case 'ends':
        if (c.open) {
          c.open = false;
          const first = c.pending;
          c.pending = null;
          if (first !== null) {
            // the attempt is counted once: by the line that ends it, or by its first if only that names an address
            if (e.hostname && !first.hostname) {
              this.emit(e, 'joined', first);
              this.score(c, first);
              return;
            }
            this.emit(first, 'joined', first.hostname && !e.hostname ? e : this.via(c, first));
            this.score(c, e, via);
          } else {
            this.emit(e, 'joined', via);
          }
        } else {
          this.score(c, e, via);
        }
        return;
      case 'closes':
        this.releaseHeld(c);
        c.open = false;
        this.score(c, e, via);
        return;
      default:
        this.score(c, e, via);
    }
  }

  /** The line of the connection that gives a host-name line its address, if any. */
  private via(c: Connection<E, K>, e: E): E | undefined {
    return e.hostname && c.addressed !== null ? c.addressed : undefined;
  }

  private addressOf(c: Connection<E, K>, e: E): string {
    return this.via(c, e)?.address ?? e.address;
  }

  /** Releases what has waited long enough by `now` (ms) and forgets idle connections. */
  expire(now: number): void {
    // both lists are in last-seen order: the first connection too recent ends each walk
    for (let c = this.active.oldest; c !== null; c = this.active.oldest) {
      if (c.lastSeen > now - this.options.holdMs) break;
      this.releaseHeld(c);
      this.active.remove(c);
      if (c.lastSeen > now - this.options.idleMs) {
        c.quiet = true;
        this.quiet.append(c);
      } else {
        this.connections.delete(c.id);
      }
    }
    for (let c = this.quiet.oldest; c !== null; c = this.quiet.oldest) {
      if (c.lastSeen > now - this.options.idleMs) break;
      this.quiet.remove(c);
      this.connections.delete(c.id);
    }
  }

  /** The lines not counted yet (attempts' first lines waiting for their end, held lines), oldest first. */
  waiting(): E[] {
    const out: E[] = [];
    for (let c = this.active.oldest; c !== null; c = c.newer) {
      if (c.pending !== null) out.push(c.pending);
      for (const e of c.held) out.push(e);
    }
    return out;
  }

  /** End of input: every held line is scored. */
  flush(): void {
    for (let c = this.active.oldest; c !== null; c = c.newer) this.releaseHeld(c);
    this.connections.clear();
    this.active.clear();
    this.quiet.clear();
  }

  get size(): number {
    return this.connections.size;
  }

  private releaseHeld(c: Connection<E, K>): void {
    this.releasePending(c);
    if (c.held.length === 0) return;
    const held = c.held;
    c.held = NONE;
    for (const e of held) this.score(c, e);
  }

  /** An attempt whose last line never came: counted by its first. */
  private releasePending(c: Connection<E, K>): void {
    if (c.pending === null) return;
    const first = c.pending;
    c.pending = null;
    c.open = false;
    this.score(c, first, this.via(c, first));
  }

  private score(c: Connection<E, K>, e: E, via?: E): void {
    if (this.forgive !== null) {
      if (c.scored === NONE) c.scored = [];
      c.scored.push({ address: via?.address ?? e.address, kept: this.remember(e, via) });
      if (c.scored.length > MAX_REMEMBERED) c.scored.shift();
    }
    this.emit(e, 'score', via);
  }
}
