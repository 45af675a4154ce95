import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { countCrons, getCron, searchCrons, CronSync, type CronFields, type CronFilter, type CronRow } from '../../db/crons.js';
import { getThread } from '../../db/threads.js';
import { assistantIdOf, findAssistant } from '../assistants/lookup.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { mount } from '../route.js';
import * as s from './schema.js';
import { createCron, cronNotFound, deleteCron, updateCron } from './service.js';
import { requestAuth, searchFilterOf } from '../auth/context.js';
import type { AuthUser } from '../auth/types.js';
import { CRON_USER_KEY } from './fire.js';

// Crons (reference §2.1): create (stateless or on a thread), read, patch, delete, search and count. Every change
// goes through service.ts, which keeps each cron's Temporal Schedule in step with its row.

export function cronsRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  const tag = 'Crons';

  const create = async (body: s.CronCreate, threadId: string | null, user: AuthUser | undefined): Promise<CronRow> => {
    const assistant = await findAssistant(deps.db, body.assistant_id);
    if (!assistant) throw notFound(`No assistant found for "${body.assistant_id}".`);
    if (threadId && !(await getThread(deps.db, threadId))) throw notFound(`Thread with ID ${threadId} not found`);
    return createCron(deps, {
      assistant_id: assistant.assistant_id,
      thread_id: threadId,
      // The cron's runs act as the user who created it (api/crons/fire.ts).
      user_id: user?.identity ?? null,
      schedule: body.schedule.trim(),
      timezone: body.timezone ?? null,
      end_time: body.end_time ? new Date(body.end_time).toISOString() : null,
      enabled: body.enabled ?? true,
      // Stateful crons keep their thread; the reference stores null there.
      on_run_completed: threadId ? null : (body.on_run_completed ?? 'delete'),
      payload: runPayload(body, {
        ...(threadId ? { multitask_strategy: body.multitask_strategy ?? 'enqueue' } : {}),
        ...(user ? { [CRON_USER_KEY]: user } : {}),
      }),
      metadata: body.metadata ?? {},
    });
  };

  mount(router, registry, {
    method: 'post',
    path: '/runs/crons',
    summary: 'Create a stateless cron (a new thread per fire)',
    tag,
    body: s.cronCreate,
    response: s.cronResponse,
    handler: ({ body }, req) => create(body, null, requestAuth(req)?.user),
  });
  mount(router, registry, {
    method: 'post',
    path: '/threads/:thread_id/runs/crons',
    summary: 'Create a cron that runs on a thread',
    tag,
    params: s.threadParams,
    body: s.cronCreate,
    response: s.cronResponse,
    handler: ({ params, body }, req) => create(body, params.thread_id, requestAuth(req)?.user),
  });
  mount(router, registry, {
    method: 'post',
    path: '/runs/crons/search',
    summary: 'Search crons',
    tag,
    body: s.cronSearch,
    response: z.array(s.cronResponse.partial().extend({ now: z.string().optional() })),
    handler: async ({ body }, req, res) => {
      const filter = { ...filterOf(body), authFilter: searchFilterOf(req) };
      const [rows, total] = await Promise.all([
        searchCrons(deps.db, {
          ...filter,
          sortBy: body.sort_by ?? 'created_at',
          sortOrder: body.sort_order ?? 'desc',
          limit: body.limit,
          offset: body.offset,
        }),
        countCrons(deps.db, filter),
      ]);
      res.setHeader('X-Pagination-Total', String(total));
      if (body.offset + body.limit < total) res.setHeader('X-Pagination-Next', String(body.offset + body.limit));
      const now = new Date().toISOString();
      return rows.map((row) => (body.select?.length ? pickFields({ ...row, now }, body.select) : row));
    },
  });
  mount(router, registry, {
    method: 'post',
    path: '/runs/crons/count',
    summary: 'Count crons',
    tag,
    body: s.cronCount,
    response: z.number().int(),
    handler: ({ body }, req) => countCrons(deps.db, { ...filterOf(body), authFilter: searchFilterOf(req) }),
  });
  mount(router, registry, {
    method: 'get',
    path: '/runs/crons/:cron_id',
    summary: 'Get a cron',
    tag,
    params: s.cronParams,
    response: s.cronResponse,
    handler: async ({ params }) => {
      const cron = await getCron(deps.db, params.cron_id);
      if (!cron || cron.sync === CronSync.deleting) throw cronNotFound(params.cron_id);
      const { sync: _sync, revision: _revision, ...row } = cron;
      return row;
    },
  });
  mount(router, registry, {
    method: 'patch',
    path: '/runs/crons/:cron_id',
    summary: 'Update a cron (metadata is merged)',
    tag,
    params: s.cronParams,
    body: s.cronPatch,
    response: s.cronResponse,
    handler: ({ params, body }) => updateCron(deps, params.cron_id, (current) => patched(current, body)),
  });
  mount(router, registry, {
    method: 'delete',
    path: '/runs/crons/:cron_id',
    summary: 'Delete a cron and its Schedule',
    tag,
    params: s.cronParams,
    handler: async ({ params }) => {
      if (!(await deleteCron(deps, params.cron_id))) throw cronNotFound(params.cron_id);
    },
  });
  return router;
}

function runPayload(body: Partial<s.CronCreate>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...extra };
  for (const key of s.runFieldNames) if (body[key] !== undefined && body[key] !== null) out[key] = body[key];
  return out;
}

/** A patch changes what it names; metadata is merged into the old, the payload shallowly (reference §2.3). */
function patched(current: CronRow, p: s.CronPatch): CronFields {
  const metadata = p.metadata ? { ...current.metadata, ...p.metadata } : current.metadata;
  const payload = { ...current.payload, ...runPayload(p, {}) };
  if (p.metadata) payload.metadata = { ...((current.payload.metadata as object | undefined) ?? {}), ...p.metadata };
  // The cron's own id stays in configurable whatever config the patch brings.
  const config = (payload.config ?? {}) as { configurable?: Record<string, unknown> };
  payload.config = { ...config, configurable: { ...config.configurable, cron_id: current.cron_id } };
  return {
    schedule: p.schedule?.trim() ?? current.schedule,
    timezone: p.timezone === undefined ? current.timezone : p.timezone,
    end_time: p.end_time === undefined ? current.end_time : p.end_time && new Date(p.end_time).toISOString(),
    enabled: p.enabled ?? current.enabled,
    on_run_completed: current.thread_id ? null : (p.on_run_completed ?? current.on_run_completed),
    payload,
    metadata,
  };
}

function filterOf(body: {
  assistant_id?: string | null;
  thread_id?: string | null;
  enabled?: boolean | null;
  metadata?: object | null;
}): CronFilter {
  // An assistant id that is neither a UUID nor a graph matches nothing rather than failing.
  const assistantId = body.assistant_id ? (assistantIdOf(body.assistant_id) ?? '00000000-0000-0000-0000-000000000000') : undefined;
  return {
    ...(assistantId ? { assistantId } : {}),
    ...(body.thread_id ? { threadId: body.thread_id } : {}),
    ...(typeof body.enabled === 'boolean' ? { enabled: body.enabled } : {}),
    ...(body.metadata ? { metadata: body.metadata as Record<string, unknown> } : {}),
  };
}

function pickFields(row: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, row[k] ?? null]));
}
