import { OpenApiGeneratorV3, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { mount } from '../route.js';

// Health, server info, and the OpenAPI document generated from the same zod schemas the routes validate with.

export function systemRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  mount(router, registry, {
    method: 'get',
    path: '/ok',
    summary: 'Liveness check',
    tag: 'System',
    response: z.object({ ok: z.literal(true) }),
    handler: () => ({ ok: true }),
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
