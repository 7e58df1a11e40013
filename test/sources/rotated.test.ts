import { describe, expect, it } from 'vitest';
import { MAX_ROTATED_BYTES, MAX_ROTATED_FILES, newerThan, type Rotated, rotatedName } from '../../src/sources/rotated.js';

describe('rotatedName', () => {
  it('knows logrotate numbering, dateext forms and compressed forms', () => {
    expect(rotatedName('auth.log', 'auth.log.1')).toEqual({ compressed: false, order: { kind: 'number', n: 1 } });
    expect(rotatedName('auth.log', 'auth.log.12.gz')).toEqual({ compressed: true, order: { kind: 'number', n: 12 } });
    expect(rotatedName('auth.log', 'auth.log-20261201')).toEqual({ compressed: false, order: { kind: 'date', stamp: '20261201' } });
    expect(rotatedName('auth.log', 'auth.log-2026-12-01')).toEqual({ compressed: false, order: { kind: 'date', stamp: '20261201' } });
    expect(rotatedName('auth.log', 'auth.log-20261201-23')).toEqual({ compressed: false, order: { kind: 'date', stamp: '2026120123' } });
    expect(rotatedName('auth.log', 'auth.log-2026120123.zst')).toEqual({ compressed: true, order: { kind: 'date', stamp: '2026120123' } });
    expect(rotatedName('auth.log', 'auth.log-20261201-1796176160.xz')?.compressed).toBe(true);
  });

  it("knows the forms of logrotate's extension directive: the suffix before the extension", () => {
    expect(rotatedName('app.log', 'app.1.log')).toEqual({ compressed: false, order: { kind: 'number', n: 1 } });
    expect(rotatedName('app.log', 'app.3.log.gz')).toEqual({ compressed: true, order: { kind: 'number', n: 3 } });
    expect(rotatedName('app.log', 'app-20261201.log')).toEqual({ compressed: false, order: { kind: 'date', stamp: '20261201' } });
    expect(rotatedName('app.log', 'app-2026-12-01.log.gz')).toEqual({ compressed: true, order: { kind: 'date', stamp: '20261201' } });
    expect(rotatedName('access.json', 'access.2.json')).toEqual({ compressed: false, order: { kind: 'number', n: 2 } });
  });

  it('is not fooled by other files of the folder', () => {
    for (const name of ['auth.log', 'auth.log.bak', 'auth.log.old', 'auth.log.1.swp', 'auth.log-x', 'auth.logs.1', 'xauth.log.1', 'auth.log.gz', 'auth.log-2026',
      'auth.x.log', 'auth.log.log', 'auth-2026.log', 'auth.1.txt', 'auth.1.log.swp', 'auth.log.1.log', 'xauth.1.log', 'auth..log']) {
      expect(rotatedName('auth.log', name), name).toBeNull();
    }
    // a name without an extension has only the one form
    expect(rotatedName('syslog', 'syslog.1')).not.toBeNull();
    expect(rotatedName('messages', 'messages-20261201')).not.toBeNull();
    expect(rotatedName('syslog', 'sys.1log')).toBeNull();
  });
});

let ino = 100;
function file(name: string, mtimeNs: bigint, size = 100, birthtimeNs = 0n): Rotated {
  return { path: `/var/log/${name}`, name, dev: 1, ino: ino++, size, mtimeNs, birthtimeNs, ...rotatedName('auth.log', name)! };
}

describe('newerThan', () => {
  it('keeps the files written after the stored one, oldest first; older ones and the excluded inode are left', () => {
    const stored = file('auth.log.3', 1000n);
    const stale = file('auth.log.7', 10n);
    const older = file('auth.log.4', 999n);
    const b = file('auth.log.2', 2000n);
    const c = file('auth.log.1', 3000n);
    const atPath = file('auth.log.0', 4000n);
    const newer = newerThan([c, stale, b, older, stored, atPath], stored, [atPath]);
    expect(newer.read.map((f) => f.name)).toEqual(['auth.log.2', 'auth.log.1']);
    expect(newer.compressed).toEqual([]);
    expect(newer.beyondBounds).toEqual([]);
  });

  it('a compressed file is newer by its name only, and goes among the plain ones by name; .gz files are read', async () => {
    // delaycompress: the rotation that made .1 (the stored file) made .2.gz after .1's last line
    const stored = file('auth.log.1', 1000n);
    expect(newerThan([file('auth.log.2.gz', 2000n), file('auth.log.3.xz', 2000n)], stored, [])).toEqual({ read: [], compressed: [], beyondBounds: [] });
    // rotated again: the stored file is .4 now; .3.gz and .2.gz came after it, then .1 (plain), whatever their times
    const four = file('auth.log.4', 1000n);
    const three = file('auth.log.3.gz', 5000n);
    const two = file('auth.log.2.gz', 4000n);
    const one = file('auth.log.1', 3000n);
    const older = file('auth.log.5.gz', 6000n);
    expect(newerThan([one, older, two, three], four, []).read.map((f) => f.name)).toEqual(['auth.log.3.gz', 'auth.log.2.gz', 'auth.log.1']);
    // other compressions are listed, not read
    expect(newerThan([file('auth.log.2.xz', 0n)], four, []).compressed.map((f) => f.name)).toEqual(['auth.log.2.xz']);
    // a name of another form says nothing about a compressed file: not read
    expect(newerThan([file('auth.log-20261201.gz', 9000n)], four, []).read).toEqual([]);
    // dated names
    const d1 = file('auth.log-20261201', 1000n);
    const d2 = file('auth.log-20261202.gz', 500n);
    const d3 = file('auth.log-20261203', 3000n);
    expect(newerThan([d3, d2], d1, []).read.map((f) => f.name)).toEqual(['auth.log-20261202.gz', 'auth.log-20261203']);
  });

  it('a compressed file whose plain original is still there is being compressed: the original is read', async () => {
    const stored = file('auth.log.3.gz', 5000n);
    const plain = file('auth.log.2', 3000n);
    const partial = file('auth.log.2.gz', 6000n, 10);
    expect(newerThan([partial, plain], stored, [], 'name').read.map((f) => f.name)).toEqual(['auth.log.2']);
  });

  it('.gz files count in the bounds, by their compressed size (their text is bounded while read)', async () => {
    const stored = file('auth.log.9', 0n);
    const gz = file('auth.log.3.gz', 10n, 1000);
    const plain = file('auth.log.2', 20n, 1000);
    const newest = file('auth.log.1', 30n, 1000);
    const bounded = newerThan([gz, plain, newest], stored, [], 'time', 2500);
    expect(bounded.read.map((f) => f.name)).toEqual(['auth.log.2', 'auth.log.1']);
    expect(bounded.beyondBounds.map((f) => f.name)).toEqual(['auth.log.3.gz']);
    const many = Array.from({ length: MAX_ROTATED_FILES + 2 }, (_, i) => file(`auth.log.${MAX_ROTATED_FILES + 2 - i}.gz`, 10n));
    expect(newerThan(many, file('auth.log.99', 0n), []).read).toHaveLength(MAX_ROTATED_FILES);
  });

  it('breaks a tie of modification times by birth, then by the rotated name', () => {
    const stored = file('auth.log.2', 1000n);
    const sameTimeOlderName = file('auth.log.3', 1000n);
    const sameTimeNewerName = file('auth.log.1', 1000n);
    expect(newerThan([sameTimeOlderName, sameTimeNewerName], stored, []).read.map((f) => f.name)).toEqual(['auth.log.1']);
    const bornBefore = file('auth.log.1', 1000n, 100, 5n);
    const storedBorn = { ...stored, birthtimeNs: 6n };
    expect(newerThan([bornBefore], storedBorn, []).read).toEqual([]);
    const d1 = file('auth.log-20261201', 1000n);
    const d2 = file('auth.log-20261202', 1000n);
    expect(newerThan([d2], d1, []).read.map((f) => f.name)).toEqual(['auth.log-20261202']);
    expect(newerThan([d1], d2, []).read).toEqual([]);
  });

  it("by name (after a compressed file, whose time is its compression's): .1 after .2.gz, whatever the times", () => {
    const gz = file('auth.log.2.gz', 5000n);
    const one = file('auth.log.1', 4000n);
    const seven = file('auth.log.7', 6000n);
    const dated = file('auth.log-20261201', 7000n);
    const newer = newerThan([seven, one, dated], gz, [], 'name');
    expect(newer.read.map((f) => f.name)).toEqual(['auth.log.1']);
  });

  it('a hard link to a file counts once', () => {
    const stored = file('auth.log.3', 1000n);
    const b = file('auth.log.2', 2000n);
    const link = { ...b, name: 'auth.log-20261202', path: '/var/log/auth.log-20261202', ...rotatedName('auth.log', 'auth.log-20261202')! };
    expect(newerThan([b, link], stored, []).read).toHaveLength(1);
  });

  it('reads at most MAX_ROTATED_FILES files and MAX_ROTATED_BYTES bytes, the newest ones', () => {
    const stored = file('auth.log.99', 0n);
    const many = Array.from({ length: MAX_ROTATED_FILES + 3 }, (_, i) => file(`auth.log.${MAX_ROTATED_FILES + 3 - i}`, BigInt(10 + i)));
    const byCount = newerThan(many, stored, []);
    expect(byCount.read).toHaveLength(MAX_ROTATED_FILES);
    expect(byCount.beyondBounds.map((f) => f.name)).toEqual(many.slice(0, 3).map((f) => f.name));
    expect(byCount.read.at(-1)!.name).toBe('auth.log.1');
    const big = [file('auth.log.3', 10n, MAX_ROTATED_BYTES / 2), file('auth.log.2', 20n, MAX_ROTATED_BYTES / 2), file('auth.log.1', 30n, 1)];
    const byBytes = newerThan(big, stored, []);
    expect(byBytes.read.map((f) => f.name)).toEqual(['auth.log.2', 'auth.log.1']);
    expect(byBytes.beyondBounds.map((f) => f.name)).toEqual(['auth.log.3']);
  });
});
