import { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { onShutdown } from '../config/shutdown.js';
import { temporalConnectionOptions } from '../config/temporal.js';
import { serveApi } from '../api/server.js';
import { openDatabase } from '../db/index.js';
import { runWorker } from '../worker/run.js';
import { devServerDbFile, findOrInstallTemporal, startDevServer } from './temporal-cli.js';

// `npm start`: the whole runtime in one command. Temporal (a local dev server with its Web UI, unless
// TEMPORAL_ADDRESS points elsewhere), one worker and the API share this process and one database.

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { component: 'runtime' });

// Whatever started is stopped again in reverse order, on a signal or when a later step fails: the API first
// (no new requests), then the worker drains, then the database closes, and Temporal goes last. Each step is
// logged, and one that hangs (a dev server killed from outside) gives way after a while so the rest still run.
const STEP_LIMIT_MS = 20_000;
const stops: { name: string; stop: () => Promise<void> }[] = [];
const stopAll = async () => {
  for (const { name, stop } of stops.splice(0).reverse()) {
    try {
      await withinLimit(stop(), name);
      log.info('stopped', { part: name });
    } catch (err) {
      log.warn('stop failed', { part: name, err });
    }
  }
};

function withinLimit(p: Promise<void>, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not stop within ${STEP_LIMIT_MS} ms`)), STEP_LIMIT_MS);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

try {
  const lines = await start();
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
  onShutdown(log, stopAll);
} catch (err) {
  log.error('start failed', { err });
  await stopAll();
  process.exit(1);
}

async function start(): Promise<string[]> {
  let address = config.TEMPORAL_ADDRESS;
  let ui: string | null = null;
  if (!address) {
    const dev = await startDevServer({
      binary: findOrInstallTemporal(config.TEMPORAL_CLI_PATH, log),
      port: config.TEMPORAL_PORT,
      uiPort: config.TEMPORAL_UI_PORT,
      dbFile: devServerDbFile(config.DATA_DIR),
      namespaces: [config.TEMPORAL_NAMESPACE],
      ownProcessGroup: true,
      log,
    });
    stops.push({ name: 'temporal', stop: () => dev.stop() });
    [address, ui] = [dev.address, dev.uiUrl];
  }
  const db = await openDatabase(config, log);
  stops.push({ name: 'database', stop: () => db.close() });
  const worker = await runWorker({ config, db, address, log });
  stops.push({ name: 'worker', stop: () => worker.stop() });
  const connection = await Connection.connect(temporalConnectionOptions(config, address));
  stops.push({ name: 'api-temporal-client', stop: () => connection.close() });
  const api = await serveApi({ config, db, temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }), log });
  stops.push({ name: 'api', stop: () => api.close() });
  return [
    `  Agent Server API  ${api.url}   (OpenAPI docs: ${api.url}/docs)`,
    `  Temporal          ${address}${ui ? `   (Web UI: ${ui})` : ''}`,
    `  Database          ${db.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL (DATABASE_URL)'}`,
    `  Model             ${modelLine(config)}`,
  ];
}

function modelLine(c: Config): string {
  if (c.MODEL_PROVIDER === 'scripted')
    return 'scripted: offline and deterministic; MODEL_PROVIDER=local for a real model offline, openai|anthropic with a key';
  if (c.MODEL_PROVIDER === 'local') return `local: ${c.LOCAL_MODEL_PATH ?? 'SmolLM2-135M-Instruct (from PyPI, in .tools/)'}, on the CPU`;
  return `${c.MODEL_PROVIDER}${c.MODEL_NAME ? `:${c.MODEL_NAME}` : ''}`;
}
