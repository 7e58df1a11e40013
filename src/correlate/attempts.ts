/**
 * Attempt correlation, between the parser and the policy: one failed attempt is one attack, whatever number
 * of lines sshd writes for it, and failures on a connection that then logs a successful login are forgiven.
 * A connection is identified by host, program and pid (OpenSSH writes one pid per connection).
 */

import type { CorrelationRole } from '../parse/rules.js';

/** What the correlator needs to know of an event (it passes the rest through untouched). */
export interface AttemptEvent {
  event: 'attack' | 'login';
  /** From the rule's data: what the line takes part in (null: an attempt of its own) */
  correlation: CorrelationRole | null;
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

interface Connection<E, K> {
  open: boolean;
  held: E[];
  /** What forgiveness needs of the failures already scored on this connection */
  scored: K[];
  lastSeen: number;
}

/**
 * E is the event passed through; K what is remembered of a scored failure until its connection ends (kept
 * small: a busy server has many connections open at once).
 */
export class AttemptCorrelator<E extends AttemptEvent, K = E> {
  private readonly connections = new Map<string, Connection<E, K>>();

  constructor(
    private readonly emit: (step: Step<E>) => void,
    /** Called with failures already scored whose connection then succeeded */
    private readonly forgive: (scored: K) => void,
    private readonly remember: (event: E) => K = (event) => event as unknown as K,
    private readonly options: CorrelatorOptions = DEFAULT_CORRELATOR,
  ) {}

  push(e: E): void {
    if (e.connection === null) {
      this.emit({ event: e, disposition: 'score' });
      return;
    }
    let c = this.connections.get(e.connection);
    if (c === undefined) {
      c = { open: false, held: [], scored: [], lastSeen: e.time };
    } else {
      this.connections.delete(e.connection); // re-insert: the map stays in least-recently-seen order
    }
    c.lastSeen = Math.max(c.lastSeen, e.time);
    this.connections.set(e.connection, c);

    if (e.event === 'login') {
      for (const held of c.held) this.emit({ event: held, disposition: 'forgiven' });
      for (const scored of c.scored) this.forgive(scored);
      c.held = [];
      c.scored = [];
      c.open = false;
      this.emit({ event: e, disposition: 'score' });
      return;
    }
    if (e.correlation === 'held') {
      c.held.push(e);
      if (c.held.length > MAX_REMEMBERED) this.score(c, c.held.shift()!);
      return;
    }
    if (e.correlation === 'opens') {
      if (c.open) this.emit({ event: e, disposition: 'joined' });
      else {
        c.open = true;
        this.score(c, e);
      }
      return;
    }
    if (e.correlation === 'ends') {
      if (c.open) {
        c.open = false;
        this.emit({ event: e, disposition: 'joined' });
      } else {
        this.score(c, e);
      }
      return;
    }
    if (e.correlation === 'closes') {
      this.releaseHeld(c);
      c.open = false;
      this.score(c, e);
      this.connections.delete(e.connection);
      return;
    }
    this.score(c, e);
  }

  /** Releases what has waited long enough by `now` (ms) and forgets idle connections. */
  expire(now: number): void {
    for (const [id, c] of this.connections) {
      if (c.lastSeen > now - this.options.holdMs) break; // the map is in last-seen order: the rest are newer
      this.releaseHeld(c);
      if (c.lastSeen <= now - this.options.idleMs) this.connections.delete(id);
    }
  }

  /** End of input: every held line is scored. */
  flush(): void {
    for (const c of this.connections.values()) this.releaseHeld(c);
    this.connections.clear();
  }

  get size(): number {
    return this.connections.size;
  }

  private releaseHeld(c: Connection<E, K>): void {
    if (c.held.length === 0) return;
    const held = c.held;
    c.held = [];
    for (const e of held) this.score(c, e);
  }

  private score(c: Connection<E, K>, e: E): void {
    c.scored.push(this.remember(e));
    if (c.scored.length > MAX_REMEMBERED) c.scored.shift();
    this.emit({ event: e, disposition: 'score' });
  }
}
