// Loading the operator's rules: local files beside the bundled ones, disabled rules, danger overrides.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ruleSetFromArgs } from '../../src/config/rules.js';
import { Parser } from '../../src/parse/parser.js';
import { loadRules, loadRuleSet, matcherOf } from '../../src/parse/rules.js';

const bundled = loadRules();
const FAILED = 'May  1 10:00:00 web sshd[9]: Failed password for root from 203.0.113.5 port 22 ssh2';
const LOCAL_LINE = 'May  1 10:00:00 web myapp[3]: bad token from 198.51.100.4';

function localDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'logwarden-rules-'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(data));
  return dir;
}

const myapp = {
  service: 900,
  name: 'My app',
  programs: ['myapp'],
  rules: [
    {
      id: 'myapp-bad-token',
      description: 'A bad API token',
      startsWith: 'bad token ',
      pattern: '^bad token from %ADDR%$',
      danger: 5,
      origin: 'logwarden',
      examples: { match: [{ line: LOCAL_LINE, addr: '198.51.100.4' }], ignore: [] },
    },
  ],
};

/** A local ssh-failed-password that only counts root, in the place of the bundled one */
const stricter = {
  service: 100,
  name: 'OpenSSH (local)',
  programs: ['sshd'],
  rules: [
    {
      id: 'ssh-failed-password',
      description: 'Failed password for root only',
      startsWith: 'Failed password for root ',
      pattern: '^Failed password for root from %ADDR% port %PORT% ssh2$',
      danger: 7,
      origin: 'logwarden',
      examples: { match: [{ line: FAILED, addr: '203.0.113.5' }], ignore: [] },
    },
  ],
};

describe('loadRuleSet', () => {
  it('without options is exactly the bundled rules', () => {
    const set = loadRuleSet();
    expect(set.rules.map((r) => r.id)).toEqual(bundled.map((r) => r.id));
    expect(set.disabled).toEqual([]);
    expect(set.notes.size).toBe(0);
  });

  it('adds local rules after the bundled ones (the bundled ones still match)', () => {
    const set = loadRuleSet({ localDir: localDir({ 'myapp.json': myapp }) });
    expect(set.rules.length).toBe(bundled.length + 1);
    expect(set.rules.at(-1)!.id).toBe('myapp-bad-token');
    expect(set.notes.get('myapp-bad-token')).toEqual({ local: true, replaces: null, danger: null });
    const parser = new Parser(set.rules);
    expect(parser.parse(LOCAL_LINE)).toMatchObject({ rule: 'myapp-bad-token', addr: '198.51.100.4', danger: 5, service: 900 });
    expect(parser.parse(FAILED)).toMatchObject({ rule: 'ssh-failed-password', danger: 10 });
  });

  it('a local rule with a bundled id replaces it, in its place', () => {
    const set = loadRuleSet({ localDir: localDir({ 'ssh-local.json': stricter }) });
    const at = bundled.findIndex((r) => r.id === 'ssh-failed-password');
    expect(set.rules.length).toBe(bundled.length);
    expect(set.rules[at].description).toBe('Failed password for root only');
    expect(set.notes.get('ssh-failed-password')!.replaces).toMatch(/rules\/ssh\.json$/);
    const parser = new Parser(set.rules);
    expect(parser.parse(FAILED)).toMatchObject({ rule: 'ssh-failed-password', danger: 7 });
    expect(parser.parse(FAILED.replace('root', 'alice'))?.rule).not.toBe('ssh-failed-password');
  });

  it('refuses a local folder without rule files, or a missing one, naming it', () => {
    const empty = localDir({});
    expect(() => loadRuleSet({ localDir: empty })).toThrow(`${empty}: no rule files`);
    expect(() => loadRuleSet({ localDir: '/nonexistent/rules' })).toThrow(/\/nonexistent\/rules: cannot read the rules folder/);
  });

  it('a broken local file is an error naming the file and the rule', () => {
    const dir = localDir({ 'bad.json': { ...myapp, rules: [{ ...myapp.rules[0], pattern: 'no address here' }] } });
    expect(() => loadRuleSet({ localDir: dir })).toThrow(/bad\.json: rules\[0\] \(myapp-bad-token\)\.pattern: must capture the address/);
  });

  it('disables rules; an unknown id is an error naming it and where it was given', () => {
    const set = loadRuleSet({ disable: [{ value: 'ssh-failed-password', origin: '--disable-rule' }] });
    expect(set.rules.some((r) => r.id === 'ssh-failed-password')).toBe(false);
    expect(set.disabled.map((r) => r.id)).toEqual(['ssh-failed-password']);
    expect(new Parser(set.rules).parse(FAILED)?.rule).not.toBe('ssh-failed-password');
    expect(() => loadRuleSet({ disable: [{ value: 'ssh-failed-pasword', origin: 'conf:3: disable-rule' }] })).toThrow(
      'conf:3: disable-rule: no rule "ssh-failed-pasword" to disable',
    );
  });

  it('overrides the danger of one rule, or of every attack rule of a service (a rule\'s own value wins)', () => {
    const set = loadRuleSet({
      danger: [
        { value: 'ssh-failed-password=3', origin: '--danger' },
        { value: 'ssh=2', origin: 'conf:4: danger' },
      ],
    });
    const byId = new Map(set.rules.map((r) => [r.id, r]));
    expect(byId.get('ssh-failed-password')!.danger).toBe(3);
    expect(byId.get('ssh-invalid-user')!.danger).toBe(2);
    expect(byId.get('ssh-login')!.danger).toBe(0); // logins have no danger
    expect(set.notes.get('ssh-invalid-user')!.danger).toEqual({ was: 10, origin: 'conf:4: danger' });
    expect(new Parser(set.rules).parse(FAILED)).toMatchObject({ danger: 3 });
    // by code and by name, too
    for (const key of ['100', 'OpenSSH', 'openssh']) {
      const r = loadRuleSet({ danger: [{ value: `${key}=1`, origin: '--danger' }] }).rules.find((x) => x.id === 'ssh-invalid-user')!;
      expect(r.danger).toBe(1);
    }
    // the bundled rules are not changed for others
    expect(loadRuleSet().rules.find((r) => r.id === 'ssh-invalid-user')!.danger).toBe(10);
  });

  it('refuses a danger override that names nothing, or is malformed, or names a login rule', () => {
    expect(() => loadRuleSet({ danger: [{ value: 'nosuch=3', origin: '--danger' }] })).toThrow(/--danger: "nosuch" is neither a rule id nor a service/);
    expect(() => loadRuleSet({ danger: [{ value: 'ssh-invalid-user=-1', origin: '--danger' }] })).toThrow(/--danger: expected RULE_ID=N or SERVICE=N/);
    expect(() => loadRuleSet({ danger: [{ value: 'ssh', origin: '--danger' }] })).toThrow(/expected RULE_ID=N/);
    expect(() => loadRuleSet({ danger: [{ value: 'ssh-login=5', origin: '--danger' }] })).toThrow(/ssh-login recognises login lines, which have no danger/);
  });
});

describe('ruleSetFromArgs', () => {
  it('reads the options as commands get them, with their origins in errors', () => {
    const set = ruleSetFromArgs({
      'rules-dir': localDir({ 'myapp.json': myapp }),
      'disable-rule': ['ssh-invalid-user'],
      danger: ['myapp-bad-token=20'],
      _origins: { danger: ['/etc/logwarden/logwarden.conf:7: danger'] },
    });
    expect(set.rules.find((r) => r.id === 'myapp-bad-token')!.danger).toBe(20);
    expect(set.disabled.map((r) => r.id)).toEqual(['ssh-invalid-user']);
    expect(() => ruleSetFromArgs({ danger: ['x=1'], _origins: { danger: ['/etc/l.conf:7: danger'] } })).toThrow(/^\/etc\/l\.conf:7: danger: "x" is neither/);
  });
});

describe('matcherOf', () => {
  it('numbers groups as the engine does: escaped and bracketed parentheses, (?: and lookarounds open none', () => {
    const m = matcherOf(/^a\((?<user>b)[(?<x>)\]](?:c)(?<=c)(?!z)(d)(?<addr>e{1,2})$/s);
    expect(m.plain.source).toBe('^a\\((b)[(?<x>)\\]](?:c)(?<=c)(?!z)(d)(e{1,2})$');
    expect(m.groups).toEqual({ addr: 3, user: 1, service: 0, session: 0 });
    const line = 'a(b]cdee';
    expect(m.plain.exec(line)![3]).toBe(m.regex.exec(line)!.groups!.addr);
    expect(m.sticky).toBeNull(); // a lookbehind would see the banner
    expect(matcherOf(/^x (?<addr>\S{1,9})$/s).sticky!.source).toBe('x (\\S{1,9})$');
  });
});
