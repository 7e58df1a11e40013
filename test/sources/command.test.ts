import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandSource, journalReaderOf } from '../../src/sources/command.js';
import { collect, collectingLogger, tempDir, waitFor } from './helpers.js';

const FAST_BACKOFF = { initialMs: 50, maxMs: 200, healthyMs: 60_000 };

describe('CommandSource', () => {
  let tmp: ReturnType<typeof tempDir>;
  const sources: CommandSource[] = [];
  beforeEach(() => {
    tmp = tempDir('command');
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    tmp.remove();
  });

  it('reads the standard output of a shell command line', async () => {
    const source = new CommandSource({ command: "printf 'a\\nb\\n' && echo c | tr c C && sleep 30", log: collectingLogger(), backoff: FAST_BACKOFF });
    sources.push(source);
    const got = await collect(source);
    await waitFor(() => got.lines.length >= 3, '3 lines');
    expect(got.texts()).toEqual(['a', 'b', 'C']);
    expect(got.lines[0]).toMatchObject({ source: source.name, position: null, lineNo: 1, journal: null });
    expect(source.status()).toMatchObject({ kind: 'command', state: 'reading', lines: 3, errors: 0 });
  });

  it('logs stderr, logs each exit at error level and restarts the command with backoff', async () => {
    const counter = tmp.path('runs');
    const log = collectingLogger();
    const source = new CommandSource({ command: `echo run >> '${counter}'; echo line; echo oops >&2; exit 3`, log, backoff: FAST_BACKOFF });
    sources.push(source);
    const got = await collect(source);
    await waitFor(() => log.at('error').length >= 3, 'three exits');
    expect(got.texts().slice(0, 3)).toEqual(['line', 'line', 'line']);
    expect(log.at('error')[0]!.message).toContain('exited with code 3');
    expect(log.at('warn').filter((r) => r.fields.stderr === 'oops').length).toBeGreaterThanOrEqual(3);
    expect(source.status().errors).toBeGreaterThanOrEqual(6);
  });

  it('stops the whole command, pipeline included', async () => {
    const pidFile = tmp.path('pid');
    const source = new CommandSource({ command: `sh -c 'echo $$ > "${pidFile}"; exec sleep 30' | cat`, log: collectingLogger(), backoff: FAST_BACKOFF });
    await source.start(() => {});
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().length > 0, 'the pipeline started');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    await source.stop();
    const alive = () => {
      try {
        process.kill(pid, 0);
        return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
      } catch {
        return false;
      }
    };
    await waitFor(() => !alive(), 'the sleep in the pipeline to end');
    expect(source.status().state).toBe('stopped');
  });
});

describe('journalReaderOf', () => {
  it("recognises Debian's and sshguard's journalctl LOGREADERs, adding sshd-session where only sshd is named", () => {
    expect(journalReaderOf('LANG=C /bin/journalctl -afb -p info -n1 -t sshd -o cat')).toEqual({
      identifiers: ['sshd', 'sshd-session', 'sshd-auth'], priority: 'info', journalctl: '/bin/journalctl',
    });
    expect(journalReaderOf('journalctl -afb -p info -n1 -t sshd -t sshd-session -o cat')).toEqual({
      identifiers: ['sshd', 'sshd-session', 'sshd-auth'], priority: 'info', journalctl: 'journalctl',
    });
    expect(journalReaderOf('LANG=C /usr/bin/journalctl -afb -p info -n1 -u ssh.service -o cat')).toEqual({
      identifiers: [], units: ['ssh.service'], priority: 'info', journalctl: '/usr/bin/journalctl',
    });
    expect(journalReaderOf("journalctl --follow --lines=0 --identifier=dovecot -t 'postfix/smtpd' --output json")).toEqual({
      identifiers: ['dovecot', 'postfix/smtpd'], journalctl: 'journalctl',
    });
    expect(journalReaderOf('journalctl -f -n 10 -p 0..6 -tsshd -b0')).toEqual({
      identifiers: ['sshd', 'sshd-session', 'sshd-auth'], priority: '0..6', journalctl: 'journalctl',
    });
  });

  it('leaves to the shell what it cannot map safely', () => {
    for (const command of [
      'journalctl -afb -t sshd | grep -v CRON', // pipe
      'journalctl -afb -t sshd > /tmp/x', // redirection
      'journalctl -af -t $SERVICE', // expansion
      'journalctl -af -t "$SERVICE"',
      'journalctl -af -u ssh*', // glob
      'journalctl -af -t sshd; echo done', // several commands
      'journalctl -ab -t sshd -o cat', // no -f: prints and exits
      'journalctl -af -b -1 -t sshd', // another boot
      'journalctl -af --since today -t sshd', // start time of its own
      'journalctl -af -k', // kernel messages
      'journalctl -af -g Failed', // grep
      'journalctl -af _SYSTEMD_UNIT=ssh.service', // field match
      'journalctl -af --user -t sshd',
      'journalctl -af -D /var/log/journal -t sshd',
      'journalctl -af -p loud -t sshd', // not a priority
      'SYSTEMD_LOG_LEVEL=debug journalctl -af -t sshd', // environment that changes its behaviour
      'tail -F /var/log/auth.log',
      'sudo journalctl -af -t sshd',
      'bin/journalctl -af -t sshd', // relative path: what it runs depends on the folder
      "journalctl -af -t 'sshd", // unterminated quote
      '',
    ]) {
      expect(journalReaderOf(command), command).toBeNull();
    }
  });
});
