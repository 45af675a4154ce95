import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client as LangGraphClient } from '@langchain/langgraph-sdk';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type ActivityInterceptorsFactory, type Worker } from '@temporalio/worker';
import pg from 'pg';
import { createLogger, type Logger } from '../../config/logger.js';
import { loadTestConfig } from '../../config/test.js';
import type { ActivityHooks } from '../../activities/deps.js';
import { createModelResolver, type ModelResolver } from '../../activities/models/index.js';
import type { ToolDefinition } from '../../activities/tools/types.js';
import { createApp } from '../../api/app.js';
import { ensureSystemAssistants } from '../../api/assistants/system.js';
import type { AppDeps, AppSettings } from '../../api/deps.js';
import { EventHub } from '../../api/events/hub.js';
import type { MultitaskStrategy } from '../../core/runs.js';
import { migrate } from '../../db/migrate.js';
import { openPglite, openPostgres, type Db, type DbKind } from '../../db/pool.js';
import { createLexicalEmbedder, createStore } from '../../store/index.js';
import { createWorker } from '../../worker/create.js';
import { ensureSweeperSchedule, sweeperScheduleId } from '../../worker/schedules.js';

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

export async function openTestDb(kind: DbKind, log: Logger): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = await openPglite(undefined, log);
    await migrate(db, log);
    return { db, drop: () => db.close() };
  }
  const admin = loadTestConfig().TEST_DATABASE_URL;
  const name = `rt_test_${randomBytes(6).toString('hex')}`;
  const adminPool = new pg.Pool({ connectionString: admin, max: 1 });
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
  /** Defaults come from the vitest global setup; benchmarks pass their own. */
  temporalAddress?: string;
  workflowBundlePath?: string;
  db?: DbKind;
  tools?: ToolDefinition[];
  models?: ModelResolver;
  hooks?: ActivityHooks;
  settings?: Partial<AppSettings>;
  /** Start no worker (tests of behaviour while workers are down). */
  noWorker?: boolean;
  /** Create the sweeper schedule (hourly; tests trigger it with triggerSweep). */
  sweeper?: boolean;
  activityInterceptors?: ActivityInterceptorsFactory[];
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

export const testSettings = (overrides: Partial<AppSettings> = {}): AppSettings => ({
  version: 'test',
  defaultMultitaskStrategy: 'enqueue' as MultitaskStrategy,
  modelDefaults: { provider: 'scripted' },
  bodyLimit: '1mb',
  heartbeatSeconds: 5,
  workerTimeoutMs: 20_000,
  ...overrides,
});

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  quietTemporalRuntime();
  const log = createLogger(loadTestConfig().TEST_LOG_LEVEL, { component: 'test' });
  const address = o.temporalAddress ?? (await fromVitest('temporalAddress'));
  const bundlePath = o.workflowBundlePath ?? (await fromVitest('workflowBundlePath'));
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const { db, url: dbUrl, drop } = await openTestDb(o.db ?? 'pglite', log);
  await ensureSystemAssistants(db);
  const connection = await Connection.connect({ address });
  const temporal = new TemporalClient({ connection });
  const hub = new EventHub(db, log);
  await hub.start();
  // The local lexical embedder, as the default configuration has it.
  const store = createStore({ db, embedder: createLexicalEmbedder(), defaultIndexFields: ['$'] });
  const deps: AppDeps = { db, temporal, taskQueue, log, hub, store, settings: testSettings(o.settings) };
  const server = await listen(createApp(deps));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let worker: { worker: Worker; running: Promise<void>; connection: NativeConnection } | null = null;
  const startWorker = async () => {
    const nc = await NativeConnection.connect({ address });
    const w = await createWorker({
      connection: nc,
      namespace: 'default',
      taskQueue,
      db,
      log,
      models: o.models ?? createModelResolver({ openaiBaseUrl: 'http://127.0.0.1:9/v1', anthropicBaseUrl: 'http://127.0.0.1:9' }),
      tools: o.tools ?? [],
      workflowBundle: { codePath: bundlePath },
      ...(o.hooks ? { hooks: o.hooks } : {}),
      ...(o.activityInterceptors ? { activityInterceptors: o.activityInterceptors } : {}),
      store,
    });
    worker = { worker: w, running: w.run(), connection: nc };
  };
  const stopWorker = async () => {
    if (!worker) return;
    const w = worker;
    worker = null;
    w.worker.shutdown();
    await w.running;
    await w.connection.close();
  };
  if (!o.noWorker) await startWorker();
  if (o.sweeper) await ensureSweeperSchedule(temporal, taskQueue, 3600, log);
  const triggerSweep = async () => {
    const handle = temporal.schedule.getHandle(sweeperScheduleId(taskQueue));
    const before = (await handle.describe()).info.recentActions.length;
    await handle.trigger();
    for (let i = 0; i < 200; i++) {
      const recent = (await handle.describe()).info.recentActions;
      const last = recent.at(-1);
      if (recent.length > before && last) {
        await temporal.workflow.getHandle(last.action.workflow.workflowId, last.action.workflow.firstExecutionRunId).result();
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the sweep never started');
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
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopWorker();
      await hub.stop();
      await connection.close();
      await drop();
    },
  };
}

async function fromVitest(key: 'temporalAddress' | 'workflowBundlePath'): Promise<string> {
  const { inject } = await import('vitest');
  return inject(key);
}

function listen(app: ReturnType<typeof createApp>): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}
