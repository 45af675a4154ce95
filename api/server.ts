import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { createAgentAuth } from '../activities/agent-auth.js';
import { builtinToolNames } from '../activities/tools/builtin.js';
import { installAgents } from '../agent-packages/index.js';
import { loadAgentAuthSettings } from '../config/agent-auth.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../config/logger.js';
import type { Db } from '../db/pool.js';
import { createStoreFromConfig } from '../store/index.js';
import type { MiddlewareDefinition } from '../core/middleware/define.js';
import { MiddlewareRegistry } from '../activities/middleware/registry.js';
import { createApp } from './app.js';
import { loadGuardrailsFile } from './policies/router.js';
import { parseCorsOrigins } from './cors.js';
import { ensureSystemAssistants } from './assistants/system.js';
import { authFromConfig } from './auth/load.js';
import { startCronReconciler } from './crons/service.js';
import type { AppSettings } from './deps.js';
import { EventHub } from './events/hub.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export function settingsFrom(config: Config): AppSettings {
  return {
    version: pkg.version,
    defaultMultitaskStrategy: config.DEFAULT_MULTITASK_STRATEGY,
    modelDefaults: { provider: config.MODEL_PROVIDER, ...(config.MODEL_NAME ? { modelName: config.MODEL_NAME } : {}) },
    bodyLimit: config.BODY_LIMIT,
    heartbeatSeconds: 5,
    workerTimeoutMs: 30_000,
    timers: {
      statelessGraceMs: config.STATELESS_THREAD_GRACE_SECONDS * 1000,
      webhookRetry: {
        initialMs: config.WEBHOOK_RETRY_INITIAL_SECONDS * 1000,
        maximumMs: config.WEBHOOK_RETRY_MAX_INTERVAL_SECONDS * 1000,
        maximumAttempts: config.WEBHOOK_RETRY_MAX_ATTEMPTS,
      },
    },
    corsOrigins: parseCorsOrigins(config.CORS_ORIGINS),
  };
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the API on config.HOST:PORT until close(); streams in flight are ended on close. */
export async function serveApi(o: {
  config: Config;
  db: Db;
  temporal: Client;
  log: Logger;
  /** Custom middleware (as registered with the worker), for runs to name. */
  middleware?: MiddlewareDefinition[];
}): Promise<ApiServer> {
  // Before anything starts: a server that may not serve this address without authentication refuses here.
  const auth = await authFromConfig(o.config, o.log);
  await installAgents(o.config.AGENTS_DIR, builtinToolNames(), o.log);
  await ensureSystemAssistants(o.db);
  const hub = new EventHub(o.db, o.log);
  await hub.start();
  const store = createStoreFromConfig(o.db, o.config);
  const agentAuth = loadAgentAuthSettings(o.config);
  const middleware = new MiddlewareRegistry(o.middleware);
  if (o.config.GUARDRAILS_FILE) await loadGuardrailsFile(o.db, middleware, o.config.GUARDRAILS_FILE);
  const app = createApp({
    middleware,
    db: o.db,
    temporal: o.temporal,
    taskQueue: o.config.TEMPORAL_TASK_QUEUE,
    log: o.log,
    hub,
    store,
    settings: settingsFrom(o.config),
    ...(agentAuth ? { agentAuth: createAgentAuth({ db: o.db, log: o.log, settings: agentAuth }) } : {}),
    ...(auth ? { auth } : {}),
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(o.config.PORT, o.config.HOST, (err?: Error) => {
      if (!err) return resolve(s);
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      reject(inUse ? new Error(`Port ${o.config.PORT} on ${o.config.HOST} is in use; set PORT to another port.`) : err);
    });
  });
  // Cron changes a crashed process left half done are finished or undone, now and every minute.
  const stopReconciler = startCronReconciler({ db: o.db, log: o.log, temporal: o.temporal, taskQueue: o.config.TEMPORAL_TASK_QUEUE });
  const { port } = server.address() as AddressInfo;
  const host = o.config.HOST === '0.0.0.0' ? '127.0.0.1' : o.config.HOST;
  return {
    url: `http://${host}:${port}`,
    async close() {
      stopReconciler();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hub.stop();
    },
  };
}
