import type { Backend } from './backend.js';
import { ipsetBackend } from './ipset.js';
import { iptablesBackend } from './iptables.js';
import { nftBackend } from './nft.js';
import { nullBackend } from './null.js';

const BACKENDS: Record<string, Backend> = { nft: nftBackend, iptables: iptablesBackend, ipset: ipsetBackend, null: nullBackend };

export function backendNamed(name: string): Backend {
  const backend = BACKENDS[name];
  if (!backend) throw new Error(`unknown firewall backend ${JSON.stringify(name)} (expected ${Object.keys(BACKENDS).join(', ')})`);
  return backend;
}
