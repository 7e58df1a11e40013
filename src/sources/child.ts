/**
 * One run of a reader process (journalctl, a LOGREADER): stdout chunks to the caller, stderr as lines, and one
 * `onEnd` call however it ends (exit, signal, or a spawn failure such as a missing binary).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { LineSplitter } from '../input/lines.js';

export interface ChildHandlers {
  stdout(chunk: Buffer): void;
  stderrLine(text: string): void;
  /** After stdout has been fully delivered */
  end(how: { code: number | null; signal: NodeJS.Signals | null; error: Error | null }): void;
}

export interface RunningChild {
  readonly process: ChildProcess;
  /** Resolves once `end` has been called */
  readonly ended: Promise<void>;
}

/** `ownGroup`: the child leads its own process group, so everything a shell command started can be stopped with it */
export function runChild(file: string, args: string[], handlers: ChildHandlers, ownGroup = false): RunningChild {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: ownGroup });
  const stderr = new LineSplitter((text) => {
    if (text.length > 0) handlers.stderrLine(text);
  });
  let spawnError: Error | null = null;
  let done = false;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
  const finish = (code: number | null, signal: NodeJS.Signals | null) => {
    if (done) return;
    done = true;
    stderr.end();
    handlers.end({ code, signal, error: spawnError });
    resolveEnded();
  };
  child.stdout!.on('data', (chunk: Buffer) => handlers.stdout(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.write(chunk));
  child.on('error', (error) => {
    spawnError = error;
    // A process that never started emits no 'close' on every Node version: end it here.
    if (child.pid === undefined) finish(null, null);
  });
  child.on('close', (code, signal) => finish(code, signal));
  return { process: child, ended };
}
