import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests each start their own hub on port 0; two workers keep a 2-core machine responsive.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
