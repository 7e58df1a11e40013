import { defineConfig } from 'vitest/config';

// Real-kernel tests in network namespaces: one file at a time, after the unit tests
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
