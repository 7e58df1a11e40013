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

export interface Step<E> {
  event: E;
  disposition: Disposition;
  /** For a line naming a host name: the line of the same connection that gives its address */
  resolvedBy?: E;
}

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
  open: boolean;
  held: E[];
  /** The first line of the open attempt: joined by the line that ends it, scored if none does */
  pending: E | null;
  /** The latest line of the connection that names an address */
  addressed: E | null;
  /** What forgiveness needs of the failures already scored on this connection, with their address */
  scored: { address: string; kept: K }[];
  lastSeen: number;
}

/**
 * E is the event passed through; K what is remembered of a scored failure until its connection ends (kept
 * small: a busy server has many connections open at once).
 */
export class AttemptCorrelator<E extends AttemptEvent, K = E> {
  private readonly connections = new Map<string, Connection<E, K>>();
  /**
   * Connections quiet for longer than holdMs, their held lines released, kept until idleMs for forgiveness and
   * host-name resolution, in last-seen order. Apart so that an expiry does not walk them again and again (a
   * brute force from thousands of addresses keeps tens of thousands of them)
   */
  private readonly quiet = new Map<string, Connection<E, K>>();
  /** The connection of the last line pushed: already the newest in the map */
  private latest: string | null = null;

  constructor(
    private readonly emit: (step: Step<E>) => void,
    /** Called with failures already scored whose connection then succeeded; null: nothing is remembered */
    private readonly forgive: ((scored: K) => void) | null,
    private readonly remember: (event: E, resolvedBy: E | undefined) => K = (event) => event as unknown as K,
    private readonly options: CorrelatorOptions = DEFAULT_CORRELATOR,
  ) {}

  push(e: E): void {
    if (e.connection === null) {
      this.emit({ event: e, disposition: 'score' });
      return;
    }
    let c = this.connections.get(e.connection);
    if (c === undefined) {
      c = this.quiet.get(e.connection);
      if (c === undefined) c = { open: false, held: NONE, pending: null, addressed: null, scored: NONE, lastSeen: e.time };
      else this.quiet.delete(e.connection);
      this.connections.set(e.connection, c);
    } else if (e.connection !== this.latest) {
      // re-insert: the map stays in least-recently-seen order (lines of one connection come in runs)
      this.connections.delete(e.connection);
      this.connections.set(e.connection, c);
    }
    this.latest = e.connection;
    c.lastSeen = Math.max(c.lastSeen, e.time);

    if (e.event === 'connect') {
      if (!e.hostname) c.addressed = e;
      return;
    }
    const via = this.via(c, e);
    if (!e.hostname) c.addressed = e;
    this.handle(c, e, via);
    if (e.correlation === 'closes') this.connections.delete(e.connection);
  }

  private handle(c: Connection<E, K>, e: E, via: E | undefined): void {
    if (e.event === 'login') {
      // only failures from the address that logged in are forgiven: a pid is reused, an address is not
      const held = c.pending === null ? c.held : [c.pending, ...c.held];
      c.pending = null;
      c.held = NONE;
      for (const h of held) {
        if (this.addressOf(c, h) === e.address) this.emit({ event: h, disposition: 'forgiven', resolvedBy: this.via(c, h) });
        else this.score(c, h, this.via(c, h));
      }
      for (const s of c.scored) if (s.address === e.address) this.forgive!(s.kept);
      c.scored = NONE;
      c.open = false;
      this.emit({ event: e, disposition: 'score', resolvedBy: via });
      return;
    }
    switch (e.correlation) {
      case 'held':
        if (c.held === NONE) c.held = [];
        c.held.push(e);
        if (c.held.length > MAX_REMEMBERED) this.score(c, c.held.shift()!);
        return;
      case 'opens':
        if (c.open) this.emit({ event: e, disposition: 'joined', resolvedBy: via });
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
              this.emit({ event: e, disposition: 'joined', resolvedBy: first });
              this.score(c, first);
              return;
            }
            this.emit({ event: first, disposition: 'joined', resolvedBy: first.hostname && !e.hostname ? e : this.via(c, first) });
            this.score(c, e, via);
          } else {
            this.emit({ event: e, disposition: 'joined', resolvedBy: via });
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
    // both maps are in last-seen order: the first connection too recent ends each walk
    for (const [id, c] of this.connections) {
      if (c.lastSeen > now - this.options.holdMs) break;
      this.releaseHeld(c);
      this.connections.delete(id);
      if (c.lastSeen > now - this.options.idleMs) this.quiet.set(id, c);
    }
    for (const [id, c] of this.quiet) {
      if (c.lastSeen > now - this.options.idleMs) break;
      this.quiet.delete(id);
    }
  }

  /** The lines not counted yet (attempts' first lines waiting for their end, held lines), oldest first. */
  waiting(): E[] {
    const out: E[] = [];
    for (const c of this.connections.values()) {
      if (c.pending !== null) out.push(c.pending);
      for (const e of c.held) out.push(e);
    }
    return out;
  }

  /** End of input: every held line is scored. */
  flush(): void {
    for (const c of this.connections.values()) this.releaseHeld(c);
    this.connections.clear();
    this.quiet.clear();
  }

  get size(): number {
    return this.connections.size + this.quiet.size;
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
    this.emit({ event: e, disposition: 'score', resolvedBy: via });
  }
}
