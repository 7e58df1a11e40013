// What the tests of `run`'s configuration share: a folder of their own, default paths inside it (none of the
// user's files leak in), files written into it, and `load`, which reads a command line as `logwarden run` does.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, parseCommandArgs } from '../../src/cli/command.js';
import { loadRunConfig, type RunEnvironment } from '../../src/config/run.js';

export const RUN: Command = {
  name: 'run',
  describe: 'test wiring of the run options',
  positionals: [{ name: 'files', variadic: true, describe: 'log files' }],
  logsConfigWarnings: true,
  handler: () => {},
};

export function runConfigFixture(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `logwarden-${name}-`));
  const env: RunEnvironment = {
    paths: { config: join(dir, 'none.conf'), whitelist: join(dir, 'default-whitelist'), db: join(dir, 'state.db'), pidFile: join(dir, 'logwarden.pid') },
    lookupUser: (user) => (user === 'nobody' ? { uid: 65534, gid: 65534 } : null),
  };
  const file = (base: string, text: string) => {
    const path = join(dir, base);
    writeFileSync(path, text);
    return path;
  };
  const load = (...argv: string[]) => loadRunConfig(parseCommandArgs(RUN, argv), env);
  return { dir, env, file, load };
}
