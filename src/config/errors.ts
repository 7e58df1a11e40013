/** A mistake in the configuration (a file or an option): reported with what is wrong and where, exit 2. */
export class ConfigError extends Error {}
