import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadTestConfig } from '../../config/test.js';
import { createLogger, type Logger } from '../../config/logger.js';
import type { DbKind } from '../../db/pool.js';
import { findOrInstallTemporal, freePort, startDevServer, type DevServer } from '../../scripts/temporal-cli.js';
import { workflowsPath } from '../../worker/create.js';
import { startStack, type Stack, type StackOptions } from './stack.js';

// A Temporal dev server of its own and one workflow bundle, and stacks built on them: for the benchmarks and the
// history recorders (test/record), which run outside vitest and its global setup.

export interface DevEnv {
  log: Logger;
  db: DbKind;
  server: DevServer;
  bundlePath: string;
  stack(o?: StackOptions): Promise<Stack>;
  stop(): Promise<void>;
}

export interface ServerChoice {
  /** The CLI's defaults instead of devServerTuning (to measure what the tuning buys). */
  untuned?: boolean;
  /** An in-memory server, as the tests use, instead of a SQLite file as `npm start` has. */
  memory?: boolean;
  dynamicConfig?: Record<string, unknown>;
}

export async function startDevEnv(db: DbKind, choice: ServerChoice = {}, component = 'dev-env'): Promise<DevEnv> {
  const log = createLogger('warn', { component });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-dev-env-'));
  const server = await startDevServer({
    binary: findOrInstallTemporal(loadTestConfig().TEMPORAL_CLI_PATH, log),
    port: await freePort(),
    uiPort: null,
    ...(choice.memory ? {} : { dbFile: path.join(dir, 'temporal.db') }),
    tuned: !choice.untuned,
    dynamicConfig: choice.dynamicConfig ?? {},
    log,
  });
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const bundlePath = path.join(dir, 'bundle.js');
  writeFileSync(bundlePath, code);
  return {
    log,
    db,
    server,
    bundlePath,
    stack: (o = {}) => startStack({ db, temporalAddress: server.address, workflowBundlePath: bundlePath, ...o }),
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
