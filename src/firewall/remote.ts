/**
 * The unprivileged side of --user: the Firewall surface the applier and the daemon use, each call a request
 * to the privileged firewall process (privileged.ts) over one channel. Batching and `nft -i` happen there.
 * When the channel ends without our `close`, the firewall process is gone: every pending and later call fails,
 * and whenLost's callback runs once, so that the daemon stops loudly instead of scoring without blocking.
 */
import type { Duplex } from 'node:stream';
import { LineSplitter } from '../input/lines.js';
import type { Logger } from '../log/logger.js';
import type { Network } from '../policy/network.js';
import type { Backend, FirewallOptions, KernelState, Operation } from './backend.js';
import { type Answer, decodeState, encodeRequest, MAX_ANSWER_CHARS, MAX_OPS, type Request, type ServerEvent, type WireState } from './protocol.js';
import type { FirewallPort } from './surface.js';

/** A request without its id (ids are numbered here), for each kind of request */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Body = WithoutId<Request>;

export class RemoteFirewall implements FirewallPort {
  /** What the kernel took, as the firewall process last counted it */
  readonly sent = { batches: 0, operations: 0 };
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (state: WireState | undefined) => void; reject: (error: Error) => void }>();
  private lostWhy: string | null = null;
  private closed = false;
  private lostCallbacks: ((why: string) => void)[] = [];
  private eventCallback: ((event: ServerEvent['event'], why: string) => void) | null = null;
  private readonly splitter = new LineSplitter((line) => this.answer(line), MAX_ANSWER_CHARS);

  /** `backend` is the pure backend the firewall process renders with: its name and limits, nothing is run here. */
  constructor(
    private readonly channel: Duplex,
    readonly backend: Backend,
    readonly options: FirewallOptions,
    private readonly log: Logger,
  ) {
    backend.validate(options);
    channel.on('data', (chunk: Buffer) => {
      const before = this.splitter.stats.overlong;
      this.splitter.write(chunk);
      if (this.splitter.stats.overlong > before) this.lose('the firewall process sent an answer longer than the protocol allows');
    });
    channel.on('end', () => this.lose('the firewall process closed the channel'));
    channel.on('close', () => this.lose('the firewall process closed the channel'));
    channel.on('error', (error) => this.lose(`the channel to the firewall process failed: ${error.message}`));
  }

  /** Runs `callback` once the firewall process is gone (at once if it already is). */
  whenLost(callback: (why: string) => void): void {
    if (this.lostWhy !== null) callback(this.lostWhy);
    else this.lostCallbacks.push(callback);
  }

  /** Runs `callback` for each signal the firewall process passes on: stop (SIGTERM, SIGINT) or reload (SIGHUP). */
  onEvent(callback: (event: ServerEvent['event'], why: string) => void): void {
    this.eventCallback = callback;
  }

  private lose(why: string): void {
    if (this.closed || this.lostWhy !== null) return;
    this.lostWhy = why;
    for (const { reject } of this.pending.values()) reject(new Error(why));
    this.pending.clear();
    for (const callback of this.lostCallbacks.splice(0)) callback(why);
  }

  private answer(line: string): void {
    if (line === '') return;
    let parsed: Answer | ServerEvent;
    try {
      parsed = JSON.parse(line) as Answer | ServerEvent;
    } catch {
      this.lose(`the firewall process sent a line that is not JSON: ${line.slice(0, 80)}`);
      return;
    }
    if ('event' in parsed) {
      if (parsed.event === 'stop' || parsed.event === 'reload') this.eventCallback?.(parsed.event, String(parsed.why));
      return;
    }
    const message = parsed;
    const waiting = message.id === null ? undefined : this.pending.get(message.id);
    if (waiting === undefined) {
      // an error with no id answers a line the server could not read: ours are always well-formed
      this.log.error({}, `firewall process: unexpected answer ${line.slice(0, 200)}`);
      return;
    }
    this.pending.delete(message.id!);
    if (message.ok && message.sent && Number.isSafeInteger(message.sent.batches) && Number.isSafeInteger(message.sent.operations)) {
      this.sent.batches = message.sent.batches;
      this.sent.operations = message.sent.operations;
    }
    if (message.ok) waiting.resolve(message.state);
    else waiting.reject(new Error(`firewall process: ${message.error}`));
  }

  private request(body: Body): Promise<WireState | undefined> {
    if (this.lostWhy !== null) return Promise.reject(new Error(this.lostWhy));
    if (this.closed) return Promise.reject(new Error('the channel to the firewall process is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.channel.write(`${encodeRequest({ ...body, id } as Request)}\n`);
    });
  }

  /** The firewall process keeps its own `nft -i` open: it is long-lived by construction. */
  keepSessionOpen(): void {}

  async setup(allow: Network[]): Promise<void> {
    await this.request({ op: 'setup', allow });
  }

  async apply(ops: Operation[], current?: KernelState): Promise<void> {
    // the firewall process lists the kernel itself when the caller had (it does not take our state)
    for (let i = 0; i < ops.length; i += MAX_OPS) {
      await this.request({ op: 'apply', ops: ops.slice(i, i + MAX_OPS), reconcile: current !== undefined });
    }
  }

  async submit(op: Operation): Promise<void> {
    await this.request(op.op === 'block' ? { op: 'block', entry: op.entry } : { op: 'unblock', net: op.net });
  }

  async state(): Promise<KernelState> {
    const wire = await this.request({ op: 'state' });
    if (wire === undefined) throw new Error('the firewall process answered a state request without a state');
    return decodeState(wire);
  }

  async teardown(): Promise<void> {
    await this.request({ op: 'teardown' });
  }

  /** Says goodbye (the firewall process then exits with the daemon's code) and ends the channel. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.lostWhy !== null) {
      this.channel.destroy();
      return;
    }
    this.channel.write(`${encodeRequest({ id: this.nextId++, op: 'close' })}\n`);
    this.channel.end();
    for (const { reject } of this.pending.values()) reject(new Error('the channel to the firewall process is closed'));
    this.pending.clear();
  }
}
