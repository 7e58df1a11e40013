// One shutdown path: the first request stops cleanly, a second of the same kind forces the exit. With --user the
// same SIGTERM may come twice, once as a signal and once passed on by the firewall process, in either order.
import { afterEach, describe, expect, it } from 'vitest';
import { onSignals, type SignalControl } from '../../src/daemon/signals.js';

let control: SignalControl | null = null;
afterEach(() => {
  control?.off();
  control = null;
});

function setUp() {
  const calls: string[] = [];
  control = onSignals({ stop: async (why) => void calls.push(`stop ${why}`), reload: () => calls.push('reload'), force: (why) => calls.push(`force ${why}`), deadlineMs: 60_000 });
  // ours is the last listener: calling it is what the signal would do, without signalling the test runner
  const signal = (name: 'SIGTERM' | 'SIGINT' | 'SIGHUP') => (process.listeners(name).at(-1) as (s: string) => void)(name);
  return { calls, signal, control };
}

describe('onSignals', () => {
  it('stops on the first SIGTERM and forces the exit on a second', () => {
    const { calls, signal } = setUp();
    signal('SIGTERM');
    signal('SIGTERM');
    expect(calls).toEqual(['stop SIGTERM', 'force second SIGTERM']);
  });

  it('a signal and the same signal passed on as a message are one request, in either order', () => {
    const first = setUp();
    first.control.forwarded('SIGTERM');
    first.signal('SIGTERM');
    expect(first.calls).toEqual(['stop SIGTERM']);
    first.control.off();
    const second = setUp();
    second.signal('SIGTERM');
    second.control.forwarded('SIGTERM');
    expect(second.calls).toEqual(['stop SIGTERM']);
  });

  it('a second message forces the exit, as a second signal does', () => {
    const { calls, control } = setUp();
    control.forwarded('SIGTERM');
    control.forwarded('SIGINT');
    expect(calls).toEqual(['stop SIGTERM', 'force second SIGINT']);
  });

  it('after a stop begun from inside (the end of input), any signal forces the exit', () => {
    const { calls, control, signal } = setUp();
    control.stop('end of standard input');
    control.stop('end of standard input');
    signal('SIGINT');
    expect(calls).toEqual(['stop end of standard input', 'force second SIGINT']);
  });

  it('SIGHUP reloads and does not stop', () => {
    const { calls, signal } = setUp();
    signal('SIGHUP');
    expect(calls).toEqual(['reload']);
  });
});
