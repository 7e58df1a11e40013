import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBanner, TimeFormat } from '../../src/parse/banner.js';
import { bannerTime, isoTime } from '../../src/parse/time.js';

const MSG = 'Invalid user admin from 192.0.2.7 port 22';

describe('parseBanner', () => {
  it.each([
    ['BSD syslog', `May  1 10:00:00 web sshd[42]: ${MSG}`, { timeFormat: TimeFormat.Bsd, timeText: 'May  1 10:00:00', host: 'web', tag: 'sshd', pid: '42' }],
    ['BSD, two-digit day', `May 12 10:00:00 web sshd[42]: ${MSG}`, { timeText: 'May 12 10:00:00', host: 'web', tag: 'sshd' }],
    ['BSD, fractional seconds', `May  1 10:00:00.123456 web sshd[42]: ${MSG}`, { timeText: 'May  1 10:00:00.123456', tag: 'sshd' }],
    ['BSD, no pid', `May  1 10:00:00 web sshd: ${MSG}`, { host: 'web', tag: 'sshd', pid: null }],
    ['sshd-session tag', `May  1 10:00:00 web sshd-session[42]: ${MSG}`, { tag: 'sshd-session' }],
    ['tag with slashes', `May  1 10:00:00 mx postfix/submission/smtpd[7]: ${MSG}`, { tag: 'postfix/submission/smtpd' }],
    ['old pam tag', `May  1 10:00:00 web sshd(pam_unix)[42]: ${MSG}`, { tag: 'sshd(pam_unix)' }],
    ['priority prefix', `<38>May  1 10:00:00 web sshd[42]: ${MSG}`, { timeFormat: TimeFormat.Bsd, tag: 'sshd' }],
    ['FreeBSD -v facility', `May  1 10:00:00 <auth.info> web sshd[42]: ${MSG}`, { host: 'web', tag: 'sshd' }],
    ['Solaris message id', `May  1 10:00:00 web sshd[42]: [ID 800047 auth.info] ${MSG}`, { tag: 'sshd' }],
    ['ISO 8601', `2026-05-01T10:00:00.123456+02:00 web sshd[42]: ${MSG}`, { timeFormat: TimeFormat.Iso, timeText: '2026-05-01T10:00:00.123456+02:00', host: 'web' }],
    ['ISO 8601, zone without colon', `2026-05-01T10:00:00+0200 web sshd[42]: ${MSG}`, { timeText: '2026-05-01T10:00:00+0200', tag: 'sshd' }],
    ['ISO 8601, Z', `2026-05-01T10:00:00Z web sshd[42]: ${MSG}`, { timeText: '2026-05-01T10:00:00Z', tag: 'sshd' }],
    ['RFC 5424', `<38>1 2026-05-01T10:00:00.123Z web sshd 42 - - ${MSG}`, { timeFormat: TimeFormat.Iso, host: 'web', tag: 'sshd', pid: '42' }],
    ['RFC 5424 with structured data', `<38>1 2026-05-01T10:00:00Z web sshd 42 ID47 [x@1 a="b\\]c"][y@1] ${MSG}`, { tag: 'sshd' }],
    ['RFC 5424, nil fields', `<38>1 - - sshd - - - ${MSG}`, { timeFormat: TimeFormat.None, host: null, tag: 'sshd', pid: null }],
    ['metalog', `May  1 10:00:00 [sshd] ${MSG}`, { host: null, tag: 'sshd' }],
    ['metalog-style tag with a colon', `May  1 10:00:00 [sshd]: ${MSG}`, { host: null, tag: 'sshd', msg: MSG }],
    ['socklog', `2026-05-01_10:00:00.12345 auth.info: sshd[42]: ${MSG}`, { timeFormat: TimeFormat.Iso, host: null, tag: 'sshd' }],
    ['socklog, no time', `auth.info: sshd[42]: ${MSG}`, { timeFormat: TimeFormat.None, tag: 'sshd' }],
    ['TAI64N bare', `@400000005f5e100000000000 ${MSG}`, { timeFormat: TimeFormat.Tai64n, tag: null }],
    ['TAI64N with tag', `@400000005f5e100000000000 sshd[42]: ${MSG}`, { timeFormat: TimeFormat.Tai64n, tag: 'sshd' }],
    ['TAI64N with a tag without pid', `@400000005f5e100000000000 sshd: ${MSG}`, { timeFormat: TimeFormat.Tai64n, tag: 'sshd', guessed: true }],
    ['host and tag, no time', `web sshd[42]: ${MSG}`, { timeFormat: TimeFormat.None, host: 'web', tag: 'sshd', guessed: false }],
    ['tag, no host, no time', `sshd[42]: ${MSG}`, { host: null, tag: 'sshd' }],
    ['bare message', MSG, { timeFormat: TimeFormat.None, host: null, tag: null }],
    ['busybox syslogd facility.level', `May  1 10:00:00 router authpriv.info dropbear[42]: ${MSG}`, { timeFormat: TimeFormat.Bsd, host: 'router', tag: 'dropbear', pid: '42' }],
    ['busybox syslogd facility.level, ISO time', `2026-05-01T10:00:00+02:00 router auth.warn sshd[42]: ${MSG}`, { host: 'router', tag: 'sshd' }],
    ['router: host facility.level, no time', `router local7.notice sshd[42]: ${MSG}`, { timeFormat: TimeFormat.None, host: 'router', tag: 'sshd', guessed: false }],
    ['router: host facility.level, no time, no pid', `router auth.err sshd: ${MSG}`, { host: 'router', tag: 'sshd', pid: null }],
    ['socklog with the BSD time syslog(3) wrote', `2026-05-01_10:00:00.12345 auth.info: May  1 10:00:00 sshd[42]: ${MSG}`, { timeFormat: TimeFormat.Iso, timeText: '2026-05-01_10:00:00.12345', host: null, tag: 'sshd' }],
    ['socklog with a bracketed BSD time', `2026-05-01_10:00:00.12345 auth.info: [May  1 10:00:00] sshd[42]: ${MSG}`, { timeFormat: TimeFormat.Iso, tag: 'sshd', pid: '42' }],
    ['socklog, no time of its own, BSD time', `auth.info: May  1 10:00:00 sshd[42]: ${MSG}`, { timeFormat: TimeFormat.None, tag: 'sshd' }],
    ['RFC 5424 without PRI', `1 2026-05-01T10:00:00.123Z web sshd 42 - - ${MSG}`, { timeFormat: TimeFormat.Iso, timeText: '2026-05-01T10:00:00.123Z', host: 'web', tag: 'sshd', pid: '42' }],
    ['RFC 5424, `]` unescaped inside a quoted value', `<38>1 2026-05-01T10:00:00Z web sshd 42 - [a b="x]y"] ${MSG}`, { tag: 'sshd' }],
    ['RFC 5424, escapes and `]` in values of several elements', `<38>1 2026-05-01T10:00:00Z web sshd 42 - [a b="x\\"]y" c="\\\\"][e@1 f="]" g="[]"] ${MSG}`, { tag: 'sshd' }],
    ['RFC 5424, unterminated value: the first `]` ends the element', `<38>1 2026-05-01T10:00:00Z web sshd 42 - [a b="x] ${MSG}`, { tag: 'sshd' }],
  ])('%s', (_name, line, expected) => {
    const banner = parseBanner(line);
    expect(banner).toMatchObject(expected);
    expect(banner.msg).toBe(MSG);
  });

  it('keeps a guessed split open when there is neither time nor pid', () => {
    const banner = parseBanner('web myprog: something happened');
    expect(banner).toMatchObject({ guessed: true, host: 'web', tag: 'myprog', msg: 'something happened' });
    expect(banner.whole).toBe('web myprog: something happened');
    banner.unguess();
    expect(banner).toMatchObject({ host: null, tag: null, msg: 'web myprog: something happened' });
  });

  it('never takes a word ending with a colon for a host', () => {
    const banner = parseBanner('error: PAM: Authentication failure for root from 192.0.2.7');
    expect(banner).toMatchObject({ host: null, tag: null, msg: 'error: PAM: Authentication failure for root from 192.0.2.7' });
  });

  it.each([
    ['vsftpd’s own log (ctime)', 'Fri May  1 10:00:04 2026 [pid 27202] [admin] FAIL LOGIN: Client "203.0.113.25"', { timeFormat: TimeFormat.Ctime, timeText: 'Fri May  1 10:00:04 2026' }],
    ['OpenWrt logread', 'Thu May  1 10:00:01 2026 authpriv.warn dropbear[4093]: Bad password attempt', { timeFormat: TimeFormat.Ctime, tag: 'dropbear', pid: '4093', msg: 'Bad password attempt' }],
    ['BIND’s own log', '01-May-2026 10:00:02.372 client @0x7f 203.0.113.9#23332: query denied', { timeFormat: TimeFormat.Bind, timeText: '01-May-2026 10:00:02.372' }],
    ['ProFTPD, no colon after the tag', '2026-05-01 10:00:03,121 ftp proftpd[25891] ftp.example.org (x[203.0.113.4]): USER a', { tag: 'proftpd', pid: '25891', msg: 'ftp.example.org (x[203.0.113.4]): USER a' }],
  ])('%s', (_name, line, expected) => {
    expect(parseBanner(line)).toMatchObject(expected);
  });

  it('does not read Postfix `unknown[ADDR]:` as a tag with a pid', () => {
    const banner = parseBanner('warning: unknown[203.0.113.92]: SASL LOGIN authentication failed: UGFzc3dvcmQ6');
    expect(banner.tag).toBeNull();
    expect(banner.msg).toBe('warning: unknown[203.0.113.92]: SASL LOGIN authentication failed: UGFzc3dvcmQ6');
  });

  it('unwraps `message repeated N times`', () => {
    const banner = parseBanner(`May  1 10:00:00 web sshd[42]: message repeated 3 times: [ ${MSG}]`);
    expect(banner.repeat).toBe(3);
    expect(banner.msg).toBe(MSG);
  });

  it('reads `last message repeated` as a message without a tag', () => {
    const banner = parseBanner('May  1 10:00:00 web last message repeated 3 times');
    expect(banner).toMatchObject({ host: 'web', tag: null, msg: 'last message repeated 3 times', repeat: 1 });
  });

  it('keeps an unknown word before the tag in the message (only facility.level names are skipped)', () => {
    const banner = parseBanner(`May  1 10:00:00 web foo.bar sshd[42]: ${MSG}`);
    expect(banner).toMatchObject({ host: 'web', tag: null, msg: `foo.bar sshd[42]: ${MSG}` });
    expect(parseBanner(`web user.nosuchlevel sshd[42]: ${MSG}`).tag).toBeNull();
  });

  it('never lets message text become banner: the message starts where the writer put it', () => {
    const banners = [
      'May  1 10:00:00 web sshd[42]: ', 'May  1 10:00:00 router auth.info sshd[42]: ', 'router auth.info sshd[42]: ',
      '2026-05-01_10:00:00.12345 auth.info: sshd[42]: ', '2026-05-01_10:00:00.12345 auth.info: May  1 10:00:00 sshd[42]: ',
      '<38>1 2026-05-01T10:00:00Z web sshd 42 - - ', '1 2026-05-01T10:00:00Z web sshd 42 - - ',
      '<38>1 2026-05-01T10:00:00Z web sshd 42 - [a b="x]y"] ', '<38>1 2026-05-01T10:00:00Z web sshd 42 - [a b="\\"]"] ',
    ];
    const text = fc.string({ unit: fc.constantFrom('a', ' ', ':', '[', ']', '"', '\\', '=', '1', '.', 'M', 'May  1 10:00:00 ', 'auth.info '), maxLength: 40 });
    fc.assert(
      fc.property(fc.constantFrom(...banners), text, (head, rest) => {
        const msg = `x${rest}`.trimEnd();
        expect(parseBanner(head + msg).msg).toBe(msg);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads escaped structured data values, whatever they contain', () => {
    const value = fc.string({ unit: fc.constantFrom('a', ' ', ']', '"', '\\', '=', '['), maxLength: 16 }).map((v) => v.replace(/["\\\]]/g, '\\$&'));
    fc.assert(
      fc.property(value, value, (v, w) => {
        expect(parseBanner(`<38>1 2026-05-01T10:00:00Z web sshd 42 - [a@1 k="${v}" l="${w}"][b@2 m="${w}"] ${MSG}`).msg).toBe(MSG);
      }),
      { numRuns: 2000 },
    );
  });

  it('does not mistake a month-like word for a timestamp', () => {
    expect(parseBanner(`May be later: ${MSG}`).timeFormat).toBe(TimeFormat.None);
  });
});

describe('bannerTime', () => {
  const now = new Date(2026, 4, 1, 12, 0, 0).getTime();

  it('reads BSD timestamps in local time, in the current year', () => {
    const banner = parseBanner(`May  1 10:00:00.250 web sshd[42]: ${MSG}`);
    expect(bannerTime(banner, { now })).toBe(new Date(2026, 4, 1, 10, 0, 0, 250).getTime());
  });

  it('puts a BSD date more than a day ahead of now into the previous year', () => {
    const banner = parseBanner(`Dec 31 23:59:59 web sshd[42]: ${MSG}`);
    expect(bannerTime(banner, { now })).toBe(new Date(2025, 11, 31, 23, 59, 59).getTime());
    expect(bannerTime(banner, { now, year: 2024 })).toBe(new Date(2024, 11, 31, 23, 59, 59).getTime());
  });

  it('reads ISO offsets', () => {
    expect(isoTime('2026-05-01T10:00:00.123456+02:00')).toBe(Date.UTC(2026, 4, 1, 8, 0, 0, 123));
    expect(isoTime('2026-05-01T10:00:00-0130')).toBe(Date.UTC(2026, 4, 1, 11, 30, 0));
    expect(isoTime('2026-05-01T10:00:00Z')).toBe(Date.UTC(2026, 4, 1, 10, 0, 0));
    expect(isoTime('2026-05-01T10:00:00')).toBe(new Date(2026, 4, 1, 10, 0, 0).getTime());
  });

  it('reads TAI64N labels', () => {
    const banner = parseBanner(`@400000005f5e10000bebc200 ${MSG}`);
    expect(bannerTime(banner, { now })).toBe((1_600_000_000 - 10) * 1000 + 200);
  });

  it('reads ctime, BIND and Common Log Format times', () => {
    expect(bannerTime(parseBanner('Fri May  1 10:00:04 2026 [pid 1] [x] FAIL LOGIN: Client "203.0.113.25"'), { now, timezone: 'UTC' })).toBe(Date.UTC(2026, 4, 1, 10, 0, 4));
    expect(bannerTime(parseBanner('01-May-2026 10:00:02.372 client x'), { now, timezone: 'UTC' })).toBe(Date.UTC(2026, 4, 1, 10, 0, 2, 372));
    const clf = parseBanner('203.0.113.5 - - [01/May/2026:10:00:05 +0200] "GET /wp-login.php HTTP/1.1" 404 153 "-" "x"');
    expect(bannerTime(clf, { now })).toBe(Date.UTC(2026, 4, 1, 8, 0, 5));
  });

  it('has no time for lines without a timestamp', () => {
    expect(bannerTime(parseBanner(MSG), { now })).toBeNull();
  });
});
