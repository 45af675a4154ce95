import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { listAudit } from '../../db/audit.js';
import type { AppDeps } from '../deps.js';
import { mount } from '../route.js';

// Operator routes. `GET /audit` lists operator actions newest first; its policy (policies.ts) requires `admin`.

const auditQuery = z.object({
  actor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const auditRow = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  permissions: z.array(z.string()),
  action: z.string(),
  resource: z.string(),
  resource_id: z.string().nullable(),
  method: z.string(),
  path: z.string(),
  request_id: z.string().nullable(),
});

export function auditRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  mount(router, registry, {
    method: 'get',
    path: '/audit',
    summary: 'Operator actions (admin only): who did what, when, in which request',
    tag: 'Operators',
    query: auditQuery,
    response: z.array(auditRow),
    handler: ({ query }) =>
      listAudit(deps.db, { ...(query.actor ? { actor: query.actor } : {}), limit: query.limit, offset: query.offset }),
  });
  return router;
}
