import type { ThreadHead } from '../core/head.js';
import { headJson, headOrEmpty, type HeadRow } from './checkpoints.js';
import type { RunSpec } from '../core/runs.js';
import { appendEventsCtes, EVENTS_CHANNEL, eventsJson, THREAD_RUNS_CHANNEL } from './events.js';
import type { Db, Queryable } from './pool.js';
import { getRunSpec, promoteRunRequest, type RunRow } from './runs.js';
import { lockThread, type ThreadRow } from './threads.js';

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
  return (await claimIn(q, a)).claim;
}

/** What a recorded claim read under the thread's lock, for a caller that goes on in the same transaction. */
export interface Claimed {
  thread: ThreadRow;
  run: RunRow;
  /** The claim also started the run (asked to begin it, it found it pending and recorded it now). */
  started: boolean;
}

/** claimRunIn, also returning what it read under the lock when it recorded the run; with `begin`, it starts it too. */
export async function claimIn(
  q: Queryable,
  a: { threadId: string; runId: string; spec: RunSpec | null },
  begin = false,
): Promise<{ claim: Claim; claimed?: Claimed }> {
  const thread = await lockThread(q, a.threadId);
  if (!thread) return { claim: { outcome: 'thread-gone' } };
  const run = await promoteRunRequest(q, a.runId, a.spec ?? undefined);
  if (!run) return { claim: { outcome: 'request-gone' } };
  const spec = a.spec ?? (await getRunSpec(q, a.runId));
  if (!spec) return { claim: { outcome: 'request-gone' } };
  const { head, started } = await announce(q, run, spec.graphId, spec.assistantId, begin && run.status === 'pending');
  const claim: Claim = a.spec ? { outcome: 'recorded', head } : { outcome: 'recorded', head, spec };
  return { claim, claimed: { thread, run: started ? { ...run, status: 'running' } : run, started } };
}

/**
 * The first time a run is recorded (its log is still empty), in one statement: its metadata event, the thread busy
 * and stamped with graph and assistant, and the thread's watchers told; with `start`, the run started from the
 * thread's head too (as markRunStarted would). Returns the thread's head, read in the same statement: the caller holds
 * the lock, so this statement's snapshot (taken after it) sees the latest head. `started`: it started the run.
 */
async function announce(
  q: Queryable,
  run: RunRow,
  graphId: string,
  assistantId: string,
  start = false,
): Promise<{ head: ThreadHead; started: boolean }> {
  const starts = start
    ? "status = 'running', checkpoint_before = (SELECT head_checkpoint_id FROM threads WHERE thread_id = $3), started_at = COALESCE(started_at, now()), updated_at = now()"
    : undefined;
  const r = await q.query<{ told: number; head: HeadRow | null }>(
    `WITH ${appendEventsCtes({ runId: '$1::uuid', count: '1', events: '$2', onlyIfEmpty: true, ...(starts ? { alsoSet: starts } : {}) })},
     stamp AS (
       UPDATE threads SET metadata = metadata || $4::jsonb, status = 'busy', error = NULL, updated_at = now()
       WHERE thread_id = $3 AND EXISTS (SELECT 1 FROM s)
     ),
     told AS (SELECT pg_notify($5, $1::text), pg_notify($6, $3::text) FROM s)
     SELECT (SELECT count(*)::int FROM told) AS told, (SELECT ${headJson('t')} FROM threads t WHERE t.thread_id = $3) AS head`,
    [
      run.run_id,
      eventsJson([{ event: 'metadata', data: { run_id: run.run_id, attempt: 1 } }]),
      run.thread_id,
      JSON.stringify({ graph_id: graphId, assistant_id: assistantId }),
      EVENTS_CHANNEL,
      THREAD_RUNS_CHANNEL,
    ],
  );
  const row = r.rows[0];
  return { head: headOrEmpty(row?.head), started: start && (row?.told ?? 0) > 0 };
}
