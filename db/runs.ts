import type { RunSpec, RunStatus, ThreadStatus } from '../core/runs.js';
import { appendEventsCtes, EVENTS_CHANNEL, eventsJson, RUN_ENDS_CHANNEL, type NewEvent } from './events.js';
import type { Queryable } from './pool.js';

export interface RunRow {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  created_at: string;
  updated_at: string;
  status: RunStatus;
  metadata: Record<string, unknown>;
  kwargs: Record<string, unknown>;
  multitask_strategy: string;
}

export interface RunInternals {
  checkpoint_before: string | null;
  error: { error: string; message: string } | null;
  last_event_seq: number;
  started_at: string | null;
  ended_at: string | null;
}

export const runColumns = 'run_id, thread_id, assistant_id, created_at, updated_at, status, metadata, kwargs, multitask_strategy';

export interface RunRequest {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  metadata: Record<string, unknown>;
  kwargs: Record<string, unknown>;
  multitask_strategy: string;
  /** What the thread workflow gets; kept so a workflow can load it by run id. */
  spec: RunSpec;
}

/**
 * Stores a run request. A retry of the same request (same run id, already stored or already a run) stores nothing
 * new. Returns false when the thread is gone (deleted while the run was being created).
 */
export async function insertRunRequest(q: Queryable, r: RunRequest): Promise<boolean> {
  const res = await q
    .query(
      `INSERT INTO run_requests (run_id, thread_id, assistant_id, metadata, kwargs, multitask_strategy, spec)
       SELECT $1, $2, $3, $4::jsonb, $5::jsonb, $6, $7::jsonb
       WHERE EXISTS (SELECT 1 FROM threads WHERE thread_id = $2) AND NOT EXISTS (SELECT 1 FROM runs WHERE run_id = $1)
       ON CONFLICT (run_id) DO NOTHING`,
      [
        r.run_id,
        r.thread_id,
        r.assistant_id,
        JSON.stringify(r.metadata),
        JSON.stringify(r.kwargs),
        r.multitask_strategy,
        JSON.stringify(r.spec),
      ],
    )
    // The thread was deleted between the check and the insert.
    .catch((err: unknown) => {
      if ((err as { code?: string }).code === '23503') return { rowCount: 0 };
      throw err;
    });
  if (res.rowCount > 0) return true;
  return (await q.query('SELECT 1 FROM threads WHERE thread_id = $1', [r.thread_id])).rowCount > 0;
}

export async function deleteRunRequest(q: Queryable, runId: string): Promise<void> {
  await q.query('DELETE FROM run_requests WHERE run_id = $1', [runId]);
}

/**
 * Turns an accepted request into a run, in one statement (idempotent: a retry finds the run already there). With
 * `spec`, a run that has none gets it (runs admitted before specs were stored get theirs from their workflow).
 */
export async function promoteRunRequest(q: Queryable, runId: string, spec?: RunSpec): Promise<RunRow | undefined> {
  // One snapshot for every part: `existing` sees the run only when it was there before this statement.
  const r = await q.query<RunRow>(
    `WITH req AS (DELETE FROM run_requests WHERE run_id = $1 RETURNING *),
     ins AS (
       INSERT INTO runs (run_id, thread_id, assistant_id, status, metadata, kwargs, multitask_strategy, spec, created_at, updated_at)
       SELECT run_id, thread_id, assistant_id, 'pending', metadata, kwargs, multitask_strategy, COALESCE(spec, $2::jsonb), created_at, created_at
       FROM req
       ON CONFLICT (run_id) DO NOTHING
       RETURNING ${runColumns}
     ),
     existing AS (
       UPDATE runs SET spec = COALESCE(spec, $2::jsonb) WHERE run_id = $1 RETURNING ${runColumns}
     )
     SELECT * FROM ins UNION ALL SELECT * FROM existing`,
    [runId, spec ? JSON.stringify(spec) : null],
  );
  return r.rows[0];
}

/**
 * A run's end in one statement: its status, its last events (the end marker among them, announced on both
 * channels) and the thread's status after it. The marker and ended_at land together, as runEndMarker relies on.
 */
export async function endRun(
  q: Queryable,
  a: {
    runId: string;
    status: RunStatus;
    error: unknown;
    events: NewEvent[];
    threadId: string;
    threadStatus: ThreadStatus;
    threadError: unknown;
  },
): Promise<void> {
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  await q.query(
    `WITH ${appendEventsCtes({
      runId: '$1::uuid',
      count: '$2::int',
      events: '$3',
      alsoSet: 'status = $4, error = $5::jsonb, ended_at = now(), updated_at = now()',
    })},
     thread AS (UPDATE threads SET status = $6, error = $7::jsonb, updated_at = now() WHERE thread_id = $8)
     SELECT pg_notify($9, $1::text), pg_notify($10, $1::text) FROM s`,
    [
      a.runId,
      a.events.length,
      eventsJson(a.events),
      a.status,
      json(a.error),
      a.threadStatus,
      json(a.threadError),
      a.threadId,
      EVENTS_CHANNEL,
      RUN_ENDS_CHANNEL,
    ],
  );
}

export async function getRun(q: Queryable, runId: string): Promise<RunRow | undefined> {
  const r = await q.query<RunRow>(`SELECT ${runColumns} FROM runs WHERE run_id = $1`, [runId]);
  return r.rows[0];
}

export async function getRunInternals(q: Queryable, runId: string): Promise<(RunRow & RunInternals) | undefined> {
  const r = await q.query<RunRow & RunInternals>(
    `SELECT ${runColumns}, checkpoint_before, error, last_event_seq, started_at, ended_at FROM runs WHERE run_id = $1`,
    [runId],
  );
  return r.rows[0];
}

/** Moves a pending run to running; false when it is not pending (a retried start, or a run that ended meanwhile). */
export async function markRunStarted(q: Queryable, runId: string, checkpointBefore: string | null): Promise<boolean> {
  const r = await q.query(
    `UPDATE runs SET status = 'running', checkpoint_before = $2, started_at = COALESCE(started_at, now()), updated_at = now()
     WHERE run_id = $1 AND status = 'pending'`,
    [runId, checkpointBefore],
  );
  return r.rowCount > 0;
}

export async function getRunSpec(q: Queryable, runId: string): Promise<RunSpec | null> {
  const r = await q.query<{ spec: RunSpec | null }>('SELECT spec FROM runs WHERE run_id = $1', [runId]);
  return r.rows[0]?.spec ?? null;
}

/** Pending and running runs of a thread, oldest first, with whether each has a stored spec. */
export async function activeRuns(q: Queryable, threadId: string): Promise<{ run_id: string; status: RunStatus; has_spec: boolean }[]> {
  const r = await q.query<{ run_id: string; status: RunStatus; has_spec: boolean }>(
    `SELECT run_id, status, spec IS NOT NULL AS has_spec FROM runs
     WHERE thread_id = $1 AND status IN ('pending', 'running') ORDER BY created_at, run_id`,
    [threadId],
  );
  return r.rows;
}

export async function markRunEnded(
  q: Queryable,
  runId: string,
  status: RunStatus,
  error: { error: string; message: string } | null,
): Promise<void> {
  await q.query('UPDATE runs SET status = $2, error = $3::jsonb, ended_at = now(), updated_at = now() WHERE run_id = $1', [
    runId,
    status,
    error === null ? null : JSON.stringify(error),
  ]);
}

/** Deletes a run; its waits learn at once (RUN_ENDS_CHANNEL) that it is gone. */
export async function deleteRun(q: Queryable, runId: string): Promise<boolean> {
  const r = await q.query('DELETE FROM runs WHERE run_id = $1 RETURNING pg_notify($2, run_id::text)', [runId, RUN_ENDS_CHANNEL]);
  return r.rowCount > 0;
}

/**
 * Whether a run ended before any run with multitask_strategy rollback was requested on its thread while it was in
 * flight (created after it, by its end): then nobody asked to roll it back while it ran.
 */
export async function endedBeforeRollback(q: Queryable, runId: string): Promise<boolean> {
  const r = await q.query<{ kept: boolean }>(
    `SELECT r.ended_at IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id AND o.run_id <> r.run_id AND o.multitask_strategy = 'rollback'
         AND o.created_at >= r.created_at AND o.created_at <= r.ended_at) AS kept
     FROM runs r WHERE r.run_id = $1`,
    [runId],
  );
  return r.rows[0]?.kept ?? false;
}

export async function countActiveRuns(q: Queryable, threadId: string): Promise<number> {
  const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE thread_id = $1 AND status IN ('pending', 'running')`, [
    threadId,
  ]);
  return r.rows[0]?.n ?? 0;
}

/** A run's status (null when it is gone) and how many other runs of its thread are pending or running, in one read. */
export async function runStatusAndOthers(
  q: Queryable,
  threadId: string,
  runId: string,
): Promise<{ status: RunStatus | null; others: number }> {
  const r = await q.query<{ status: RunStatus | null; others: number }>(
    `SELECT (SELECT status FROM runs WHERE run_id = $2::uuid) AS status,
       (SELECT count(*)::int FROM runs WHERE thread_id = $1 AND status IN ('pending', 'running') AND run_id <> $2::uuid) AS others`,
    [threadId, runId],
  );
  return r.rows[0] ?? { status: null, others: 0 };
}

export interface RunFilter {
  threadId?: string;
  runIds?: string[];
  statuses?: RunStatus[];
  limit: number;
  offset: number;
}

/** Newest first. */
export async function listRuns(q: Queryable, f: RunFilter): Promise<RunRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (f.threadId) where.push(`thread_id = $${params.push(f.threadId)}`);
  if (f.runIds) where.push(`run_id = ANY($${params.push(f.runIds)}::uuid[])`);
  if (f.statuses) where.push(`status = ANY($${params.push(f.statuses)}::text[])`);
  const r = await q.query<RunRow>(
    `SELECT ${runColumns} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, run_id DESC LIMIT $${params.push(f.limit)} OFFSET $${params.push(f.offset)}`,
    params,
  );
  return r.rows;
}

/**
 * Runs of a thread after a given run (from it, when inclusive), oldest first: the order a thread stream
 * follows them. The position is compared in SQL, at the database's full timestamp precision.
 */
export async function runsAfter(q: Queryable, threadId: string, runId: string | null, inclusive: boolean): Promise<RunRow[]> {
  const r = await q.query<RunRow>(
    `SELECT ${runColumns} FROM runs WHERE thread_id = $1 AND ($2::uuid IS NULL OR
       (created_at, run_id) ${inclusive ? '>=' : '>'} (SELECT created_at, run_id FROM runs WHERE run_id = $2))
     ORDER BY created_at, run_id LIMIT 100`,
    [threadId, runId],
  );
  return r.rows;
}

/** How many runs of its thread came before this one: its position in the thread's order (null once deleted). */
export async function runOrdinal(q: Queryable, runId: string): Promise<number | null> {
  const r = await q.query<{ n: number }>(
    `SELECT (SELECT count(*)::int FROM runs o WHERE o.thread_id = r.thread_id AND (o.created_at, o.run_id) < (r.created_at, r.run_id)) AS n
     FROM runs r WHERE r.run_id = $1`,
    [runId],
  );
  return r.rows[0]?.n ?? null;
}
