import { OpenApiGeneratorV3, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import { packageProblems, registeredGraphs } from '../../core/graphs.js';
import type { AppDeps } from '../deps.js';
import { mount } from '../route.js';

// Health, server info, and the OpenAPI document generated from the same zod schemas the routes validate with.

export function systemRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  mount(router, registry, {
    method: 'get',
    path: '/ok',
    summary: 'Health check; with check_db=1 it also checks the database (500 when it does not answer)',
    tag: 'System',
    query: z.object({ check_db: z.enum(['0', '1']).default('0') }),
    response: z.object({ ok: z.boolean(), services: z.object({ database: z.enum(['healthy', 'unhealthy', 'skipped']) }) }),
    handler: async ({ query }, _req, res) => {
      if (query.check_db === '0') return { ok: true, services: { database: 'skipped' } };
      const healthy = await databaseAnswers(deps);
      // As the Python Agent Server answers: 500 with the failed service named.
      res.status(healthy ? 200 : 500).json({ ok: healthy, services: { database: healthy ? 'healthy' : 'unhealthy' } });
    },
  });
  mount(router, registry, {
    method: 'get',
    path: '/info',
    summary: 'Server version and capabilities',
    tag: 'System',
    handler: () => ({
      version: deps.settings.version,
      context: 'js',
      runtime: 'temporal',
      flags: { assistants: true, crons: true, langsmith: false, langsmith_tracing_replicas: false },
      // Agent packages of AGENTS_DIR: the graphs registered, and the packages that failed validation with why.
      agents: { graphs: registeredGraphs().map((g) => g.graphId), errors: packageProblems() },
    }),
  });
  let document: ReturnType<OpenApiGeneratorV3['generateDocument']> | undefined;
  const openapi = () =>
    (document ??= new OpenApiGeneratorV3(registry.definitions).generateDocument({
      openapi: '3.0.3',
      info: { title: 'Durable Agent Runtime: Agent Server API', version: deps.settings.version },
    }));
  router.get('/openapi.json', (_req, res) => {
    res.json(openapi());
  });
  // The docs page loads the live document, so it shows exactly what this server validates.
  router.use('/docs', swaggerUi.serve, swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json' } }));
  return router;
}

const HEALTHCHECK_TIMEOUT_MS = 3_000;

async function databaseAnswers(deps: AppDeps): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HEALTHCHECK_TIMEOUT_MS} ms`)), HEALTHCHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([deps.db.query('SELECT 1'), timeout]);
    return true;
  } catch (err) {
    deps.log.warn('health check: the database does not answer', { err });
    return false;
  } finally {
    clearTimeout(timer);
  }
}
