import type { Logger } from '../config/logger.js';
import type { ModelPrices } from '../core/middleware/define.js';
import type { Db } from '../db/pool.js';
import type { StoreService } from '../store/index.js';
import type { MiddlewareRegistry } from './middleware/registry.js';
import type { AgentAuth } from './agent-auth.js';
import type { ModelResolver } from './models/index.js';
import type { ToolRegistry } from './tools/types.js';
import type { WebhookSettings } from './webhook-http.js';

export interface ActivityHooks {
  /** Called as each model chunk is produced; benchmarks use it to time token delivery. */
  onModelChunk?(runId: string, index: number, at: number): void;
}

export interface ActivityDeps {
  db: Db;
  log: Logger;
  models: ModelResolver;
  /** How long a network model may send no token before the call is aborted and retried (MODEL_STALL_TIMEOUT_SECONDS). */
  modelStallTimeoutMs: number;
  tools: ToolRegistry;
  hooks?: ActivityHooks;
  /** The long-term store: tools get it in their context, the sweeper expires its items. */
  store?: StoreService;
  /** Agent Auth's vault, when providers are configured: tools that declare `auth` get their user's token from it. */
  agentAuth?: AgentAuth;
  /** Middleware definitions (built-ins and the worker's own) that hooks of runs name. */
  middleware?: MiddlewareRegistry;
  /** USD per million tokens by model (MODEL_PRICES_FILE): what spend_cap charges. */
  modelPrices?: ModelPrices;
  /** Where webhooks may go and their signing key (default: no private addresses, unsigned). */
  webhooks?: WebhookSettings;
}
