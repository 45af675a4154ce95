import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from 'node:http';
import { Client as LangGraphClient } from '@langchain/langgraph-sdk';
import { Client as TemporalClient, Connection, type ScheduleExecutionResult } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type ActivityInterceptorsFactory } from '@temporalio/worker';
import pg from 'pg';
import { createLogger, type Logger } from '../../config/logger.js';
import { loadTestConfig } from '../../config/test.js';
import { createAgentAuth } from '../../activities/agent-auth.js';
import type { ActivityHooks } from '../../activities/deps.js';
import type { WebhookSettings } from '../../activities/webhook-http.js';
import type { AgentAuthSettings } from '../../config/agent-auth.js';
import { createModelResolver, type ModelResolver } from '../../activities/models/index.js';
import type { ToolDefinition } from '../../activities/tools/types.js';
import type { MiddlewareDefinition, ModelPrices } from '../../core/middleware/define.js';
import { MiddlewareRegistry } from '../../activities/middleware/registry.js';
import { builtinToolNames } from '../../activities/tools/builtin.js';
import { createApp } from '../../api/app.js';
import { installAgents } from '../../agent-packages/index.js';
import { registeredGraphs } from '../../core/graphs.js';
import type { AuthService } from '../../api/auth/types.js';
import { ensureSystemAssistants } from '../../api/assistants/system.js';
import type { AppDeps, AppSettings } from '../../api/deps.js';
import { EventHub } from '../../api/events/hub.js';
import { defaultRunTimers, type MultitaskStrategy } from '../../core/runs.js';
import { migrate } from '../../db/migrate.js';
import { openPglite, openPostgres, type Db, type DbKind } from '../../db/pool.js';
import { createLexicalEmbedder, createStore, type StoreService } from '../../store/index.js';
import { createWorker } from '../../worker/create.js';
import { ensureSweeperSchedule, sweeperScheduleId } from '../../worker/schedules.js';
import { deleteSchedule, listCronSchedules } from '../../api/crons/schedule.js';
import { allCronIds } from '../../db/crons.js';
import { pollUntil } from './wait.js';

// A real stack for one test file: the suite's Temporal dev server, a task queue of its own, a fresh database
// (in-memory PGlite, or a new database on the local PostgreSQL server), a worker, and the API on port 0.
// The model is the project's scripted model unless a test passes another resolver.

let runtimeInstalled = false;
function quietTemporalRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export interface TestDb {
  db: Db;
  /** Connection string of the fresh PostgreSQL database (undefined for PGlite). */
  url?: string;
  drop(): Promise<void>;
}

/** adminUrl: the PostgreSQL server to create the database on (default TEST_DATABASE_URL). */
export async function openTestDb(kind: DbKind, log: Logger, adminUrl?: string): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = await openPglite(undefined, log);
    await migrate(db, log);
    return { db, drop: () => db.close() };
  }
  const admin = adminUrl ?? loadTestConfig().TEST_DATABASE_URL;
  const name = `rt_test_${randomBytes(6).toString('hex')}`;
  const adminPool = new pg.Pool({ connectionString: admin, max: 1 });
  // Its idle connection dies with the server when a test stops it (db-outage): that is no failure of the test.
  adminPool.on('error', (err) => log.debug('admin connection lost', { err }));
  await adminPool.query(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const db = openPostgres(url.toString(), 20, log);
  await migrate(db, log);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      await adminPool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await adminPool.end();
    },
  };
}

export interface StackOptions {
  /** AGENTS_DIR for this stack (default: the built-in agent alone). */
  agentsDir?: string;
  /** The worker's environment, for `${VAR}` in mcp.json. */
  workerEnv?: Record<string, string | undefined>;
  /** Defaults come from the vitest global setup; benchmarks pass their own. */
  temporalAddress?: string;
  workflowBundlePath?: string;
  db?: DbKind;
  tools?: ToolDefinition[];
  /** Custom middleware, registered with the worker and the API. */
  middleware?: MiddlewareDefinition[];
  /** The spend_cap price table of the stack's worker. */
  modelPrices?: ModelPrices;
  models?: ModelResolver;
  /** MODEL_STALL_TIMEOUT_SECONDS of the worker. */
  modelStallTimeoutSeconds?: number;
  hooks?: ActivityHooks;
  settings?: Partial<AppSettings>;
  /** Start no worker (tests of behaviour while workers are down). */
  noWorker?: boolean;
  /** Create the sweeper schedule (hourly; tests trigger it with triggerSweep). */
  sweeper?: boolean;
  /** With db 'postgres': the server to create the test database on (a private cluster), instead of TEST_DATABASE_URL. */
  postgresAdminUrl?: string;
  /** Agent Auth's settings, given the API's URL (its callback lives there, and the port is known only once listening). */
  agentAuth?: (apiUrl: string) => AgentAuthSettings;
  /** The stack's logger (default: the test log level's, on stderr). */
  log?: Logger;
  /** Activity interceptors (tests use one to inject faults between an activity's commit and its report). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Authentication and authorization (default: off, as on a loopback server without an authenticator). */
  auth?: AuthService;
  /** Webhook destinations and key (default: the test configuration's WEBHOOK_ALLOWED_HOSTS=127.0.0.1, unsigned). */
  webhooks?: WebhookSettings;
}

export interface Stack {
  url: string;
  client: LangGraphClient;
  db: Db;
  dbUrl?: string;
  temporal: TemporalClient;
  temporalAddress: string;
  taskQueue: string;
  log: Logger;
  deps: AppDeps;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Runs the sweeper now and waits for that sweep to finish. */
  triggerSweep(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The built-in agent's package alone (a link to agents/agent): most tests need only it, and agents/research would
 * start its MCP server in every test's worker. Tests of the shipped packages pass agentsDir: projectAgentsDir.
 */
export const defaultAgentsDir = fileURLToPath(new URL('../fixtures/builtin-agents', import.meta.url));
export const projectAgentsDir = fileURLToPath(new URL('../../agents', import.meta.url));

export const testSettings = (overrides: Partial<AppSettings> = {}): AppSettings => ({
  version: 'test',
  defaultMultitaskStrategy: 'enqueue' as MultitaskStrategy,
  modelDefaults: { provider: 'scripted' },
  bodyLimit: '1mb',
  heartbeatSeconds: 5,
  workerTimeoutMs: 20_000,
  timers: defaultRunTimers,
  ...overrides,
});

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  quietTemporalRuntime();
  const log = o.log ?? createLogger(loadTestConfig().TEST_LOG_LEVEL, { component: 'test' });
  const address = o.temporalAddress ?? (await fromVitest('temporalAddress'));
  const bundlePath = o.workflowBundlePath ?? (await fromVitest('workflowBundlePath'));
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const { db, url: dbUrl, drop } = await openTestDb(o.db ?? 'pglite', log, o.postgresAdminUrl);
  await installAgents(o.agentsDir ?? defaultAgentsDir, [...builtinToolNames(), ...(o.tools ?? []).map((t) => t.name)], log);
  await ensureSystemAssistants(db);
  const connection = await Connection.connect({ address });
  const temporal = new TemporalClient({ connection });
  const hub = new EventHub(db, log);
  await hub.start();
  // The local lexical embedder, as the default configuration has it.
  const store = createStore({ db, embedder: createLexicalEmbedder(), defaultIndexFields: ['$'] });
  const server = await listen();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agentAuth = o.agentAuth?.(url);
  const deps: AppDeps = {
    db,
    temporal,
    taskQueue,
    log,
    hub,
    store,
    settings: testSettings(o.settings),
    middleware: new MiddlewareRegistry(o.middleware),
    ...(agentAuth ? { agentAuth: createAgentAuth({ db, log, settings: agentAuth }) } : {}),
    ...(o.auth ? { auth: o.auth } : {}),
  };
  server.on('request', createApp(deps));

  let worker: TestWorker | null = null;
  const startWorker = async () => {
    worker = await startTestWorker({
      address,
      taskQueue,
      db,
      log,
      bundlePath,
      ...(o.activityInterceptors ? { activityInterceptors: o.activityInterceptors } : {}),
      store,
      ...(o.models ? { models: o.models } : {}),
      ...(o.modelStallTimeoutSeconds ? { modelStallTimeoutSeconds: o.modelStallTimeoutSeconds } : {}),
      ...(o.tools ? { tools: o.tools } : {}),
      ...(o.middleware ? { middleware: o.middleware } : {}),
      ...(o.modelPrices ? { modelPrices: o.modelPrices } : {}),
      ...(o.hooks ? { hooks: o.hooks } : {}),
      ...(agentAuth ? { agentAuth } : {}),
      ...(o.workerEnv ? { env: o.workerEnv } : {}),
      ...(o.webhooks ? { webhooks: o.webhooks } : {}),
      runSettings: deps.settings,
    });
  };
  const stopWorker = async () => {
    const w = worker;
    worker = null;
    await w?.stop();
  };
  if (!o.noWorker) await startWorker();
  if (o.sweeper) await ensureSweeperSchedule(temporal, taskQueue, 3600, log);
  const triggerSweep = async () => {
    const handle = temporal.schedule.getHandle(sweeperScheduleId(taskQueue));
    const before = (await handle.describe()).info.recentActions.length;
    await handle.trigger();
    let last: ScheduleExecutionResult | undefined;
    await pollUntil('the triggered sweep started', async () => {
      const recent = (await handle.describe()).info.recentActions;
      last = recent.length > before ? recent.at(-1) : undefined;
      return last !== undefined;
    });
    await temporal.workflow.getHandle(last!.action.workflow.workflowId, last!.action.workflow.firstExecutionRunId).result();
  };

  return {
    url,
    client: new LangGraphClient({ apiUrl: url, apiKey: null }),
    db,
    ...(dbUrl ? { dbUrl } : {}),
    temporal,
    temporalAddress: address,
    taskQueue,
    log,
    deps,
    startWorker,
    stopWorker,
    triggerSweep,
    async stop() {
      if (o.sweeper)
        await temporal.schedule
          .getHandle(sweeperScheduleId(taskQueue))
          .delete()
          .catch(() => undefined);
      // Crons' Schedules live in the suite's shared Temporal: this file's must not keep firing after it.
      // Listing lags behind creation, so the rows are asked too.
      const cronIds = await allCronIds(db);
      for await (const cronId of listCronSchedules(deps)) cronIds.add(cronId);
      for (const cronId of cronIds) await deleteSchedule(deps, cronId);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopWorker();
      await hub.stop();
      await connection.close();
      await drop();
    },
  };
}

/** The models of every test stack: the scripted model, and vendors at a closed port (no model API is reachable). */
export const testModels = (): ModelResolver =>
  createModelResolver({ openaiBaseUrl: 'http://127.0.0.1:9/v1', anthropicBaseUrl: 'http://127.0.0.1:9' });

export interface TestWorker {
  stop(): Promise<void>;
}

/** A worker in this process on the task queue: tests that hold its model turns (ModelGate) need it here. */
export async function startTestWorker(o: {
  address: string;
  taskQueue: string;
  db: Db;
  log: Logger;
  bundlePath: string;
  models?: ModelResolver;
  modelStallTimeoutSeconds?: number;
  tools?: ToolDefinition[];
  middleware?: MiddlewareDefinition[];
  hooks?: ActivityHooks;
  store?: StoreService;
  runSettings?: AppSettings;
  agentAuth?: AgentAuthSettings;
  activityInterceptors?: ActivityInterceptorsFactory[];
  env?: Record<string, string | undefined>;
  webhooks?: WebhookSettings;
  agentsDir?: string;
  modelPrices?: ModelPrices;
}): Promise<TestWorker> {
  quietTemporalRuntime();
  // The graph registry is per process: a worker started without a stack in this process must fill it too, but one
  // started beside a stack keeps the stack's packages unless it names its own.
  if (o.agentsDir || registeredGraphs().length === 0) {
    await installAgents(o.agentsDir ?? defaultAgentsDir, [...builtinToolNames(), ...(o.tools ?? []).map((t) => t.name)], o.log);
  }
  const connection = await NativeConnection.connect({ address: o.address });
  const worker = await createWorker({
    // Test receivers listen on loopback, which the test configuration allows (WEBHOOK_ALLOWED_HOSTS=127.0.0.1).
    webhooks: o.webhooks ?? { allowedHosts: ['127.0.0.1', 'localhost'] },
    connection,
    namespace: 'default',
    taskQueue: o.taskQueue,
    db: o.db,
    log: o.log,
    models: o.models ?? testModels(),
    ...(o.modelStallTimeoutSeconds ? { modelStallTimeoutSeconds: o.modelStallTimeoutSeconds } : {}),
    tools: o.tools ?? [],
    ...(o.middleware ? { middleware: o.middleware } : {}),
    workflowBundle: { codePath: o.bundlePath },
    ...(o.hooks ? { hooks: o.hooks } : {}),
    ...(o.store ? { store: o.store } : {}),
    ...(o.runSettings ? { runSettings: o.runSettings } : {}),
    ...(o.agentAuth ? { agentAuth: o.agentAuth } : {}),
    ...(o.activityInterceptors ? { activityInterceptors: o.activityInterceptors } : {}),
    ...(o.modelPrices ? { modelPrices: o.modelPrices } : {}),
    ...(o.env ? { env: o.env } : {}),
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

async function fromVitest(key: 'temporalAddress' | 'workflowBundlePath'): Promise<string> {
  const { inject } = await import('vitest');
  return inject(key);
}

/** A server on port 0 whose app is attached once its URL is known. */
function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
