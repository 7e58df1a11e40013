/** Builds the policy's configuration from parsed options, with errors that name the option. */
import { type BlacklistOption, parseBlacklistOption } from '../policy/blacklist.js';
import { DEFAULT_POLICY, type PolicyConfig } from '../policy/policy.js';
import { addWhitelistArgument, emptyEntries, type WhitelistEntries } from '../policy/whitelist.js';

import { ConfigError } from './errors.js';
import { OPTIONS, type OptionSpec, outOfRange } from './options.js';

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
  'untrusted-users'?: string;
  blacklist?: string;
  whitelist?: string[];
  /** Where values came from (see Args._origins), so errors name the flag or the file, line and key */
  _origins?: Record<string, string[]>;
}

/** Where an option's value (the index-th, for lists) was set: `--name`, or `FILE:LINE: KEY`. */
export function originOf(args: { _origins?: Record<string, string[]> }, name: string, index = 0): string {
  return args._origins?.[name]?.[index] ?? `--${name}`;
}

function number(args: PolicyArgs, name: keyof PolicyArgs & keyof typeof OPTIONS, fallback: number): number {
  const value = args[name] as unknown;
  if (value === undefined) return fallback;
  const problem = typeof value === 'number' ? outOfRange(OPTIONS[name] as OptionSpec, value) : `expected a number, got ${JSON.stringify(value)}`;
  if (problem) throw new ConfigError(`${originOf(args, name)}: ${problem}`);
  return value as number;
}

export function policyFromArgs(args: PolicyArgs): { policy: PolicyConfig; blacklist: BlacklistOption | null } {
  const d = DEFAULT_POLICY;
  let blacklist: BlacklistOption | null = null;
  if (args.blacklist !== undefined) {
    try {
      blacklist = parseBlacklistOption(args.blacklist);
    } catch (error) {
      throw new ConfigError(`${originOf(args, 'blacklist')}: ${(error as Error).message.replace(/^--blacklist: /, '')}`);
    }
  }
  const policy: PolicyConfig = {
    threshold: number(args, 'threshold', d.threshold),
    blockTime: number(args, 'block-time', d.blockTime),
    detectionTime: number(args, 'detection-time', d.detectionTime),
    multiplier: number(args, 'block-time-multiplier', d.multiplier),
    maxBlockTime: number(args, 'max-block-time', d.maxBlockTime),
    penaltyHalfLife: number(args, 'penalty-half-life', d.penaltyHalfLife),
    ipv4Subnet: number(args, 'ipv4-subnet', d.ipv4Subnet),
    ipv6Subnet: number(args, 'ipv6-subnet', d.ipv6Subnet),
    trustTime: number(args, 'trust-time', d.trustTime),
    noTrustUsers:
      args['untrusted-users'] === undefined
        ? d.noTrustUsers
        : new Set(args['untrusted-users'].split(',').map((u) => u.trim()).filter((u) => u.length > 0)),
    blacklistThreshold: blacklist?.threshold ?? null,
  };
  if (blacklist && blacklist.threshold < policy.threshold) {
    throw new ConfigError(
      `${originOf(args, 'blacklist')}: THRESH (${blacklist.threshold}) must be at least the threshold (${policy.threshold}, ${originOf(args, 'threshold')})`,
    );
  }
  return { policy, blacklist };
}

export function whitelistFromArgs(args: PolicyArgs): WhitelistEntries {
  const entries = emptyEntries();
  for (const value of args.whitelist ?? []) addWhitelistArgument(entries, value);
  return entries;
}
