/**
 * `logwarden run`: the daemon. `--check` validates the configuration, the rules, the sources and the backend
 * without changing anything, and says what the daemon would do.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadRunConfig, type RunArgs, type RunConfig } from '../../config/run.js';
import { backendNamed } from '../../firewall/backends.js';
import { execute } from '../../firewall/executor.js';
import { Parser } from '../../parse/parser.js';
import { ruleSetFromArgs } from '../../config/rules.js';
import { listenText } from '../../metrics/server.js';
import type { Args, Command } from '../args.js';
import { cannotSwitch, checkStoreWritable, dropPrivileges, nearestExisting } from '../../daemon/user.js';

export const runCommand: Command = {
  name: 'run',
  describe: 'The daemon: read logs as they are written and block attackers (--dry-run: only say what it would block)',
  positionals: [{ name: 'files', variadic: true, describe: 'Log files to follow (- for standard input); or --journal' }],
  logsConfigWarnings: true,
  handler: async (raw: Args) => {
    const config = loadRunConfig(raw as unknown as RunArgs);
    const parser = new Parser(ruleSetFromArgs(raw).rules);
    if (config.check) {
      process.exitCode = await check(config, parser);
      return;
    }
    // the daemon's modules (SQLite, chokidar, pino) are loaded only to run it: not for --help or --check
    const privsep = await import('../../daemon/privsep.js');
    const channel = privsep.privsepChannelFd();
    // --user: privilege separation (daemon/privsep.ts); the configuration above was read as root
    const user = config.user;
    if (user !== null && channel === null) {
      const why = cannotSwitch(user);
      if (why !== null) return fail(`--user ${user.name}: ${why}`);
      // the firewall process; it loads none of the daemon's other modules (SQLite, the sources)
      if (!config.dryRun) {
        process.exitCode = await privsep.runFirewallProcess(config, user);
        return;
      }
      // a dry run changes no firewall: one process, all of it as the user
    }
    // loaded as root: the user need not read logwarden's own files
    const [{ runDaemon }, { buildSources }] = await Promise.all([import('../../daemon/run.js'), import('../../daemon/sources.js')]);
    if (user !== null) {
      try {
        dropPrivileges(user);
        checkStoreWritable(config.db, user);
      } catch (error) {
        return fail((error as Error).message);
      }
    }
    process.exitCode = await runDaemon(config, {
      parser,
      sources: (store, log) => buildSources(config.sources, (source) => store.position(source), log),
      ...(user !== null && channel !== null ? { remote: privsep.remoteFirewall(channel, config) } : {}),
    });
  },
};

function fail(message: string): void {
  process.stderr.write(`logwarden run: cannot start: ${message}\n`);
  process.exitCode = 1;
}

/** Says what `run` would do and whether it can; exit 1 when something would stop it. No side effects. */
async function check(config: RunConfig, parser: Parser): Promise<number> {
  const problems: string[] = [];
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`configuration: ${config.configFile ?? 'none (defaults and flags)'}`);
  for (const w of config.warnings) say(`warning: ${w.origin}: ${w.message}`);
  say(`rules: ${parser.rules.length} signatures`);
  const p = config.policy;
  say(`policy: block at score ${p.threshold} within ${p.detectionTime} s, first block ${p.blockTime} s (x${p.multiplier} per repeat, at most ${p.maxBlockTime} s), keys /${p.ipv4Subnet} and /${p.ipv6Subnet}, trust ${p.trustTime} s after a login`);
  say(`whitelist: ${config.whitelist.entries.networks.length} network(s), ${config.whitelist.entries.hostnames.length} host name(s), from ${config.whitelist.files.length} file(s), plus loopback, this host's addresses and open SSH sessions`);
  for (const file of config.sources.files) {
    if (!existsSync(file)) say(`source ${file}: does not exist yet (it will be read once it appears)`);
    else {
      try {
        accessSync(file, constants.R_OK);
        say(`source ${file}: readable (${statSync(file).size} bytes; followed from its end the first time)`);
      } catch (error) {
        problems.push(`source ${file}: ${(error as Error).message}`);
      }
    }
  }
  if (config.sources.journal) {
    const j = config.sources.journal;
    say(`source journal${j.file ? ` ${j.file}` : ''}: identifiers ${j.identifiers.join(', ') || 'all'}${j.units.length ? `, units ${j.units.join(', ')}` : ''}`);
    await execute([{ argv: ['journalctl', '--version'] }]).catch((error: Error) => problems.push(`journal: ${error.message}`));
  }
  if (config.sources.stdin) say('source: standard input');
  if (config.metrics) say(`metrics: served at http://${listenText(config.metrics)}/metrics`);
  if (config.hooks.onBlock) say(`on each block: runs ${config.hooks.onBlock} ADDRESS PREFIX DURATION REASON (no shell, 10 s timeout)`);
  if (config.hooks.onRelease) say(`on each release: runs ${config.hooks.onRelease} ADDRESS PREFIX DURATION REASON (no shell, 10 s timeout)`);
  if (config.user) {
    const why = cannotSwitch(config.user);
    if (why !== null) problems.push(`--user ${config.user.name}: ${why}`);
    else say(`privilege separation: logs, parser, store and hooks as ${config.user.name} (uid ${config.user.uid}) without capabilities; the firewall commands from a root firewall process (the store's folder must be ${config.user.name}'s)`);
  }
  const as = config.user ? ` as ${config.user.name}` : '';
  if (config.parser !== null) say(`parser: ${JSON.stringify(config.parser)}${as} (/bin/sh -c) reads the log lines instead of logwarden's rules`);
  if (config.postParser !== null) say(`post-parser: ${JSON.stringify(config.postParser)}${as} (/bin/sh -c) filters each attack line before it is scored`);
  if (config.sources.logreader !== null) say(`source: the output of ${JSON.stringify(config.sources.logreader)} (run with /bin/sh -c)`);
  const { backend, ...options } = config.firewall;
  try {
    const b = backendNamed(backend);
    b.validate(options);
    if (config.dryRun) say(`firewall: none (dry run: blocks are logged as "would block" and recorded as simulated)`);
    else {
      // reading the kernel's objects changes nothing, and proves the tool and the permission are there
      await execute(b.list(options));
      say(`firewall: ${backend}, objects named ${options.name} on ${options.hooks.join(', ')}${config.keepOnExit ? ', kept on exit' : ', removed on exit'}`);
    }
  } catch (error) {
    problems.push(`firewall ${backend}: ${(error as Error).message}`);
  }
  say(`store: ${config.db}${existsSync(config.db) ? '' : ' (will be created)'}`);
  for (const [what, path] of [['store', config.db], ['PID file', config.pidFile]] as const) {
    const folder = existsSync(path) ? path : nearestExisting(dirname(path));
    try {
      accessSync(folder, constants.W_OK);
    } catch {
      problems.push(`${what}: ${folder} is not writable`);
    }
  }
  for (const problem of problems) process.stderr.write(`logwarden run --check: ${problem}\n`);
  say(problems.length === 0 ? 'ok: logwarden run would start' : `${problems.length} problem(s): logwarden run would not start`);
  return problems.length === 0 ? 0 : 1;
}
