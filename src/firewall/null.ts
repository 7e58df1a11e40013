/** The dry-run backend: changes nothing; the executor's caller logs what would be done. */
import type { Backend } from './backend.js';

export const nullBackend: Backend = {
  name: 'null',
  kernelExpiry: true,
  // the name still appears in messages, and the same configuration must work with a real backend later
  validate: (options) => {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(options.name)) throw new Error(`invalid firewall name ${JSON.stringify(options.name)}`);
  },
  setup: () => [],
  apply: () => [],
  list: () => [],
  parseList: () => ({ present: false, blocks: [], allow: [] }),
  teardown: () => [],
};
