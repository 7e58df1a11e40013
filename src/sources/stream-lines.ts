/**
 * The lines of a stream that has no position to resume from (standard input, a LOGREADER command's output):
 * cut per chunk and handed over in one batch per chunk.
 */
import { LineSplitter } from '../input/lines.js';
import type { SourceLine } from './source.js';

export class StreamLines {
  private batch: SourceLine[] = [];
  private readonly splitter: LineSplitter;

  constructor(
    private readonly source: string,
    private readonly onLines: (lines: SourceLine[]) => void,
  ) {
    this.splitter = new LineSplitter((text, lineNo) => {
      this.batch.push({ text, source: this.source, lineNo, position: null, journal: null, readAt: Date.now() });
    });
  }

  write(chunk: Buffer): void {
    this.splitter.write(chunk);
    this.flush();
  }

  /** The end of the stream: its last line may have no newline. */
  end(): void {
    this.splitter.end();
    this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const lines = this.batch;
    this.batch = [];
    this.onLines(lines);
  }
}
