/**
 * The privileged side of --user: serves protocol.ts requests from one channel, running them with the real
 * Firewall (pure backends, the executor). Nothing else of logwarden runs here. A malformed or refused request is
 * answered with an error and never executed; an overlong line is skipped whole and answered the same way.
 */
import type { Readable, Writable } from 'node:stream';
import { LineSplitter } from '../input/lines.js';
import type { Logger } from '../log/logger.js';
import { type Network, NetworkSet } from '../policy/network.js';
import type { Answer, Request, ServerEvent, WireState } from './protocol.js';
import { encodeState, MAX_REQUEST_CHARS, parseRequest } from './protocol.js';
import type { FirewallPort } from './surface.js';

/** Refusals logged one by one; after these, every 1000th (a compromised client must not flood the log) */
const LOGGED_REFUSALS = 10;

export interface ServerOptions {
  firewall: FirewallPort;
  /** No block may cover these: the whitelist and the owner's addresses, read by the root side */
  protect: Network[];
  log: Logger;
}

export class FirewallServer {
  readonly counts = { requests: 0, refused: 0, failed: 0 };
  /** 'closed': the client asked to close; 'lost': its channel ended (or failed) without asking */
  readonly done: Promise<'closed' | 'lost'>;
  private finish!: (how: 'closed' | 'lost') => void;
  private finished = false;
  private protect = new NetworkSet();
  private readonly splitter = new LineSplitter((line) => this.line(line), MAX_REQUEST_CHARS);

  constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly options: ServerOptions,
  ) {
    this.protectOnly(options.protect);
    this.done = new Promise((resolve) => {
      this.finish = (how) => {
        if (this.finished) return;
        this.finished = true;
        resolve(how);
      };
    });
    input.on('data', (chunk: Buffer) => {
      const before = this.splitter.stats.overlong;
      this.splitter.write(chunk);
      for (let i = before; i < this.splitter.stats.overlong; i++) this.refuse(null, `request longer than ${MAX_REQUEST_CHARS} characters: refused`);
    });
    input.on('end', () => this.finish('lost'));
    input.on('close', () => this.finish('lost'));
    input.on('error', () => this.finish('lost'));
    output.on('error', () => this.finish('lost'));
  }

  /** Replaces the protected networks (the whitelist was reloaded); requests read from now on are checked against them. */
  protectOnly(networks: Network[]): void {
    const set = new NetworkSet();
    for (const net of networks) set.add(net);
    this.protect = set;
  }

  /** Passes a signal on: `stop` (the client's stop path then ends with `close`) or `reload`. */
  tell(event: ServerEvent['event'], why: string): void {
    this.send({ event, why });
  }

  private line(text: string): void {
    if (text === '' || this.finished) return;
    this.counts.requests++;
    const parsed = parseRequest(text, this.protect);
    if (!parsed.ok) {
      this.refuse(parsed.id, parsed.error);
      return;
    }
    const { request } = parsed;
    if (request.op === 'close') {
      this.finish('closed'); // not answered: the client has ended the channel
      return;
    }
    this.execute(request).then(
      (state) => {
        const sent = { ...this.options.firewall.sent };
        this.send(state === undefined ? { id: request.id, ok: true, sent } : { id: request.id, ok: true, state, sent });
      },
      (error: Error) => {
        this.counts.failed++;
        this.send({ id: request.id, ok: false, error: error.message });
      },
    );
  }

  private refuse(id: number | null, error: string): void {
    this.counts.refused++;
    const n = this.counts.refused;
    if (n <= LOGGED_REFUSALS || n % 1000 === 0) this.options.log.warn({ refused: n }, `firewall process: request refused (${n} so far): ${error}`);
    this.send({ id, ok: false, error });
  }

  private async execute(request: Request): Promise<WireState | undefined> {
    const { firewall } = this.options;
    switch (request.op) {
      case 'setup':
        return void (await firewall.setup(request.allow));
      case 'block':
        return void (await firewall.submit({ op: 'block', entry: request.entry }));
      case 'unblock':
        return void (await firewall.submit({ op: 'unblock', net: request.net }));
      case 'apply':
        // the kernel's state is listed here, never taken from the client
        return void (await firewall.apply(request.ops, request.reconcile ? await firewall.state() : undefined));
      case 'state':
        return encodeState(await firewall.state());
      case 'teardown':
        return void (await firewall.teardown());
      case 'close':
        throw new Error('close is handled before execution');
    }
  }

  private send(message: Answer | ServerEvent): void {
    if (this.output.writableEnded || this.output.destroyed) return;
    this.output.write(`${JSON.stringify(message)}\n`);
  }
}
