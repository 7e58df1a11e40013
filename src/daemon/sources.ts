/** The sources of a `run` configuration, each resuming from the position the store kept for it. */
import type { RunSources } from '../config/run.js';
import type { Logger } from '../log/logger.js';
import { CommandSource } from '../sources/command.js';
import { FileSource } from '../sources/file.js';
import { JournalSource } from '../sources/journal.js';
import type { Position, Source } from '../sources/source.js';
import { StdinSource } from '../sources/stdin.js';

/** The name a journal source's position is kept under */
export const JOURNAL_SOURCE = 'journal';

/** Each source names itself in its log fields. */
export function buildSources(config: RunSources, positionOf: (source: string) => Position | null, log: Logger): Source[] {
  const sources: Source[] = [];
  for (const path of config.files) sources.push(new FileSource({ path, from: positionOf(path), log }));
  if (config.journal) {
    const j = config.journal;
    sources.push(
      new JournalSource({
        identifiers: j.identifiers,
        units: j.units,
        priority: j.priority,
        file: j.file ?? undefined,
        after: positionOf(JOURNAL_SOURCE),
        log,
      }),
    );
  }
  if (config.stdin) sources.push(new StdinSource({ log }));
  if (config.logreader !== null) sources.push(new CommandSource({ command: config.logreader, log }));
  return sources;
}
