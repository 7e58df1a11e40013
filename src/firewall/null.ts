/** The dry-run backend: changes nothing; the executor's caller logs what would be done. */
import type { Backend } from './backend.js';

export const nullBackend: Backend = {
  name: 'null',
  kernelExpiry: true,
  setup: () => [],
  apply: () => [],
  list: () => [],
  parseList: () => ({ present: false, blocks: [], allow: [] }),
  teardown: () => [],
};
