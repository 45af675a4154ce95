import type { Client } from '@temporalio/client';
import type { AgentAuth } from '../activities/agent-auth.js';
import type { Logger } from '../config/logger.js';
import type { ServerModelDefaults } from '../core/agent-config.js';
import type { MiddlewareRegistry } from '../activities/middleware/registry.js';
import type { MultitaskStrategy, RunTimers } from '../core/runs.js';
import type { Db } from '../db/pool.js';
import type { StoreService } from '../store/index.js';
import type { AuthService } from './auth/types.js';
import type { EventHub } from './events/hub.js';

export interface AppSettings {
  version: string;
  defaultMultitaskStrategy: MultitaskStrategy;
  modelDefaults: ServerModelDefaults;
  bodyLimit: string;
  /** Seconds between `: heartbeat` comments on SSE streams. */
  heartbeatSeconds: number;
  /** How long an API call waits for a worker to accept an update before answering 503. */
  workerTimeoutMs: number;
  /** Durations the workflows of the runs this process creates wait (STATELESS_THREAD_GRACE_SECONDS, WEBHOOK_RETRY_*). */
  timers: RunTimers;
  /** Origins of the browser pages allowed to call the API (CORS_ORIGINS); undefined: its own and localhost's. */
  corsOrigins?: string[];
}

/**
 * What creating a run needs. The API passes its AppDeps; a cron fire's activity passes the worker's database
 * and its activity's Temporal client, so every entry point shares one run-creation service.
 */
export type RunDeps = Pick<AppDeps, 'db' | 'temporal' | 'taskQueue' | 'log' | 'settings' | 'middleware'>;

export interface AppDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  hub: EventHub;
  /** The long-term store, one per process, shared with nothing but the database. */
  store: StoreService;
  settings: AppSettings;
  /** Agent Auth's vault, when providers are configured (AGENT_AUTH_PROVIDERS_FILE). */
  agentAuth?: AgentAuth;
  /** Middleware runs may name: the built-ins and the ones registered with the worker (default: built-ins only). */
  middleware?: MiddlewareRegistry;
  /** Authentication and authorization; undefined: off (allowed only on loopback or with AUTH_DISABLED). */
  auth?: AuthService;
}
