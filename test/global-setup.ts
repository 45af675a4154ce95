import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../config/logger.js';
import { loadTestConfig } from '../config/test.js';
import { findOrInstallTemporal, freePort, startDevServer } from '../scripts/temporal-cli.js';
import { workflowsPath } from '../worker/create.js';

// One real Temporal dev server for the whole suite (each test file uses its own task queue), and one workflow
// bundle shared by every worker, so files run in parallel without re-bundling.

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalBinary: string;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const config = loadTestConfig();
  const log = createLogger(config.TEST_LOG_LEVEL, { component: 'test-setup' });
  const binary = findOrInstallTemporal(config.TEMPORAL_CLI_PATH, log);
  const server = await startDevServer({ binary, port: await freePort(), uiPort: null, log });
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agent-runtime-test-'));
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  project.provide('temporalAddress', server.address);
  project.provide('temporalBinary', binary);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await server.stop();
  };
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
