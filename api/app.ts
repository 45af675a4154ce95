import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { type Express, type Request } from 'express';
import { a2aRouter } from './a2a/router.js';
import { agentAuthRouter } from './agent-auth/router.js';
import { assistantsRouter } from './assistants/router.js';
import { authenticateRequests } from './auth/middleware.js';
import { auditRouter } from './auth/router.js';
import { corsPolicy } from './cors.js';
import { cronsRouter } from './crons/router.js';
import type { AppDeps } from './deps.js';
import { ApiError, ErrorCode, errorHandler } from './errors.js';
import { inputGuard } from './input-guard.js';
import { mcpRouter } from './mcp/router.js';
import { policiesRouter } from './policies/router.js';
import { protocolRouter } from './protocol/router.js';
import { requestLog } from './request-log.js';
import { storeRouter } from './store/router.js';
import { runsRouter } from './runs/router.js';
import { systemRouter } from './system/router.js';
import { threadsRouter } from './threads/router.js';

// The Agent Server API. createApp never listens: entrypoints and tests decide where it is served.

export function createApp(deps: AppDeps): Express {
  const app = express();
  const registry = new OpenAPIRegistry();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(requestLog(deps.log));
  app.use(corsPolicy(deps.settings.corsOrigins));
  app.use(express.json({ limit: deps.settings.bodyLimit, type: ['application/json', 'application/*+json'], strict: false }));
  app.use(authenticateRequests(deps));
  app.use(inputGuard);
  for (const router of [
    assistantsRouter,
    threadsRouter,
    cronsRouter,
    runsRouter,
    protocolRouter,
    storeRouter,
    mcpRouter,
    a2aRouter,
    agentAuthRouter,
    policiesRouter,
    auditRouter,
  ])
    app.use(router(deps, registry));
  app.use(systemRouter(deps, registry));
  app.use((req: Request) => {
    throw new ApiError(ErrorCode.notFound, `No route for ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps.log));
  return app;
}
