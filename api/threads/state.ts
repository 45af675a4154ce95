import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import { z } from 'zod';
import { checkpointConfig, checkpointRef, emptyThreadState, threadState } from '../../core/format.js';
import { checkpointExists, getCheckpoint, listCheckpoints, mergeCheckpointMetadata, valuesAt, valuesAtMany } from '../../db/checkpoints.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { mount } from '../route.js';
import { selectState } from './format.js';
import { applyStateUpdate, checkUpdate, requireGraph, requireThread } from './lifecycle.js';
import * as s from './schema.js';

// A thread's state: the head, any checkpoint, the history, and updates (which the thread workflow decides on).

export function mountStateRoutes(router: Router, registry: OpenAPIRegistry, deps: AppDeps): void {
  const tag = 'Thread state';

  mount(router, registry, {
    method: 'get',
    path: '/threads/:thread_id/state',
    summary: 'Get the state at the head',
    tag,
    params: s.threadParams,
    query: s.stateQuery,
    response: s.threadStateResponse,
    handler: async ({ params: p, query }) => selectState(await stateAt(deps, p.thread_id, null), query.select),
  });
  mount(router, registry, {
    method: 'get',
    path: '/threads/:thread_id/state/:checkpoint_id',
    summary: 'Get the state at a checkpoint',
    tag,
    params: s.checkpointParams,
    query: s.stateQuery,
    response: s.threadStateResponse,
    handler: async ({ params: p, query }) => selectState(await stateAt(deps, p.thread_id, p.checkpoint_id), query.select),
  });
  mount(router, registry, {
    method: 'post',
    path: '/threads/:thread_id/state/checkpoint',
    summary: 'Get the state at a checkpoint given as an object',
    tag,
    params: s.threadParams,
    body: s.stateAtCheckpoint,
    response: s.threadStateResponse,
    handler: async ({ params: p, body }) =>
      selectState(await stateAt(deps, p.thread_id, body.checkpoint.checkpoint_id ?? null), body.select),
  });

  mount(router, registry, {
    method: 'post',
    path: '/threads/:thread_id/state',
    summary: 'Update the state (refused while a run is pending or running)',
    tag,
    params: s.threadParams,
    body: s.stateUpdate,
    response: s.stateUpdateResponse,
    handler: async ({ params: p, body }) => {
      const thread = await requireThread(deps, p.thread_id);
      requireGraph(thread.thread_id, thread.metadata);
      const base = body.checkpoint_id ?? body.checkpoint?.checkpoint_id ?? null;
      if (base && !(await checkpointExists(deps.db, thread.thread_id, base))) throw checkpointNotFound(thread.thread_id, base);
      checkUpdate(body.values ?? null, body.as_node, 'body');
      const r = await applyStateUpdate(deps, thread, {
        values: body.values ?? null,
        asNode: body.as_node ?? null,
        checkpointId: base,
      });
      return {
        checkpoint: checkpointRef(thread.thread_id, r.checkpointId),
        configurable: checkpointConfig(thread.thread_id, r.checkpointId).configurable,
      };
    },
  });

  mount(router, registry, {
    method: 'patch',
    path: '/threads/:thread_id/state',
    summary: 'Merge metadata into the head checkpoint',
    tag,
    params: s.threadParams,
    body: s.statePatch,
    handler: async ({ params: p, body }) => {
      const thread = await requireThread(deps, p.thread_id);
      const patched =
        thread.head_checkpoint_id && (await mergeCheckpointMetadata(deps.db, thread.thread_id, thread.head_checkpoint_id, body.metadata));
      if (!patched) throw notFound(`Thread ${thread.thread_id} has no checkpoint to patch`);
    },
  });

  mount(router, registry, {
    method: 'post',
    path: '/threads/:thread_id/history',
    summary: 'List past states, newest first',
    tag,
    params: s.threadParams,
    body: s.historyBody,
    response: z.array(s.threadStateResponse),
    handler: async ({ params: p, body }) =>
      history(deps, p.thread_id, {
        limit: body.limit,
        before: beforeId(body.before),
        metadata: body.metadata ?? undefined,
        checkpointId: body.checkpoint?.checkpoint_id ?? undefined,
        select: body.select,
      }),
  });
  mount(router, registry, {
    method: 'get',
    path: '/threads/:thread_id/history',
    summary: 'List past states, newest first',
    tag,
    params: s.threadParams,
    query: s.historyQuery,
    response: z.array(s.threadStateResponse),
    handler: async ({ params: p, query }) => history(deps, p.thread_id, { limit: query.limit, before: query.before, select: query.select }),
  });
}

const checkpointNotFound = (threadId: string, checkpointId: string) =>
  notFound(`Checkpoint ${checkpointId} not found in thread ${threadId}`);

/** The state at a checkpoint, or at the head when none is named; the head's values come from the thread row. */
async function stateAt(deps: AppDeps, threadId: string, checkpointId: string | null) {
  const thread = await requireThread(deps, threadId);
  const id = checkpointId ?? thread.head_checkpoint_id;
  if (!id) return emptyThreadState();
  const row = await getCheckpoint(deps.db, threadId, id);
  if (!row) throw checkpointNotFound(threadId, id);
  const values = id === thread.head_checkpoint_id && thread.values ? thread.values : await valuesAt(deps.db, threadId, id);
  return threadState(row, values);
}

interface HistoryQuery {
  limit: number;
  before?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  checkpointId?: string | undefined;
  select?: string[] | null | undefined;
}

async function history(deps: AppDeps, threadId: string, h: HistoryQuery) {
  await requireThread(deps, threadId);
  const rows = await listCheckpoints(deps.db, threadId, {
    limit: h.limit,
    ...(h.before ? { beforeCheckpointId: h.before } : {}),
    ...(h.metadata ? { metadata: h.metadata } : {}),
    ...(h.checkpointId ? { checkpointId: h.checkpointId } : {}),
  });
  const values = await valuesAtMany(
    deps.db,
    threadId,
    rows.map((r) => r.checkpoint_id),
  );
  return rows.map((r) => selectState(threadState(r, values.get(r.checkpoint_id) ?? {}), h.select));
}

function beforeId(before: s.HistoryBody['before']): string | undefined {
  if (!before) return undefined;
  if (typeof before === 'string') return before;
  // Both object forms passed zod, so each checkpoint_id here is a uuid or absent.
  const b = before as { configurable?: { checkpoint_id?: string | null }; checkpoint_id?: string | null };
  return (b.configurable ? b.configurable.checkpoint_id : b.checkpoint_id) ?? undefined;
}
