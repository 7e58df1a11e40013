// The owner's addresses: interfaces, and the clients of SSH sessions open at start (read from /proc/net/tcp*).
import { describe, expect, it } from 'vitest';
import { clientsOf, interfaceAddresses } from '../../src/daemon/owner.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1456 1 0 100 0 0 10 0
   1: 0100000A:0016 420200C0:D431 01 00000000:00000000 02:000A7B5C 00000000     0        0 1457 2 0 20 4 30 10 -1
   2: 0100000A:1F90 430200C0:D432 01 00000000:00000000 02:000A7B5C 00000000     0        0 1458 2 0 20 4 30 10 -1
   3: 0100000A:0016 440200C0:D433 06 00000000:00000000 02:000A7B5C 00000000     0        0 1459 2 0 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100000A:0016 0000000000000000FFFF00000A0200C0:C350 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0
   1: B80D0120000000000000000001000000:0016 B80D0120000000000000000066000000:C351 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0
`;

describe('clients of open SSH sessions', () => {
  it('reads established connections to the SSH port only (IPv4, IPv4-mapped and IPv6)', () => {
    expect(clientsOf(TCP, [22])).toEqual([{ addr: '192.0.2.66', kind: 4 }]);
    expect(clientsOf(TCP, [22, 8080])).toEqual([
      { addr: '192.0.2.66', kind: 4 },
      { addr: '192.0.2.67', kind: 4 },
    ]);
    expect(clientsOf(TCP6, [22])).toEqual([
      { addr: '192.0.2.10', kind: 4 },
      { addr: '2001:db8::66', kind: 6 },
    ]);
  });

  it('ignores what it cannot read', () => {
    expect(clientsOf('', [22])).toEqual([]);
    expect(clientsOf('header\n garbage line\n', [22])).toEqual([]);
  });
});

describe('interface addresses', () => {
  it('include loopback, canonical', () => {
    const all = interfaceAddresses().map((n) => `${n.addr}/${n.cidr}`);
    expect(all).toContain('127.0.0.1/32');
  });
});
