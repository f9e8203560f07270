import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: suites start real servers, databases and browsers, so run two files at a time.
    pool: 'forks',
    // One process per worker for every file it runs, not one per file: loading the server's
    // modules anew for each of 170 files was a quarter of the suite's time. Each file starts and
    // stops its own servers, databases and browsers; none relies on a module's state.
    isolate: false,
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
  },
});
