import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { countThreads, mergeThreadMetadata, searchThreads, setThreadTtl, type ThreadFilter, type ThreadRow } from '../../db/threads.js';
import type { AppDeps } from '../deps.js';
import { mount } from '../route.js';
import { extractPath, pickKeys, threadJson } from './format.js';
import { copyThread, createThread, deleteThread, pruneThreads, requireThread, threadNotFound } from './lifecycle.js';
import * as s from './schema.js';
import { mountStateRoutes } from './state.js';
import { searchFilterOf } from '../auth/context.js';
import type { AuthFilter } from '../../core/auth/filter.js';

// Threads: create, read, patch, delete, search, count, copy and prune. State and history live in state.ts;
// GET /threads/{id}/stream lives with the other streams.

export function threadsRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  const tag = 'Threads';

  mount(router, registry, {
    method: 'post',
    path: '/threads',
    summary: 'Create a thread, optionally replaying supersteps',
    tag,
    body: s.threadCreate,
    response: s.threadResponse,
    handler: async ({ body }) => threadJson(await createThread(deps, body)),
  });
  mount(router, registry, {
    method: 'post',
    path: '/threads/search',
    summary: 'Search threads',
    tag,
    body: s.threadSearch,
    response: z.array(s.threadResponse),
    handler: async ({ body }, req, res) => search(deps, body, res, searchFilterOf(req)),
  });
  mount(router, registry, {
    method: 'post',
    path: '/threads/count',
    summary: 'Count threads',
    tag,
    body: s.threadCount,
    response: z.number().int(),
    handler: async ({ body }, req) => countThreads(deps.db, { ...filterOf(body), authFilter: searchFilterOf(req) }),
  });
  mount(router, registry, {
    method: 'post',
    path: '/threads/prune',
    summary: 'Delete threads, or keep only their latest checkpoint',
    tag,
    body: s.threadPrune,
    response: z.object({ pruned_count: z.number().int() }),
    handler: async ({ body }) => ({ pruned_count: await pruneThreads(deps, body.thread_ids, body.strategy) }),
  });

  mount(router, registry, {
    method: 'get',
    path: '/threads/:thread_id',
    summary: 'Get a thread',
    tag,
    params: s.threadParams,
    query: s.getThreadQuery,
    response: s.threadResponse,
    handler: async ({ params: p }) => threadJson(await requireThread(deps, p.thread_id)),
  });
  mount(router, registry, {
    method: 'patch',
    path: '/threads/:thread_id',
    summary: 'Merge metadata into a thread (Prefer: return=minimal answers 204)',
    tag,
    params: s.threadParams,
    body: s.threadPatch,
    response: s.threadResponse,
    handler: async ({ params: p, body }, req) => {
      await requireThread(deps, p.thread_id);
      if (body.metadata) await mergeThreadMetadata(deps.db, p.thread_id, body.metadata);
      if (body.ttl !== undefined) await setThreadTtl(deps.db, p.thread_id, s.ttlMinutes(body.ttl));
      if (/\breturn=minimal\b/.test(req.get('prefer') ?? '')) return undefined;
      return threadJson(await requireThread(deps, p.thread_id));
    },
  });
  mount(router, registry, {
    method: 'delete',
    path: '/threads/:thread_id',
    summary: 'Delete a thread, its runs and checkpoints',
    tag,
    params: s.threadParams,
    handler: async ({ params: p }) => {
      await requireThread(deps, p.thread_id);
      if (!(await deleteThread(deps, p.thread_id))) throw threadNotFound(p.thread_id);
    },
  });
  mount(router, registry, {
    method: 'post',
    path: '/threads/:thread_id/copy',
    summary: 'Copy a thread with its checkpoints (not its runs)',
    tag,
    params: s.threadParams,
    response: s.threadResponse,
    handler: async ({ params: p }) => threadJson(await copyThread(deps, p.thread_id)),
  });

  mountStateRoutes(router, registry, deps);
  return router;
}

function filterOf(body: {
  metadata?: Record<string, unknown> | null;
  values?: Record<string, unknown> | null;
  status?: ThreadRow['status'] | null;
}): ThreadFilter {
  return {
    ...(body.metadata ? { metadata: body.metadata } : {}),
    ...(body.values ? { values: body.values } : {}),
    ...(body.status ? { status: body.status } : {}),
  };
}

async function search(deps: AppDeps, body: s.ThreadSearchBody, res: Response, authFilter: AuthFilter | undefined) {
  const filter: ThreadFilter = { ...filterOf(body), ...(body.ids ? { ids: body.ids } : {}), authFilter };
  const [rows, total] = await Promise.all([
    searchThreads(deps.db, {
      ...filter,
      sortBy: body.sort_by ?? 'created_at',
      sortOrder: body.sort_order ?? 'desc',
      limit: body.limit,
      offset: body.offset,
    }),
    countThreads(deps.db, filter),
  ]);
  res.setHeader('X-Pagination-Total', String(total));
  if (body.offset + body.limit < total) res.setHeader('X-Pagination-Next', String(body.offset + body.limit));
  return rows.map((row) => {
    const full = threadJson(row);
    const out: Record<string, unknown> = body.select?.length ? pickKeys(full, body.select) : full;
    if (body.extract)
      out.extracted = Object.fromEntries(Object.entries(body.extract).map(([alias, path]) => [alias, extractPath(full, path)]));
    return out;
  });
}
