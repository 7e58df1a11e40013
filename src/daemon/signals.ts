/**
 * One shutdown path for SIGTERM and SIGINT, with a deadline: the first signal stops cleanly, a second one (or
 * the deadline) forces the exit. SIGHUP asks for a reload.
 */
export interface SignalHandlers {
  stop: (why: string) => Promise<void>;
  reload: () => void;
  /** Called when the clean stop did not finish in time, or a second signal came */
  force: (why: string) => void;
  deadlineMs?: number;
}

export interface SignalControl {
  off: () => void;
  /** Starts the same clean stop a signal would (e.g. when every input has ended) */
  stop: (why: string) => void;
  /**
   * A signal that reached another process and was passed on as a message (with --user, the firewall process's):
   * the same signal may reach this process too (systemd signals the whole unit), so a message and a signal make
   * one request to stop, not two; a second one of the same kind forces the exit.
   */
  forwarded: (signal: string) => void;
}

export function onSignals(handlers: SignalHandlers): SignalControl {
  let stopping = false;
  // a stop begun from inside (end of input): any signal after it is the operator insisting
  let begunInside = false;
  const seen = { signal: 0, message: 0 };
  const begin = (why: string) => {
    stopping = true;
    const deadline = setTimeout(() => handlers.force(`not stopped within ${(handlers.deadlineMs ?? 5000) / 1000} s`), handlers.deadlineMs ?? 5000);
    deadline.unref();
    void handlers.stop(why).finally(() => clearTimeout(deadline));
  };
  const arrived = (how: keyof typeof seen, signal: string) => {
    seen[how]++;
    if (!stopping) begin(signal);
    else if (begunInside || seen[how] > 1) handlers.force(`second ${signal}`);
  };
  const stop = (signal: string) => arrived('signal', signal);
  const reload = () => handlers.reload();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', reload);
  return {
    off: () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.off('SIGHUP', reload);
    },
    stop: (why) => {
      if (stopping) return;
      begunInside = true;
      begin(why);
    },
    forwarded: (signal) => arrived('message', signal),
  };
}
