import { statSync } from 'node:fs';

/** A one-line progress display on stderr, only when it is a terminal and the input is large. */
export class Progress {
  private readonly total: number;
  private readonly active: boolean;
  private last = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    files: string[],
    minimumBytes = 20 * 1024 * 1024,
  ) {
    let total = 0;
    for (const file of files) {
      try {
        if (file !== '-') total += statSync(file).size;
      } catch {
        // unreadable files are reported by the reader
      }
    }
    this.total = total;
    this.active = Boolean(stream.isTTY) && total >= minimumBytes;
  }

  update(bytes: number, lines: number): void {
    if (!this.active) return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const percent = Math.min(100, Math.floor((100 * bytes) / this.total));
    this.stream.write(`\r\x1b[Kreading: ${percent}% (${(bytes / 1e6).toFixed(0)} MB, ${lines} lines)`);
  }

  done(): void {
    if (this.active) this.stream.write('\r\x1b[K');
  }
}
