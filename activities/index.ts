import { createCheckpointActivities } from './checkpoints.js';
import type { ActivityDeps } from './deps.js';
import { createMaintenanceActivities } from './maintenance.js';
import { createMiddlewareActivities } from './middleware/index.js';
import { createModelActivities } from './model.js';
import { createRunActivities } from './runs.js';
import { createSubagentActivities } from './subagents.js';
import { createToolActivities } from './tools/index.js';
import { createWebhookActivities } from './webhooks.js';

// Every activity of the runtime, built from injected dependencies. Grouped by the system each one touches.

export function createActivities(deps: ActivityDeps) {
  return {
    ...createRunActivities(deps),
    ...createCheckpointActivities(deps),
    ...createModelActivities(deps),
    ...createToolActivities(deps),
    ...createSubagentActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createWebhookActivities(deps),
    ...createMiddlewareActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.js';
