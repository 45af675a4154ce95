import type { Interrupt } from '../core/head.js';
import type { StateValues } from '../core/state.js';
import { checkpointInsert, type CheckpointRow, type NewCheckpoint } from './checkpoints.js';
import { appendEventsCtes, EVENTS_CHANNEL, eventsJson, type NewEvent } from './events.js';
import type { Queryable } from './pool.js';

// A step's commit in few statements (commitStep holds the thread's lock around them): every statement is a round
// trip, and on PGlite one more turn of the process's single database connection.

/**
 * What a step's commit checks once it holds the thread's lock, in one read (after the lock, so it sees what committed
 * before it): its own checkpoint when it already landed, and the status and metadata of its run (none for null).
 */
export async function stepPreconditions(
  q: Queryable,
  threadId: string,
  checkpointId: string,
  runId: string | null,
): Promise<{ existing: Pick<CheckpointRow, 'checkpoint_id' | 'step' | 'next' | 'tasks'> | null; run: StepRun | null }> {
  const r = await q.query<{ existing: Pick<CheckpointRow, 'checkpoint_id' | 'step' | 'next' | 'tasks'> | null; run: StepRun | null }>(
    `SELECT
       (SELECT jsonb_build_object('checkpoint_id', checkpoint_id, 'step', step, 'next', next, 'tasks', tasks)
        FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $2) AS existing,
       (SELECT jsonb_build_object('status', status, 'metadata', metadata) FROM runs WHERE run_id = $3::uuid) AS run`,
    [threadId, checkpointId, runId],
  );
  return r.rows[0] ?? { existing: null, run: null };
}

export interface StepRun {
  status: string;
  metadata: Record<string, unknown>;
}

/**
 * A new checkpoint that becomes the thread's head, in one statement (the caller holds the thread's lock), with the
 * `earlier` checkpoints of its chain (they build on each other; none becomes the head); with `events`, the run's
 * events for the steps are appended and announced in it too.
 */
export async function insertHeadCheckpoint(
  q: Queryable,
  c: NewCheckpoint,
  head: { values: StateValues; interrupts: Record<string, Interrupt[]> },
  events?: { runId: string; events: NewEvent[] },
  earlier: NewCheckpoint[] = [],
): Promise<void> {
  const appends = events && events.events.length > 0;
  const ins = checkpointInsert([...earlier, c], appends ? 9 : 5);
  await q.query(
    `WITH ins AS (${ins.sql}),
     head AS (
       UPDATE threads SET head_checkpoint_id = $2, values = $3::jsonb, interrupts = $4::jsonb, updated_at = now(), state_updated_at = now()
       WHERE thread_id = $1
     )${appends ? `, ${appendEventsCtes({ runId: '$5::uuid', count: '$6::int', events: '$7' })}` : ''}
     ${appends ? 'SELECT pg_notify($8, $5::text) FROM s' : 'SELECT 1'}`,
    [
      c.thread_id,
      c.checkpoint_id,
      JSON.stringify(head.values),
      JSON.stringify(head.interrupts),
      ...(appends ? [events.runId, events.events.length, eventsJson(events.events), EVENTS_CHANNEL] : []),
      ...ins.params,
    ],
  );
}

/** What a model turn reads before it calls the model, in one statement (these reads are outside any transaction). */
export interface ModelTurnReads {
  /** The turn's own checkpoint, when an earlier attempt already committed it. */
  done: Pick<CheckpointRow, 'checkpoint_id' | 'step' | 'next' | 'tasks'> | null;
  /** The thread's values when its head is still the turn's parent (null otherwise: read them at the parent). */
  parentValues: StateValues | null;
  /** The run's kwargs (its prompt and script live there); null when the run is gone. */
  kwargs: Record<string, unknown> | null;
}

export async function modelTurnReads(
  q: Queryable,
  a: { threadId: string; checkpointId: string; parentId: string; runId: string },
): Promise<ModelTurnReads> {
  const r = await q.query<{ done: ModelTurnReads['done']; parent_values: StateValues | null; kwargs: Record<string, unknown> | null }>(
    `SELECT
       (SELECT jsonb_build_object('checkpoint_id', checkpoint_id, 'step', step, 'next', next, 'tasks', tasks)
        FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $2) AS done,
       (SELECT values FROM threads WHERE thread_id = $1 AND head_checkpoint_id = $3) AS parent_values,
       (SELECT kwargs FROM runs WHERE run_id = $4) AS kwargs`,
    [a.threadId, a.checkpointId, a.parentId, a.runId],
  );
  const row = r.rows[0];
  return { done: row?.done ?? null, parentValues: row?.parent_values ?? null, kwargs: row?.kwargs ?? null };
}

/**
 * What a tool call reads before it runs, in one statement: whether its result is recorded already (a retry), and
 * the step of the checkpoint it belongs to (part of its idempotency key).
 */
export async function toolCallReads(
  q: Queryable,
  a: { threadId: string; checkpointId: string; taskId: string },
): Promise<{ done: boolean; step: number }> {
  const r = await q.query<{ done: boolean; step: number | null }>(
    `SELECT
       EXISTS (SELECT 1 FROM checkpoint_writes WHERE thread_id = $1 AND checkpoint_id = $2 AND task_id = $3 AND channel = 'messages') AS done,
       (SELECT step FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $2) AS step`,
    [a.threadId, a.checkpointId, a.taskId],
  );
  return { done: r.rows[0]?.done ?? false, step: r.rows[0]?.step ?? 0 };
}
