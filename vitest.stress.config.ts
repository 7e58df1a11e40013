import { defineConfig } from 'vitest/config';

// npm run test:stress: long runs kept out of npm test
export default defineConfig({
  test: {
    include: ['test/stress/**/*.test.ts'],
    testTimeout: 600_000,
    fileParallelism: false,
  },
});
