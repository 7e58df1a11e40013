/** Reads standard input (or any byte stream) line by line until it ends; there is no position to resume from. */
import type { Readable } from 'node:stream';
import { StreamLines } from './stream-lines.js';
import type { Logger } from '../log/logger.js';
import type { Source, SourceLine, SourceStatus } from './source.js';

export interface StdinSourceOptions {
  log: Logger;
  /** Default: process.stdin */
  input?: Readable;
}

export class StdinSource implements Source {
  readonly name = 'stdin';
  private readonly input: Readable;
  private readonly log: Logger;
  private state: SourceStatus['state'] = 'waiting';
  private lines = 0;
  private errors = 0;
  private lastError: string | null = null;
  private lastLineAt: number | null = null;
  private ended: Promise<void> = Promise.resolve();
  private onData: ((chunk: Buffer | string) => void) | null = null;

  constructor(options: StdinSourceOptions) {
    this.input = options.input ?? process.stdin;
    this.log = options.log;
  }

  async start(onLines: (lines: SourceLine[]) => void): Promise<void> {
    const stream = new StreamLines(this.name, (lines) => {
      this.lines += lines.length;
      this.lastLineAt = Date.now();
      onLines(lines);
    });
    this.state = 'reading';
    this.ended = new Promise<void>((resolve) => {
      this.onData = (chunk: Buffer | string) => {
        stream.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      };
      this.input.on('data', this.onData);
      this.input.once('end', () => {
        stream.end();
        this.state = 'stopped';
        this.log.info({ source: this.name, lines: this.lines }, 'standard input ended');
        resolve();
      });
      this.input.once('error', (error) => {
        this.errors++;
        this.lastError = error.message;
        this.state = 'failed';
        this.log.error({ source: this.name, error: error.message }, 'cannot read standard input');
        resolve();
      });
    });
  }

  /** Stops reading; standard input is left open for whoever else owns it. */
  async stop(): Promise<void> {
    if (this.state !== 'reading') return;
    if (this.onData) this.input.off('data', this.onData);
    this.input.pause();
    this.state = 'stopped';
  }

  /** Resolves when the input has ended (or failed): for one-shot runs that read until EOF. */
  done(): Promise<void> {
    return this.ended;
  }

  status(): SourceStatus {
    return {
      name: this.name,
      kind: 'stdin',
      state: this.state,
      lines: this.lines,
      errors: this.errors,
      lastError: this.lastError,
      lastLineAt: this.lastLineAt,
      lagBytes: null,
    };
  }
}
