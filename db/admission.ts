import type { ThreadHead } from '../core/head.js';
import type { RunSpec } from '../core/runs.js';
import { readHead } from './checkpoints.js';
import { appendEvents, notifyThreadRuns } from './events.js';
import type { Db, Queryable } from './pool.js';
import { getRunInternals, getRunSpec, promoteRunRequest, setRunSpecIfMissing, type RunRow } from './runs.js';
import { lockThread, mergeThreadMetadata, setThreadStatus } from './threads.js';

/**
 * Turns an accepted run request into a pending run: the run row, its `metadata` event (id 0), the thread marked
 * busy and stamped with graph and assistant. Idempotent. Returns undefined when the request is gone (the API gave
 * up on it, or the thread was deleted). Workflows that predate claimRun call it from their run loop.
 */
export async function admitRun(
  db: Db,
  r: { runId: string; threadId: string; graphId: string; assistantId: string },
): Promise<RunRow | undefined> {
  return db.tx(async (q) => {
    if (!(await lockThread(q, r.threadId))) return undefined;
    const run = await promoteRunRequest(q, r.runId);
    if (run) await announce(q, run, r.graphId, r.assistantId);
    return run;
  });
}

export type Claim = { outcome: 'recorded'; head: ThreadHead; spec?: RunSpec } | { outcome: 'thread-gone' } | { outcome: 'request-gone' };

/**
 * The thread workflow's admission of a run, before it acts on it: as admitRun, and also tells a deleted thread
 * from a withdrawn request, stores the spec for runs that lack one, and returns the stored head (authoritative
 * between runs) and, when the caller has no spec, the stored one. Idempotent.
 */
export async function claimRun(db: Db, a: { threadId: string; runId: string; spec: RunSpec | null }): Promise<Claim> {
  return db.tx((q) => claimRunIn(q, a));
}

/** claimRun inside the caller's transaction, which then holds the thread's lock. */
export async function claimRunIn(q: Queryable, a: { threadId: string; runId: string; spec: RunSpec | null }): Promise<Claim> {
  if (!(await lockThread(q, a.threadId))) return { outcome: 'thread-gone' };
  const run = await promoteRunRequest(q, a.runId);
  if (!run) return { outcome: 'request-gone' };
  if (a.spec) await setRunSpecIfMissing(q, a.runId, a.spec);
  const spec = a.spec ?? (await getRunSpec(q, a.runId));
  if (!spec) return { outcome: 'request-gone' };
  await announce(q, run, spec.graphId, spec.assistantId);
  const head = await readHead(q, a.threadId);
  return a.spec ? { outcome: 'recorded', head } : { outcome: 'recorded', head, spec };
}

/** The first time a run is recorded: its metadata event, and the thread busy and stamped. */
async function announce(q: Queryable, run: RunRow, graphId: string, assistantId: string): Promise<void> {
  if ((await getRunInternals(q, run.run_id))?.last_event_seq !== -1) return;
  await appendEvents(q, run.run_id, [{ event: 'metadata', data: { run_id: run.run_id, attempt: 1 } }]);
  await mergeThreadMetadata(q, run.thread_id, { graph_id: graphId, assistant_id: assistantId });
  await setThreadStatus(q, run.thread_id, 'busy');
  await notifyThreadRuns(q, run.thread_id);
}
