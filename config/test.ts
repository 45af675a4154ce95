import { z } from 'zod';

// Settings of the test suite (separate from the runtime's, which tests build explicitly per stack).
const testSchema = z.object({
  TEST_DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/postgres'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEST_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('warn'),
  /** The browser of test/browser.test.ts; by default Debian's chromium where installed. */
  CHROMIUM_PATH: z.string().optional(),
  /** Folder with initdb and pg_ctl for tests that run a private PostgreSQL; unset: the newest /usr/lib/postgresql/<n>/bin. */
  TEST_PG_BIN_DIR: z.string().optional(),
  /**
   * How long the database-outage test keeps PostgreSQL stopped, each time (the README's guarantee names this figure).
   * 35 s outlasts what an outage could otherwise hide behind: the model activity's whole retry budget (1+2+4+8+16 s
   * of backoff), the tools' (15 s), the 10 s heartbeat timeout and the 30 s start-to-close of bookkeeping.
   */
  TEST_DB_OUTAGE_SECONDS: z.coerce.number().positive().default(35),
});

export type TestConfig = z.infer<typeof testSchema>;

export function loadTestConfig(env: Record<string, string | undefined> = process.env): TestConfig {
  return testSchema.parse(env);
}

/** The variables a spawned runtime process inherits: enough to find executables, nothing else leaks in. */
export function inheritedEnv(env: Record<string, string | undefined> = process.env): Record<string, string> {
  return { PATH: env.PATH ?? '', HOME: env.HOME ?? '' };
}
