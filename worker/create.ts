import { fileURLToPath } from 'node:url';
import type { Connection } from '@temporalio/client';
import {
  NativeConnection,
  Worker,
  type ActivityInterceptorsFactory,
  type WorkerOptions as WorkerOptionsOfSdk,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { configSchema } from '../config/index.js';
import type { Logger } from '../config/logger.js';
import { createCronActivities } from '../api/crons/fire.js';
import type { AppSettings } from '../api/deps.js';
import { settingsFrom } from '../api/server.js';
import { createActivities } from '../activities/index.js';
import type { MiddlewareDefinition, ModelPrices } from '../core/middleware/define.js';
import { MiddlewareRegistry } from '../activities/middleware/registry.js';
import { createAgentAuth } from '../activities/agent-auth.js';
import type { AgentAuthSettings } from '../config/agent-auth.js';
import type { ActivityHooks } from '../activities/deps.js';
import type { ModelResolver } from '../activities/models/index.js';
import { builtinTools } from '../activities/tools/builtin.js';
import { fsTools } from '../activities/tools/fs/tools.js';
import { connectMcpServers } from '../activities/tools/mcp.js';
import { task } from '../activities/tools/task.js';
import { ToolRegistry, type ToolDefinition } from '../activities/tools/types.js';
import { packageTools, registeredGraphs } from '../core/graphs.js';
import type { Db } from '../db/pool.js';
import type { StoreService } from '../store/index.js';
import { customSearchAttributes } from '../workflows/search-attributes.js';
import type { WebhookSettings } from '../activities/webhook-http.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Worker options beyond the SDK's defaults, for latency and throughput (measured by `npm run bench -- runs`). The
 * benchmark's bare Temporal floor uses them too, so its ratio measures the runtime's own layers. Empty so far: two
 * workflow threads, or fewer pollers, bought nothing measurable on the 2-core build machine.
 */
export const workerTuning = {} as const satisfies Partial<WorkerOptionsOfSdk>;

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  log: Logger;
  models: ModelResolver;
  /** MODEL_STALL_TIMEOUT_SECONDS (default: the config's default). */
  modelStallTimeoutSeconds?: number;
  /** Tools beyond the built-in ones: the extension point for users' own tools. */
  tools?: ToolDefinition[];
  /** Middleware beyond the built-in ones, for assistants to name in configurable.middleware. */
  middleware?: MiddlewareDefinition[];
  /** A prebuilt bundle (tests build one and share it); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  hooks?: ActivityHooks;
  store?: StoreService;
  maxCachedWorkflows?: number;
  /** How runs are created (default strategy, model defaults): cron fires create theirs as the API does. */
  runSettings?: AppSettings;
  /** Agent Auth's providers and key, when configured (loadAgentAuthSettings). */
  agentAuth?: AgentAuthSettings;
  /** Where `${VAR}` in mcp.json comes from: the worker's environment (workerEnvironment()). */
  env?: Record<string, string | undefined>;
  /** Activity interceptors (tests use one to inject faults between an activity's commit and its report). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** MODEL_PRICES_FILE's table: what spend_cap charges per model. */
  modelPrices?: ModelPrices;
  /** WEBHOOK_ALLOWED_HOSTS and WEBHOOK_SECRET. */
  webhooks?: WebhookSettings;
}

export async function createWorker(o: WorkerOptions): Promise<Worker> {
  // Package tools (tools/*.ts of AGENTS_DIR, loaded by installAgents) were checked to be defineTool values.
  const all = [...builtinTools, ...fsTools, task, ...(o.tools ?? []), ...(packageTools() as unknown as ToolDefinition[])];
  const mcp = await connectMcpServers(registeredGraphs(), o.env ?? {}, new Set(all.map((t) => t.name)), o.log);
  const tools = new ToolRegistry(all, mcp.groups);
  checkToolProviders(all, o.agentAuth);
  const middleware = new MiddlewareRegistry(o.middleware);
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath }),
    activities: {
      ...createActivities({
        db: o.db,
        log: o.log,
        models: o.models,
        modelStallTimeoutMs: (o.modelStallTimeoutSeconds ?? configSchema.parse({}).MODEL_STALL_TIMEOUT_SECONDS) * 1000,
        tools,
        middleware,
        ...(o.hooks ? { hooks: o.hooks } : {}),
        ...(o.store ? { store: o.store } : {}),
        ...(o.webhooks ? { webhooks: o.webhooks } : {}),
        ...(o.modelPrices ? { modelPrices: o.modelPrices } : {}),
        ...(o.agentAuth ? { agentAuth: createAgentAuth({ db: o.db, log: o.log, settings: o.agentAuth }) } : {}),
      }),
      ...createCronActivities({
        db: o.db,
        log: o.log,
        taskQueue: o.taskQueue,
        settings: o.runSettings ?? settingsFrom(configSchema.parse({})),
        middleware,
      }),
    },
    // Cancellation reaches an activity only with a heartbeat; a short throttle makes interrupts prompt.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    ...workerTuning,
    ...(o.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: o.maxCachedWorkflows } : {}),
    ...(o.activityInterceptors ? { interceptors: { activity: o.activityInterceptors } } : {}),
  });
  // The MCP connections (and stdio server processes) end with the worker.
  const run = worker.run.bind(worker);
  worker.run = () => run().finally(() => mcp.close());
  return worker;
}

/** A tool acting through a provider nobody configured would fail on every call: the worker refuses to start instead. */
function checkToolProviders(tools: ToolDefinition[], agentAuth: AgentAuthSettings | undefined): void {
  for (const t of tools) {
    if (!t.auth || agentAuth?.providers[t.auth.provider]) continue;
    throw new Error(
      agentAuth
        ? `Tool ${t.name} acts through the Agent Auth provider "${t.auth.provider}", which AGENT_AUTH_PROVIDERS_FILE does not define.`
        : `Tool ${t.name} acts through the Agent Auth provider "${t.auth.provider}": set AGENT_AUTH_PROVIDERS_FILE and SECRETS_KEY.`,
    );
  }
}

/**
 * Registers the runtime's search attributes on a cluster that lacks them (a dev server started by us already
 * has them). Temporal Cloud refuses this call: register them there with tcld, as the error says.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string, log: Logger): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = customSearchAttributes.filter((k) => !(k.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, 2 /* INDEXED_VALUE_TYPE_KEYWORD */])),
    });
    log.info('registered search attributes', { names: missing.map((k) => k.name) });
  } catch (err) {
    throw new Error(
      `Search attributes ${missing.map((k) => k.name).join(', ')} are missing in namespace ${namespace} and could not be added (${String(err)}). ` +
        'Register them as Keyword attributes (for Temporal Cloud: tcld namespace search-attributes add).',
    );
  }
}
