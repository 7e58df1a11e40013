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
}

export function onSignals(handlers: SignalHandlers): SignalControl {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      handlers.force(`second ${signal}`);
      return;
    }
    stopping = true;
    const deadline = setTimeout(() => handlers.force(`not stopped within ${(handlers.deadlineMs ?? 5000) / 1000} s`), handlers.deadlineMs ?? 5000);
    deadline.unref();
    void handlers.stop(signal).finally(() => clearTimeout(deadline));
  };
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
      if (!stopping) stop(why);
    },
  };
}
