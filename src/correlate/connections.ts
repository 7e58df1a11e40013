/**
 * Which connection a parsed line belongs to, as the key the attempt correlator keeps it under: host|program|session,
 * or host|program|pid of a daemon that forks one process per connection.
 */
import type { ParsedEvent } from '../parse/parser.js';

export function connectionOf(e: ParsedEvent): string | null {
  const b = e.banner;
  if (b.tag === null) return null;
  if (e.session !== null) return `${b.host ?? ''}|${b.tag}|s${e.session}`;
  if (b.pid === null || !e.connectionPerPid) return null;
  return `${b.host ?? ''}|${b.tag}|${b.pid}`;
}

/**
 * connectionOf for a stream of lines: a line whose host, program and pid read as the previous one's gets the very
 * same key string. A daemon writes its connection's lines in runs (over half of the events of the benchmark corpus
 * follow one of their own connection), and the correlator's map then finds a key it has hashed already instead
 * of a new concatenation to flatten and hash.
 */
export class ConnectionNames {
  private key: string | null = null;
  private host = '';
  private tag = '';
  private pid = '';

  of(e: ParsedEvent): string | null {
    const b = e.banner;
    if (e.session !== null || b.hostStart < 0 || b.pidStart < 0 || !e.connectionPerPid || b.tag === null) return connectionOf(e);
    const { line, hostStart, hostEnd, pidStart, pidEnd } = b;
    if (
      this.key !== null &&
      b.tag === this.tag &&
      hostEnd - hostStart === this.host.length &&
      pidEnd - pidStart === this.pid.length &&
      line.startsWith(this.pid, pidStart) &&
      line.startsWith(this.host, hostStart)
    ) {
      return this.key;
    }
    this.host = line.slice(hostStart, hostEnd);
    this.pid = line.slice(pidStart, pidEnd);
    this.tag = b.tag;
    this.key = `${this.host}|${this.tag}|${this.pid}`;
    return this.key;
  }
}
