import { describe, expect, it } from 'vitest';
import { AttemptCorrelator, type AttemptEvent, type Disposition } from '../../src/correlate/attempts.js';
import type { CorrelationRole } from '../../src/parse/rules.js';

interface E extends AttemptEvent {
  id: string;
}

/** The roles rules/ssh.json gives these rules */
const ROLES: Record<string, CorrelationRole> = {
  'ssh-invalid-user': 'opens',
  'ssh-pam-unix-failure': 'opens',
  'ssh-failed-password': 'ends',
  'ssh-failed-publickey': 'held',
  'ssh-connection-closed-preauth': 'closes',
};

function harness() {
  const steps: [string, Disposition][] = [];
  const resolvedBy = new Map<string, string>();
  const forgiven: string[] = [];
  const c = new AttemptCorrelator<E>(
    (event, disposition, by) => {
      steps.push([event.id, disposition]);
      if (by) resolvedBy.set(event.id, by.id);
    },
    (e) => forgiven.push(e.id),
    undefined,
    { holdMs: 5000, idleMs: 120_000 },
  );
  const push = (id: string, rule: string, time: number, connection: string | null = 'h|sshd|1', address = '203.0.113.5') =>
    c.push({
      id,
      correlation: ROLES[rule] ?? null,
      time,
      connection,
      address,
      hostname: !/^[\d.:a-f]+$/.test(address),
      event: rule === 'ssh-login' ? 'login' : 'attack',
    });
  return { c, steps, forgiven, push, resolvedBy };
}

describe('attempt correlation', () => {
  it('joins pam_unix failure and the Failed password that follows into one attempt', () => {
    const { steps, push } = harness();
    push('pam', 'ssh-pam-unix-failure', 0);
    push('failed', 'ssh-failed-password', 1);
    push('pam2', 'ssh-pam-unix-failure', 2);
    push('failed2', 'ssh-failed-password', 3);
    // counted once, by the line that ends the attempt
    expect(steps).toEqual([['pam', 'joined'], ['failed', 'score'], ['pam2', 'joined'], ['failed2', 'score']]);
  });

  it('joins Invalid user, its pam failure and its Failed line', () => {
    const { steps, push } = harness();
    push('invalid', 'ssh-invalid-user', 0);
    push('pam', 'ssh-pam-unix-failure', 0);
    push('failed', 'ssh-failed-password', 2);
    push('failed2', 'ssh-failed-password', 4); // a second attempt on the same connection without PAM
    expect(steps).toEqual([['pam', 'joined'], ['invalid', 'joined'], ['failed', 'score'], ['failed2', 'score']]);
  });

  it('keeps connections apart', () => {
    const { steps, push } = harness();
    push('pam-a', 'ssh-pam-unix-failure', 0, 'h|sshd|1');
    push('failed-b', 'ssh-failed-password', 1, 'h|sshd|2');
    push('failed-a', 'ssh-failed-password', 1, 'h|sshd|1');
    expect(steps).toEqual([['failed-b', 'score'], ['pam-a', 'joined'], ['failed-a', 'score']]);
  });

  it('forgives wrong keys offered before the right one', () => {
    const { steps, push } = harness();
    push('k1', 'ssh-failed-publickey', 0);
    push('k2', 'ssh-failed-publickey', 0);
    push('k3', 'ssh-failed-publickey', 0);
    push('ok', 'ssh-login', 1);
    expect(steps).toEqual([['k1', 'forgiven'], ['k2', 'forgiven'], ['k3', 'forgiven'], ['ok', 'score']]);
  });

  it('scores held keys when the connection closes without success', () => {
    const { steps, push } = harness();
    push('k1', 'ssh-failed-publickey', 0);
    push('close', 'ssh-connection-closed-preauth', 1);
    expect(steps).toEqual([['k1', 'score'], ['close', 'score']]);
  });

  it('scores held keys after a few seconds with no line from their connection', () => {
    const { c, steps, push } = harness();
    push('k1', 'ssh-failed-publickey', 0);
    c.expire(4000);
    expect(steps).toEqual([]);
    c.expire(5000);
    expect(steps).toEqual([['k1', 'score']]);
  });

  it('scores held keys at the end of input', () => {
    const { c, steps, push } = harness();
    push('k1', 'ssh-failed-publickey', 0);
    c.flush();
    expect(steps).toEqual([['k1', 'score']]);
  });

  it('takes back failures already scored when the same connection then succeeds', () => {
    const { steps, forgiven, push } = harness();
    push('typo', 'ssh-failed-password', 0);
    push('ok', 'ssh-login', 5);
    expect(steps).toEqual([['typo', 'score'], ['ok', 'score']]);
    expect(forgiven).toEqual(['typo']);
  });

  it('passes lines without a connection straight through', () => {
    const { steps, push } = harness();
    push('a', 'ssh-failed-publickey', 0, null);
    push('b', 'ssh-failed-password', 0, null);
    expect(steps).toEqual([['a', 'score'], ['b', 'score']]);
  });

  it('forgets idle connections', () => {
    const { c, push } = harness();
    push('a', 'ssh-failed-password', 0);
    c.expire(200_000);
    expect(c.size).toBe(0);
  });

  it('counts an attempt named by host name (pam_unix under UseDNS) once, against the address of its twin', () => {
    const { steps, push, resolvedBy } = harness();
    push('pam', 'ssh-pam-unix-failure', 0, 'h|sshd|1', 'scanner.example.net');
    push('failed', 'ssh-failed-password', 1, 'h|sshd|1', '203.0.113.5');
    expect(steps).toEqual([['pam', 'joined'], ['failed', 'score']]);
    expect(resolvedBy.get('pam')).toBe('failed');
  });

  it('resolves a later host-name line by the address its connection already gave', () => {
    const { c, steps, push, resolvedBy } = harness();
    push('invalid', 'ssh-invalid-user', 0, 'h|sshd|1', '203.0.113.5');
    push('pam', 'ssh-pam-unix-failure', 0, 'h|sshd|1', 'scanner.example.net');
    push('failed', 'ssh-failed-password', 1, 'h|sshd|1', '203.0.113.5');
    push('pam2', 'ssh-pam-unix-failure', 2, 'h|sshd|1', 'scanner.example.net');
    c.flush();
    expect(steps).toEqual([['pam', 'joined'], ['invalid', 'joined'], ['failed', 'score'], ['pam2', 'score']]);
    expect(resolvedBy.get('pam')).toBe('invalid');
    expect(resolvedBy.get('pam2')).toBe('failed');
  });

  it('scores a host-name attempt as it is when its connection never names an address', () => {
    const { c, steps, push } = harness();
    push('pam', 'ssh-pam-unix-failure', 0, 'h|sshd|1', 'scanner.example.net');
    expect(steps).toEqual([]);
    c.expire(10_000);
    expect(steps).toEqual([['pam', 'score']]);
  });

  it('forgives only failures from the address that logged in', () => {
    const { steps, forgiven, push } = harness();
    push('k-other', 'ssh-failed-publickey', 0, 'h|sshd|1', '198.51.100.9');
    push('typo-other', 'ssh-failed-password', 0, 'h|sshd|1', '198.51.100.9');
    push('ok', 'ssh-login', 1, 'h|sshd|1', '203.0.113.5');
    expect(steps).toEqual([['typo-other', 'score'], ['k-other', 'score'], ['ok', 'score']]);
    expect(forgiven).toEqual([]);
  });

  it('counts an attempt whose last line never comes by its first, once the connection is quiet', () => {
    const { c, steps, push } = harness();
    push('invalid', 'ssh-invalid-user', 0);
    c.expire(4000);
    expect(steps).toEqual([]);
    c.expire(5000);
    expect(steps).toEqual([['invalid', 'score']]);
  });

  it('forgives the first line of an attempt when the connection then logs in (a typo, then the password)', () => {
    const { steps, forgiven, push } = harness();
    push('pam', 'ssh-pam-unix-failure', 0);
    push('ok', 'ssh-login', 1);
    expect(steps).toEqual([['pam', 'forgiven'], ['ok', 'score']]);
    expect(forgiven).toEqual([]);
  });
});
