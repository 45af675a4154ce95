import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogEntry } from '@temporalio/worker';
import { loadAgentAuthSettings } from '../config/agent-auth.js';
import { workerEnvironment, type Config } from '../config/index.js';
import { temporalConnectionOptions } from '../config/temporal.js';
import type { Logger } from '../config/logger.js';
import { createModelResolver } from '../activities/models/index.js';
import { createLocalProvider, type LocalModelProvider } from '../activities/models/local.js';
import { builtinToolNames } from '../activities/tools/builtin.js';
import type { ToolDefinition } from '../activities/tools/types.js';
import type { MiddlewareDefinition } from '../core/middleware/define.js';
import { installAgents } from '../agent-packages/index.js';
import type { Db } from '../db/pool.js';
import { settingsFrom } from '../api/server.js';
import { createStoreFromConfig } from '../store/index.js';
import { createWorker, ensureSearchAttributes } from './create.js';
import { loadModelPrices } from '../config/model-prices.js';
import { ensureSweeperSchedule } from './schedules.js';

export interface RunningWorker {
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Temporal's own logs go through our logger, so a process writes one format; metrics go to Prometheus if asked. */
export function installTemporalRuntime(log: Logger, metricsPort?: number): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdk = log.child({ component: 'temporal-sdk' });
  const forward = (e: LogEntry) => {
    const level = e.level === 'ERROR' ? 'error' : e.level === 'WARN' ? 'warn' : e.level === 'INFO' ? 'info' : 'debug';
    sdk[level](e.message, e.meta);
  };
  // Our shutdown owns the signals, so the worker drains once, in order with the API and the database.
  Runtime.install({
    logger: new DefaultLogger('WARN', forward),
    shutdownSignals: [],
    ...(metricsPort ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${metricsPort}` } } } } : {}),
  });
}

/** Starts one worker polling the runtime's task queue; stop() drains it and closes its connections. */
export async function runWorker(o: {
  config: Config;
  db: Db;
  address: string;
  log: Logger;
  tools?: ToolDefinition[];
  /** Custom middleware for assistants to name (register the same list with serveApi). */
  middleware?: MiddlewareDefinition[];
}): Promise<RunningWorker> {
  installTemporalRuntime(o.log, o.config.METRICS_PORT);
  await installAgents(o.config.AGENTS_DIR, [...builtinToolNames(), ...(o.tools ?? []).map((t) => t.name)], o.log);
  const agentAuth = loadAgentAuthSettings(o.config);
  const options = temporalConnectionOptions(o.config, o.address);
  const client = await Connection.connect(options);
  await ensureSearchAttributes(client, o.config.TEMPORAL_NAMESPACE, o.log);
  if (o.config.SWEEP_INTERVAL_SECONDS > 0) {
    await ensureSweeperSchedule(
      new Client({ connection: client, namespace: o.config.TEMPORAL_NAMESPACE }),
      o.config.TEMPORAL_TASK_QUEUE,
      o.config.SWEEP_INTERVAL_SECONDS,
      o.log,
    );
  }
  await client.close();
  const local = await startLocalModel(o.config, o.log);
  const connection = await NativeConnection.connect(options);
  const worker = await createWorker({
    env: workerEnvironment(o.config),
    connection,
    namespace: o.config.TEMPORAL_NAMESPACE,
    taskQueue: o.config.TEMPORAL_TASK_QUEUE,
    db: o.db,
    log: o.log,
    models: createModelResolver({
      openaiApiKey: o.config.OPENAI_API_KEY,
      openaiBaseUrl: o.config.OPENAI_BASE_URL,
      anthropicApiKey: o.config.ANTHROPIC_API_KEY,
      anthropicBaseUrl: o.config.ANTHROPIC_BASE_URL,
      local,
    }),
    modelStallTimeoutSeconds: o.config.MODEL_STALL_TIMEOUT_SECONDS,
    tools: o.tools ?? [],
    ...(o.middleware ? { middleware: o.middleware } : {}),
    store: createStoreFromConfig(o.db, o.config),
    runSettings: settingsFrom(o.config),
    modelPrices: loadModelPrices(o.config),
    webhooks: {
      allowedHosts: o.config.WEBHOOK_ALLOWED_HOSTS.split(',')
        .map((h) => h.trim())
        .filter(Boolean),
      secret: o.config.WEBHOOK_SECRET,
    },
    ...(agentAuth ? { agentAuth } : {}),
    ...(o.config.WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: o.config.WORKER_MAX_CACHED_WORKFLOWS } : {}),
  });
  const running = worker.run();
  o.log.info('worker running', { taskQueue: o.config.TEMPORAL_TASK_QUEUE, namespace: o.config.TEMPORAL_NAMESPACE });
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await local.close();
    },
  };
}

/**
 * The worker's local model host. When it is the default provider, the model is installed and loaded before the
 * worker polls, so no run waits for it. A model that cannot load is logged, not fatal: runs that ask for it fail
 * with the reason, and the worker keeps serving the others.
 */
async function startLocalModel(config: Config, log: Logger): Promise<LocalModelProvider> {
  const local = createLocalProvider({
    modelPath: config.LOCAL_MODEL_PATH,
    threads: config.LOCAL_MODEL_THREADS,
    sequences: config.LOCAL_MODEL_SEQUENCES,
    contextSize: config.LOCAL_MODEL_CONTEXT_SIZE,
    log: log.child({ component: 'local-model' }),
  });
  if (config.MODEL_PROVIDER === 'local') {
    await local.preload().catch((err: unknown) => log.error('the local model could not be loaded', { err }));
  }
  return local;
}
