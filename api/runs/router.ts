import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { finalRunStatuses, type RunStatus } from '../../core/runs.js';
import { deleteRun, getRun, getRunInternals, listRuns, type RunRow } from '../../db/runs.js';
import { getThread } from '../../db/threads.js';
import type { AppDeps } from '../deps.js';
import { conflict, notFound } from '../errors.js';
import { uuid7 } from '../ids.js';
import { mount } from '../route.js';
import { jsonObject } from '../schemas.js';
import { batchPayloads } from './batch.js';
import { cancelRuns } from './cancel.js';
import { cancelEach } from './cancel-many.js';
import { createRun } from './create.js';
import { streamThread } from './thread-stream.js';
import { EndWatch } from '../events/end-watch.js';
import { FollowerGone } from '../events/patience.js';
import { awaitEnd, awaitOutcome, joinStart, runLocation, runResult, streamRun, waitAndAnswer } from './follow.js';
import * as s from './schema.js';

// Runs on a thread, stateless runs, and following runs by stream, wait and join.

export function runsRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  const tag = 'Runs';

  const requireRun = async (threadId: string, runId: string): Promise<RunRow> => {
    const run = await getRun(deps.db, runId);
    if (!run || run.thread_id !== threadId) throw notFound('Run not found');
    return run;
  };
  const resumable = async (runId: string) => Boolean((await getRun(deps.db, runId))?.kwargs.resumable);

  for (const stateless of [false, true]) {
    const base = stateless ? '/runs' : '/threads/:thread_id/runs';
    const params = stateless ? undefined : s.threadParams;
    const threadOf = (p: unknown) => (stateless ? null : (p as { thread_id: string }).thread_id);

    mount(router, registry, {
      method: 'post',
      path: base,
      summary: 'Create a background run',
      tag,
      params,
      body: s.runCreate,
      response: s.runResponse,
      handler: async ({ params: p, body }, req, res) => {
        const c = await createRun(deps, threadOf(p), body, req.headers);
        res.setHeader('Content-Location', runLocation(c.threadId, c.run.run_id, c.stateless));
        return c.run;
      },
    });
    mount(router, registry, {
      method: 'post',
      path: `${base}/stream`,
      summary: 'Create a run and stream its events (SSE)',
      tag,
      params,
      body: s.runCreate,
      sse: true,
      handler: async ({ params: p, body }, req, res) => {
        const c = await createRun(deps, threadOf(p), body, req.headers);
        await streamRun(deps, req, res, {
          threadId: c.threadId,
          runId: c.run.run_id,
          stateless,
          afterSeq: -1,
          cancelOnDisconnect: body.on_disconnect === 'cancel',
        });
      },
    });
    mount(router, registry, {
      method: 'post',
      path: `${base}/wait`,
      summary: 'Create a run and wait for its final state',
      tag,
      params,
      body: s.runCreate,
      response: jsonObject,
      handler: async ({ params: p, body }, req, res) => {
        // Watched from before it is submitted, the run's end cannot go unseen: the wait reads once it is announced.
        const runId = uuid7();
        const watch = new EndWatch(deps, runId, true);
        try {
          const c = await createRun(deps, threadOf(p), body, req.headers, undefined, { runId });
          await waitAndAnswer(deps, res, {
            threadId: c.threadId,
            runId: c.run.run_id,
            stateless,
            cancelOnDisconnect: body.on_disconnect === 'cancel',
            watch,
          });
        } finally {
          watch.close();
        }
      },
    });
  }

  mount(router, registry, {
    method: 'get',
    path: '/runs/:run_id/stream',
    summary: 'Join the stream of a stateless run',
    tag,
    params: s.statelessRunParams,
    query: s.joinStreamQuery,
    sse: true,
    handler: async ({ params: p, query }, req, res) => {
      const run = await getRun(deps.db, p.run_id);
      if (!run) throw notFound('Run not found');
      const afterSeq = await joinStart(deps, req, run.run_id, Boolean(run.kwargs.resumable));
      await streamRun(deps, req, res, {
        threadId: run.thread_id,
        runId: run.run_id,
        stateless: true,
        afterSeq,
        ...modes(query.stream_mode),
        cancelOnDisconnect: query.cancel_on_disconnect ?? false,
      });
    },
  });

  mount(router, registry, {
    method: 'post',
    path: '/runs/batch',
    summary: 'Create several stateless background runs',
    tag,
    body: z.array(z.unknown()).min(1).max(100),
    response: z.array(s.runResponse),
    handler: async ({ body }, req) => {
      const runs: RunRow[] = [];
      for (const payload of batchPayloads(body)) runs.push((await createRun(deps, null, payload, req.headers)).run);
      return runs;
    },
  });

  mount(router, registry, {
    method: 'post',
    path: '/runs/cancel',
    summary: 'Cancel runs by thread, ids or status',
    tag,
    query: s.cancelQuery.pick({ action: true }),
    body: s.cancelManyBody,
    handler: async ({ query, body }) => {
      const statuses: RunStatus[] =
        body.status === 'pending' ? ['pending'] : body.status === 'running' ? ['running'] : ['pending', 'running'];
      const runs = await listRuns(deps.db, { threadId: body.thread_id, runIds: body.run_ids, statuses, limit: 10_000, offset: 0 });
      const byThread = new Map<string, string[]>();
      for (const r of runs) byThread.set(r.thread_id, [...(byThread.get(r.thread_id) ?? []), r.run_id]);
      await cancelEach(deps, byThread, query.action);
    },
  });

  mount(router, registry, {
    method: 'get',
    path: '/threads/:thread_id/runs',
    summary: 'List runs of a thread, newest first',
    tag,
    params: s.threadParams,
    query: s.listRunsQuery,
    response: z.array(s.runResponse),
    handler: async ({ params: p, query }) => {
      if (!(await getThread(deps.db, p.thread_id))) throw notFound(`Thread with ID ${p.thread_id} not found`);
      const runs = await listRuns(deps.db, {
        threadId: p.thread_id,
        ...(query.status ? { statuses: [query.status] } : {}),
        limit: query.limit,
        offset: query.offset,
      });
      return query.select ? runs.map((r) => pick(r, query.select!)) : runs;
    },
  });
  mount(router, registry, {
    method: 'get',
    path: '/threads/:thread_id/runs/:run_id',
    summary: 'Get a run',
    tag,
    params: s.runParams,
    response: s.runResponse,
    handler: ({ params: p }) => requireRun(p.thread_id, p.run_id),
  });
  mount(router, registry, {
    method: 'delete',
    path: '/threads/:thread_id/runs/:run_id',
    summary: 'Delete a finished run',
    tag,
    params: s.runParams,
    handler: async ({ params: p }) => {
      const run = await requireRun(p.thread_id, p.run_id);
      if (!finalRunStatuses.includes(run.status)) throw conflict('Run is still pending or running; cancel it before deleting it.');
      await deleteRun(deps.db, run.run_id);
    },
  });
  mount(router, registry, {
    method: 'get',
    path: '/threads/:thread_id/runs/:run_id/join',
    summary: 'Wait for a run and return its final state',
    tag,
    params: s.runParams,
    query: s.joinQuery,
    response: jsonObject,
    handler: async ({ params: p, query }, _req, res) => {
      await requireRun(p.thread_id, p.run_id);
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      const { end, atEnd } = await awaitOutcome(deps, p.thread_id, p.run_id, gone.signal);
      const result = gone.signal.aborted ? null : await runResult(deps, p.thread_id, end, gone.signal, atEnd).catch(whenGone);
      if (!result) {
        if (query.cancel_on_disconnect) await cancelRuns(deps, p.thread_id, [p.run_id], 'interrupt');
        return;
      }
      return result;
    },
  });
  mount(router, registry, {
    method: 'get',
    path: '/threads/:thread_id/runs/:run_id/stream',
    summary: 'Join the stream of a run (Last-Event-ID resumes)',
    tag,
    params: s.runParams,
    query: s.joinStreamQuery,
    sse: true,
    handler: async ({ params: p, query }, req, res) => {
      await requireRun(p.thread_id, p.run_id);
      const afterSeq = await joinStart(deps, req, p.run_id, await resumable(p.run_id));
      await streamRun(deps, req, res, {
        threadId: p.thread_id,
        runId: p.run_id,
        stateless: false,
        afterSeq,
        ...modes(query.stream_mode),
        cancelOnDisconnect: query.cancel_on_disconnect ?? false,
      });
    },
  });
  mount(router, registry, {
    method: 'post',
    path: '/threads/:thread_id/runs/:run_id/cancel',
    summary: 'Cancel a run (interrupt or rollback)',
    tag,
    params: s.runParams,
    query: s.cancelQuery,
    emptyStatus: 202,
    handler: async ({ params: p, query }, _req, res) => {
      const run = await requireRun(p.thread_id, p.run_id);
      if (!finalRunStatuses.includes(run.status)) await cancelRuns(deps, p.thread_id, [p.run_id], query.action);
      if (!query.wait) return;
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      if (!finalRunStatuses.includes((await getRunInternals(deps.db, run.run_id))?.status ?? 'success'))
        await awaitEnd(deps, run.run_id, gone.signal);
      res.status(204).end();
    },
  });
  mount(router, registry, {
    method: 'get',
    path: '/threads/:thread_id/stream',
    summary: 'Follow every run of a thread (SSE; Last-Event-ID resumes)',
    tag,
    params: s.threadParams,
    query: s.threadStreamQuery,
    sse: true,
    handler: async ({ params: p, query }, req, res) => {
      if (!(await getThread(deps.db, p.thread_id))) throw notFound(`Thread with ID ${p.thread_id} not found`);
      const chosen = query.stream_mode ?? query.stream_modes ?? ['run_modes'];
      await streamThread(deps, req, res, p.thread_id, new Set(chosen));
    },
  });
  return router;
}

/** A read that gave up because the client left yields null; other failures stay failures. */
const whenGone = (err: unknown): null => {
  if (err instanceof FollowerGone) return null;
  throw err;
};

const modes = (list: string[] | undefined) => (list?.length ? { modes: new Set(list) } : {});

function pick(row: RunRow, keys: string[]): Partial<RunRow> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => keys.includes(k)));
}
