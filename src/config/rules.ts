/** The rule set a command uses, from its options: --rules-dir, --disable-rule, --danger (flags or configuration). */
import { loadRuleSet, RuleError, type RuleSet } from '../parse/rules.js';
import { ConfigError } from './errors.js';
import { originOf } from './policy.js';

export interface RuleArgs {
  'rules-dir'?: string;
  'disable-rule'?: string[];
  danger?: string[];
  _origins?: Record<string, string[]>;
}

/** Throws ConfigError naming the flag or the file, line and key of a choice that does not fit the rules. */
export function ruleSetFromArgs(args: RuleArgs): RuleSet {
  const choices = (name: 'disable-rule' | 'danger') => (args[name] ?? []).map((value, i) => ({ value, origin: originOf(args, name, i) }));
  const localDir = args['rules-dir'] || null;
  try {
    return loadRuleSet({
      localDir,
      disable: choices('disable-rule'),
      danger: choices('danger'),
    });
  } catch (error) {
    // a problem of the local rules folder or of one of its files names where the folder was given
    const fromDir = localDir !== null && error instanceof RuleError && error.message.startsWith(localDir);
    if (fromDir) throw new ConfigError(`${originOf(args, 'rules-dir')}: ${error.message}`);
    if (error instanceof RuleError) throw new ConfigError(error.message);
    throw error;
  }
}
