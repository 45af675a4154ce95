import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { FailureType } from '../../core/failures.js';
import { INPUT, nodeNames, START } from '../../core/engine.js';
import { findGraph } from '../../core/graphs.js';
import { threadWorkflowId } from '../../core/ids.js';
import { isRecord, MessageFormatError } from '../../core/messages.js';
import { HISTORY_VALUE_LIMIT_BYTES } from '../../core/runs.js';
import { commandUpdateValues, normalizeWrites } from '../../core/state.js';
import { collapseToHead, copyCheckpoints } from '../../db/checkpoints.js';
import type { Queryable } from '../../db/pool.js';
import { countActiveRuns } from '../../db/runs.js';
import { deleteThreadRow, getThread, insertThread, insertThreadCopy, lockThread, setThreadTtl, type ThreadRow } from '../../db/threads.js';
import { updateState, type StateUpdateRequest, type StateUpdateResult } from '../../workflows/messages.js';
import type { AppDeps, RunDeps } from '../deps.js';
import { ApiError, conflict, ErrorCode, invalid, notFound } from '../errors.js';
import { uuid7 } from '../ids.js';
import { deleteCronsOf } from '../crons/service.js';
import { filterStateUpdate } from '../runs/guardrails.js';
import { callThread, updateThread } from '../temporal.js';
import { ttlMinutes, type ThreadCreate } from './schema.js';

// Thread lifecycle: create (optionally replaying supersteps), copy, delete and prune. Every state change goes
// through the thread workflow's `updateState`; rows and checkpoints are only touched directly where no
// workflow decision is involved (a copy has no workflow yet; a deleted thread's workflow is terminated first).

export const threadNotFound = (threadId: string) => notFound(`Thread with ID ${threadId} not found`);

export async function requireThread(deps: AppDeps, threadId: string): Promise<ThreadRow> {
  const thread = await getThread(deps.db, threadId);
  if (!thread) throw threadNotFound(threadId);
  return thread;
}

/** State updates run the thread's graph, so the thread must know which graph that is. */
export function requireGraph(threadId: string, metadata: Record<string, unknown>): void {
  const graphId = metadata.graph_id;
  if (typeof graphId !== 'string' || !graphId) throw new ApiError(ErrorCode.badRequest, `Thread ${threadId} has no graph ID`);
  if (!findGraph(graphId)) throw notFound(`Graph "${graphId}" not found`);
}

const updatableNodes = [INPUT, START, ...nodeNames];

/**
 * The activity would refuse malformed writes too, but only after a workflow started; checking here answers
 * 422 with the field named and leaves nothing behind. The values travel through workflow history, so their size
 * is limited (413) as well.
 */
export function checkUpdate(values: unknown, asNode: string | null | undefined, path: string): void {
  const size = Buffer.byteLength(JSON.stringify(values ?? null));
  if (size > HISTORY_VALUE_LIMIT_BYTES) {
    throw new ApiError(
      ErrorCode.tooLarge,
      `${path}.values take ${size} bytes; a state update travels through workflow history, where the limit is ` +
        `${HISTORY_VALUE_LIMIT_BYTES} bytes (256 KiB). Send large values as run input instead.`,
    );
  }
  if (asNode && !updatableNodes.includes(asNode)) {
    throw invalid(`Invalid body: ${path}.as_node must be one of ${updatableNodes.join(', ')}`, [
      { path: `${path}.as_node`, message: `unknown node "${asNode}"` },
    ]);
  }
  try {
    normalizeWrites(values, randomUUID);
  } catch (err) {
    if (!(err instanceof MessageFormatError)) throw err;
    throw invalid(`Invalid body: ${path}.values: ${err.message}`, [{ path: `${path}.values`, message: err.message }]);
  }
}

/**
 * POST /threads/{id}/state semantics: the workflow refuses while a run is pending or running (409). The values
 * pass the thread's input guardrails (PII) first: they travel through workflow history into a checkpoint.
 */
export async function applyStateUpdate(deps: AppDeps, thread: ThreadRow, req: StateUpdateRequest): Promise<StateUpdateResult> {
  const values = await filterStateUpdate(deps, thread, req.values);
  // The checkpoint id derives from the update id: a v7 id keeps checkpoints sorted by creation time.
  return updateThread(deps, thread.thread_id, updateState, [{ ...req, values }], {
    updateId: () => uuid7(),
    overrides: { [FailureType.threadBusy]: ErrorCode.conflict },
  });
}

type Superstep = NonNullable<ThreadCreate['supersteps']>[number]['updates'][number];

/** Supersteps carry their writes in `values` or, as LangGraph also allows, in `command.update`. */
function superstepRequest(u: Superstep, path: string): StateUpdateRequest {
  if (u.command && (u.command.resume !== undefined || u.command.goto !== undefined)) {
    throw invalid(`Invalid body: ${path}.command supports only update in supersteps`, [
      { path: `${path}.command`, message: 'only update is supported' },
    ]);
  }
  const values = u.values ?? commandUpdateValues(u.command?.update) ?? null;
  if (values !== null && !isRecord(values))
    throw invalid(`Invalid body: ${path}.values must be an object`, [{ path: `${path}.values`, message: 'expected an object' }]);
  checkUpdate(values, u.as_node, path);
  return { values, asNode: u.as_node, checkpointId: null };
}

export async function createThread(deps: AppDeps, body: ThreadCreate): Promise<ThreadRow> {
  const threadId = body.thread_id ?? uuid7();
  const metadata = body.metadata ?? {};
  const steps = body.supersteps ?? [];
  const updates = steps.flatMap((s, i) => s.updates.map((u, j) => superstepRequest(u, `body.supersteps.${i}.updates.${j}`)));
  if (updates.length) requireGraph(threadId, metadata);
  const inserted = await insertThread(deps.db, { thread_id: threadId, metadata });
  if (!inserted) {
    const existing = body.if_exists === 'do_nothing' ? await getThread(deps.db, threadId) : undefined;
    if (existing) return existing;
    throw conflict('Thread already exists');
  }
  if (body.ttl) await setThreadTtl(deps.db, threadId, ttlMinutes(body.ttl));
  if (!updates.length) return inserted;
  try {
    for (const u of updates) await applyStateUpdate(deps, inserted, u);
  } catch (err) {
    // A thread whose supersteps failed half way would hold a state nobody asked for.
    await deleteThread(deps, threadId).catch((e: unknown) => deps.log.warn('could not remove a half-created thread', { threadId, err: e }));
    throw err;
  }
  return requireThread(deps, threadId);
}

/**
 * Stops the thread's workflow (runs included) and deletes its crons' Schedules, then removes the row;
 * checkpoints, runs, events and cron rows cascade.
 */
export async function deleteThread(deps: RunDeps, threadId: string): Promise<boolean> {
  await deleteCronsOf(deps, { threadId });
  try {
    await callThread(deps, () => deps.temporal.workflow.getHandle(threadWorkflowId(threadId)).terminate('thread deleted'));
  } catch (err) {
    // Threads that never ran, or whose workflow already ended, have nothing to stop.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  return deleteThreadRow(deps.db, threadId);
}

/** The copy gets a new id and no workflow: one starts from the copied head on first use. */
export async function copyThread(deps: AppDeps, sourceId: string): Promise<ThreadRow> {
  const copy = await deps.db.tx(async (q) => {
    // The lock keeps a concurrent step from committing half way through the copy.
    if (!(await lockThread(q, sourceId))) return undefined;
    const row = await insertThreadCopy(q, sourceId, uuid7());
    if (row) await copyCheckpoints(q, sourceId, row.thread_id);
    return row;
  });
  if (!copy) throw threadNotFound(sourceId);
  return copy;
}

export type PruneStrategy = 'delete' | 'keep_latest';

/** Returns how many of the threads existed and were pruned. */
export async function pruneThreads(deps: AppDeps, threadIds: string[], strategy: PruneStrategy): Promise<number> {
  const ids = [...new Set(threadIds.map((id) => id.toLowerCase()))];
  // Checked for all threads first, so a refusal normally leaves every thread as it was.
  if (strategy === 'keep_latest') for (const id of ids) await refuseIfRunning(deps.db, id);
  let pruned = 0;
  for (const threadId of ids) {
    const done =
      strategy === 'delete'
        ? (await getThread(deps.db, threadId)) !== undefined && (await deleteThread(deps, threadId))
        : await keepLatest(deps, threadId);
    if (done) pruned++;
  }
  return pruned;
}

/** A running run may roll back to the checkpoint it started from, which keep_latest would delete. */
async function refuseIfRunning(q: Queryable, threadId: string): Promise<void> {
  if ((await countActiveRuns(q, threadId)) > 0)
    throw conflict(`Thread ${threadId} has a pending or running run; prune it with keep_latest once the run finishes.`);
}

async function keepLatest(deps: AppDeps, threadId: string): Promise<boolean> {
  return deps.db.tx(async (q) => {
    const thread = await lockThread(q, threadId);
    if (!thread) return false;
    await refuseIfRunning(q, threadId);
    await collapseToHead(q, threadId, thread.head_checkpoint_id);
    return true;
  });
}
