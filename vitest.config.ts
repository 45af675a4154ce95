import { defineConfig } from 'vitest/config';

// Two tiers. `unit` is pure logic of core/ (no Temporal, no database) and runs in seconds; `integration` drives
// real stacks against one Temporal dev server started by the global setup. `npm test` runs unit first and stops
// there on a failure; `npx vitest run` runs both.
export default defineConfig({
  test: {
    teardownTimeout: 30_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 5_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**'],
          globalSetup: ['test/global-setup.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Conditions a test waits on get this long on a loaded machine before the test fails (test/helpers/input.ts).
          expect: { poll: { timeout: 30_000, interval: 50 } },
        },
      },
    ],
  },
});
