/**
 * What the applier and the daemon use of a firewall: the in-process Firewall, or (with --user) the
 * RemoteFirewall that asks the privileged firewall process for the same operations.
 */
import type { Firewall } from './firewall.js';

export type FirewallPort = Pick<Firewall, 'backend' | 'options' | 'sent' | 'setup' | 'apply' | 'submit' | 'state' | 'teardown' | 'keepSessionOpen' | 'close'>;
