/**
 * Addresses that must never be blocked because they are the owner's: the host's own interface addresses, and
 * the clients of SSH sessions open when logwarden starts (the administrator who starts it over SSH cannot lock
 * himself out). Read from the system without running any command.
 */
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { canonicalIP } from '../parse/address.js';
import { type Network, width } from '../policy/network.js';

const host = (addr: string, kind: 4 | 6): Network => ({ addr, cidr: width(kind), kind });

/** Every address of every interface (loopback included), canonical. */
export function interfaceAddresses(): Network[] {
  const out: Network[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const c = canonicalIP(a.address.replace(/%.*$/, ''));
      if (c) out.push(host(c.addr, c.kind));
    }
  }
  return out;
}

/** /proc/net/tcp's little-endian hex address (IPv4: 8 digits, IPv6: four 32-bit words) as text. */
function procAddress(hex: string): { addr: string; kind: 4 | 6 } | null {
  const bytes = (word: string) => [6, 4, 2, 0].map((i) => parseInt(word.slice(i, i + 2), 16));
  if (hex.length === 8) return canonicalIP(bytes(hex).join('.'));
  if (hex.length !== 32) return null;
  const all = [0, 8, 16, 24].flatMap((i) => bytes(hex.slice(i, i + 8)));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((all[i] << 8) | all[i + 1]).toString(16));
  return canonicalIP(groups.join(':'));
}

const ESTABLISHED = '01';

/** The remote addresses of established connections to one of `ports`, from /proc/net/tcp or tcp6 text. */
export function clientsOf(procText: string, ports: readonly number[]): { addr: string; kind: 4 | 6 }[] {
  const out: { addr: string; kind: 4 | 6 }[] = [];
  for (const line of procText.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== ESTABLISHED) continue;
    const [localHex, localPort] = f[1].split(':');
    const [remoteHex] = f[2].split(':');
    if (localHex === undefined || !ports.includes(parseInt(localPort, 16))) continue;
    const remote = procAddress(remoteHex);
    if (remote) out.push(remote);
  }
  return out;
}

/** Clients of the SSH sessions open now (IPv4 and IPv6), each once. */
export async function sshSessionClients(ports: readonly number[] = [22]): Promise<Network[]> {
  const seen = new Map<string, Network>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const c of clientsOf(text, ports)) seen.set(c.addr, host(c.addr, c.kind));
  }
  return [...seen.values()];
}

/** Ports whose established clients are the owner's sessions */
export const SSH_PORTS = [22];

/** This host's addresses and the clients of the SSH sessions open now, each with why it is protected. */
export async function ownerAddresses(ports: readonly number[] = SSH_PORTS): Promise<{ net: Network; why: string }[]> {
  const own = interfaceAddresses().map((net) => ({ net, why: 'an address of this host' }));
  const sessions = (await sshSessionClients(ports)).map((net) => ({ net, why: 'client of an SSH session open now' }));
  return [...own, ...sessions];
}
