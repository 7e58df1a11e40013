/**
 * One long-lived `nft -i` process fed through its stdin: a block reaches the kernel in about a millisecond,
 * where starting `nft` costs 15-30 ms. nft -i answers errors on stderr and goes on, so after each batch a
 * harmless `describe` marks the end of its answer: an error seen before the marker belongs to the batch.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Invocation } from './backend.js';
import { type ExecuteOptions, FirewallError } from './executor.js';

const MARKER_COMMAND = 'describe tcp dport';
const MARKER_OUTPUT = 'datatype inet_service';

export class NftSession {
  private child: ChildProcess | null = null;
  private stdout = '';
  private stderr = '';
  private waiting: (() => void) | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly exec: ExecuteOptions = {},
    private readonly timeoutMs = 2000,
  ) {}

  private start(): ChildProcess {
    const [command, ...args] = [...(this.exec.prefix ?? []), 'nft', '-i'];
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: this.exec.env ?? process.env });
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      this.stdout += d;
      if (this.stdout.includes(MARKER_OUTPUT)) this.waiting?.();
    });
    child.stderr!.on('data', (d: string) => {
      this.stderr += d;
    });
    child.stdin!.on('error', () => {}); // reported through 'exit'
    child.on('exit', () => {
      if (this.child === child) this.child = null;
      this.waiting?.();
    });
    child.on('error', () => {
      if (this.child === child) this.child = null;
      this.waiting?.();
    });
    return child;
  }

  /** Runs the lines (each one nft transaction); rejects with nft's error text if any line failed. */
  run(lines: string[]): Promise<void> {
    const next = this.queue.then(() => this.runNow(lines));
    this.queue = next.catch(() => {});
    return next;
  }

  private async runNow(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    if (this.child === null) this.child = this.start();
    const child = this.child;
    this.stdout = '';
    this.stderr = '';
    const invocation: Invocation = { argv: ['nft', '-i'], stdin: `${lines.join('\n')}\n` };
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.timeoutMs);
      this.waiting = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    child.stdin!.write(`${lines.join('\n')}\n${MARKER_COMMAND}\n`);
    const answered = await done;
    this.waiting = null;
    // stderr and stdout are separate pipes: let an error written just before the marker arrive
    await new Promise((r) => setImmediate(r));
    if (!answered || this.child !== child) {
      this.close();
      throw new FirewallError(invocation, null, this.stderr || 'nft -i did not answer');
    }
    if (this.stderr.trim() !== '') throw new FirewallError(invocation, null, this.stderr);
  }

  close(): void {
    const child = this.child;
    this.child = null;
    if (child) {
      child.stdin!.end();
      child.kill();
    }
  }
}
