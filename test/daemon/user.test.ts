import { describe, expect, it } from 'vitest';
import { cannotSwitch } from '../../src/daemon/user.js';

const status = (uid: number, capEff: string) => `Name:\tnode\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t0\t0\t0\t0\nCapEff:\t${capEff}\n`;
const nobody = { name: 'nobody', uid: 65534, gid: 65534 };

describe('--user: whether this process can switch to the user', () => {
  it('can as root, or with CAP_SETUID and CAP_SETGID', () => {
    expect(cannotSwitch(nobody, status(0, '000001ffffffffff'))).toBeNull();
    expect(cannotSwitch(nobody, status(1000, '00000000000010c0'))).toBeNull(); // setgid, setuid, net_admin
  });

  it('cannot without them, and says what to do', () => {
    expect(cannotSwitch(nobody, status(1000, '0000000000001000'))).toBe('switching to nobody needs CAP_SETUID and CAP_SETGID; logwarden runs as uid 1000 without them');
    // root, but its bounding set kept CAP_SETGID only
    expect(cannotSwitch(nobody, status(0, '0000000000001040'))).toMatch(/^switching to nobody needs CAP_SETUID and CAP_SETGID; logwarden runs as root without them \(a capability bounding set/);
  });

  it('refuses to "separate" when it already is that user', () => {
    expect(cannotSwitch(nobody, status(65534, '0000000000003000'))).toMatch(/^logwarden already runs as nobody \(uid 65534\): start it as root/);
  });
});
