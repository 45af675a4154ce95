import { defineConfig } from 'vitest/config';

// Three tiers. `unit` is pure logic of core/ (no Temporal, no database) and runs in seconds; `integration` drives
// real stacks against one Temporal dev server started by the global setup; `integration-cpu` holds the files that
// keep the CPU busy themselves (the local model's llama.cpp, headless Chromium, the Python clients' processes).
// `npm test` runs unit first and stops there on a failure; `npx vitest run` runs all.
//
// Integration files are isolated from each other: each has its own task queue (and the Temporal Schedules and
// workflows it lists are filtered by it), its own in-memory PGlite or its own PostgreSQL database, and API and
// worker ports chosen by the OS. Most of their time is spent waiting on Temporal and timers, so a few run at
// once even on two cores. The CPU-bound files run one at a time, after the others, so that neither slows the
// other past its timeouts.

const cpuBound = [
  'test/local-model.test.ts',
  'test/local-model-crash.test.ts',
  'test/local-chat.test.ts',
  'test/browser.test.ts',
  'test/python-clients.test.ts',
];

const integration = {
  globalSetup: ['test/global-setup.ts'],
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 120_000,
  // Conditions a test waits on get this long on a loaded machine before the test fails (test/helpers/input.ts).
  expect: { poll: { timeout: 30_000, interval: 50 } },
};

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
          ...integration,
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', ...cpuBound],
          maxWorkers: 3,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...integration,
          name: 'integration-cpu',
          include: cpuBound,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
