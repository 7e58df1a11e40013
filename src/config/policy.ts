/** Builds the policy's configuration from parsed options, with errors that name the option. */
import { type BlacklistOption, parseBlacklistOption } from '../policy/blacklist.js';
import { DEFAULT_POLICY, type PolicyConfig } from '../policy/policy.js';
import { addWhitelistArgument, emptyEntries, type WhitelistEntries } from '../policy/whitelist.js';

import { ConfigError } from './errors.js';

export interface PolicyArgs {
  threshold?: number;
  'block-time'?: number;
  'detection-time'?: number;
  'block-time-multiplier'?: number;
  'max-block-time'?: number;
  'penalty-half-life'?: number;
  'ipv4-subnet'?: number;
  'ipv6-subnet'?: number;
  'trust-time'?: number;
  'no-trust-users'?: string;
  blacklist?: string;
  whitelist?: string[];
}

function number(args: PolicyArgs, name: keyof PolicyArgs, fallback: number, min: number, max = Infinity, integer = true): number {
  const value = args[name] as number | undefined;
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = max === Infinity ? `>= ${min}` : `${min} to ${max}`;
    throw new ConfigError(`--${name}: expected ${integer ? 'a whole number' : 'a number'} ${range}, got ${String(value)}`);
  }
  return value;
}

export function policyFromArgs(args: PolicyArgs): { policy: PolicyConfig; blacklist: BlacklistOption | null } {
  const d = DEFAULT_POLICY;
  let blacklist: BlacklistOption | null = null;
  if (args.blacklist !== undefined) {
    try {
      blacklist = parseBlacklistOption(args.blacklist);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  const policy: PolicyConfig = {
    threshold: number(args, 'threshold', d.threshold, 1),
    blockTime: number(args, 'block-time', d.blockTime, 1),
    detectionTime: number(args, 'detection-time', d.detectionTime, 1),
    multiplier: number(args, 'block-time-multiplier', d.multiplier, 1, 100, false),
    maxBlockTime: number(args, 'max-block-time', d.maxBlockTime, 1),
    penaltyHalfLife: number(args, 'penalty-half-life', d.penaltyHalfLife, 1),
    ipv4Subnet: number(args, 'ipv4-subnet', d.ipv4Subnet, 0, 32),
    ipv6Subnet: number(args, 'ipv6-subnet', d.ipv6Subnet, 0, 128),
    trustTime: number(args, 'trust-time', d.trustTime, 0),
    noTrustUsers:
      args['no-trust-users'] === undefined
        ? d.noTrustUsers
        : new Set(args['no-trust-users'].split(',').map((u) => u.trim()).filter((u) => u.length > 0)),
    blacklistThreshold: blacklist?.threshold ?? null,
  };
  if (blacklist && blacklist.threshold < policy.threshold) {
    throw new ConfigError(`--blacklist: THRESH (${blacklist.threshold}) must be at least --threshold (${policy.threshold})`);
  }
  return { policy, blacklist };
}

export function whitelistFromArgs(args: PolicyArgs): WhitelistEntries {
  const entries = emptyEntries();
  for (const value of args.whitelist ?? []) addWhitelistArgument(entries, value);
  return entries;
}
