import { emptyHead, type HeadTask, type ThreadHead } from '../core/head.js';
import { StateBuilder, type ChannelWrites, type StateValues } from '../core/state.js';
import type { Queryable } from './pool.js';

export interface CheckpointRow {
  thread_id: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  checkpoint_ns: string;
  run_id: string | null;
  step: number;
  source: string;
  writes: ChannelWrites | null;
  next: string[];
  tasks: HeadTask[];
  metadata: Record<string, unknown>;
  created_at: string;
  seq: number;
}

export type NewCheckpoint = Omit<CheckpointRow, 'created_at' | 'seq' | 'checkpoint_ns'>;

const columns = `thread_id, checkpoint_id, parent_checkpoint_id, checkpoint_ns, run_id, step, source, writes, next, tasks,
  metadata, created_at, seq`;

/** The insert of new checkpoints, their parameters numbered from `$first`, 10 a row. */
export function checkpointInsert(rows: NewCheckpoint[], first = 1): { sql: string; params: unknown[] } {
  // The last four columns (writes, next, tasks, metadata) are JSON.
  const tuples = rows.map(
    (_, i) => `(${Array.from({ length: 10 }, (_, j) => `$${first + i * 10 + j}${j >= 6 ? '::jsonb' : ''}`).join(', ')})`,
  );
  return {
    sql: `INSERT INTO checkpoints (thread_id, checkpoint_id, parent_checkpoint_id, run_id, step, source, writes, next, tasks, metadata)
     VALUES ${tuples.join(', ')}
     ON CONFLICT (thread_id, checkpoint_id) DO NOTHING`,
    params: rows.flatMap((c) => [
      c.thread_id,
      c.checkpoint_id,
      c.parent_checkpoint_id,
      c.run_id,
      c.step,
      c.source,
      c.writes === null ? null : JSON.stringify(c.writes),
      JSON.stringify(c.next),
      JSON.stringify(c.tasks),
      JSON.stringify(c.metadata),
    ]),
  };
}

export async function getCheckpoint(q: Queryable, threadId: string, checkpointId: string): Promise<CheckpointRow | undefined> {
  const r = await q.query<CheckpointRow>(`SELECT ${columns} FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $2`, [
    threadId,
    checkpointId,
  ]);
  return r.rows[0];
}

export async function setCheckpointTasks(q: Queryable, threadId: string, checkpointId: string, tasks: HeadTask[]): Promise<void> {
  await q.query('UPDATE checkpoints SET tasks = $3::jsonb WHERE thread_id = $1 AND checkpoint_id = $2', [
    threadId,
    checkpointId,
    JSON.stringify(tasks),
  ]);
}

/** The checkpoint and its ancestors, oldest first. */
export async function chainTo(q: Queryable, threadId: string, checkpointId: string): Promise<CheckpointRow[]> {
  const r = await q.query<CheckpointRow & { depth: number }>(
    `WITH RECURSIVE chain AS (
       SELECT c.*, 0 AS depth FROM checkpoints c WHERE c.thread_id = $1 AND c.checkpoint_id = $2
       UNION ALL
       SELECT p.*, chain.depth + 1 FROM checkpoints p
         JOIN chain ON p.thread_id = chain.thread_id AND p.checkpoint_id = chain.parent_checkpoint_id
     )
     SELECT ${columns}, depth FROM chain ORDER BY depth DESC`,
    [threadId, checkpointId],
  );
  return r.rows;
}

export function foldChain(chain: CheckpointRow[]): StateValues {
  const b = new StateBuilder();
  for (const c of chain) b.apply(c.writes);
  return b.snapshot();
}

export async function valuesAt(q: Queryable, threadId: string, checkpointId: string | null): Promise<StateValues> {
  if (!checkpointId) return {};
  // The head's values are kept on the thread row (a run's final state is read there): folding from the root, one
  // row per step, is for older checkpoints.
  const atHead = await q.query<{ values: StateValues }>(
    'SELECT values FROM threads WHERE thread_id = $1 AND head_checkpoint_id = $2 AND values IS NOT NULL',
    [threadId, checkpointId],
  );
  if (atHead.rows[0]) return atHead.rows[0].values;
  return foldChain(await chainTo(q, threadId, checkpointId));
}

/**
 * Values at several checkpoints of one thread, sharing one read of the thread's checkpoints: history pages
 * need the state of each entry they list. The deepest wanted checkpoint is folded from the root once, taking
 * a snapshot at every wanted checkpoint on the way, so a linear thread costs one fold however long the page;
 * wanted checkpoints on other branches get a fold of their own.
 */
export async function valuesAtMany(q: Queryable, threadId: string, ids: string[]): Promise<Map<string, StateValues>> {
  const out = new Map<string, StateValues>();
  if (ids.length === 0) return out;
  const r = await q.query<Pick<CheckpointRow, 'checkpoint_id' | 'parent_checkpoint_id' | 'writes'>>(
    'SELECT checkpoint_id, parent_checkpoint_id, writes FROM checkpoints WHERE thread_id = $1',
    [threadId],
  );
  const byId = new Map(r.rows.map((c) => [c.checkpoint_id, c]));
  const chainOf = (id: string) => {
    const chain: (typeof r.rows)[number][] = [];
    for (let c = byId.get(id); c; c = c.parent_checkpoint_id ? byId.get(c.parent_checkpoint_id) : undefined) chain.push(c);
    return chain.reverse();
  };
  const wanted = new Set(ids.filter((id) => byId.has(id)));
  const chains = [...wanted].map(chainOf).sort((a, b) => b.length - a.length);
  for (const chain of chains) {
    if (out.has(chain.at(-1)!.checkpoint_id)) continue;
    const b = new StateBuilder();
    for (const c of chain) {
      b.apply(c.writes);
      if (wanted.has(c.checkpoint_id) && !out.has(c.checkpoint_id)) out.set(c.checkpoint_id, b.snapshot());
    }
  }
  for (const id of ids) if (!out.has(id)) out.set(id, {});
  return out;
}

export interface HistoryFilter {
  limit: number;
  /** Only checkpoints older than this one. */
  beforeCheckpointId?: string;
  /** Containment filter on checkpoint metadata. */
  metadata?: Record<string, unknown>;
  /** Only this checkpoint (LangGraph's list(config) with a checkpoint_id in the config). */
  checkpointId?: string;
}

export async function listCheckpoints(q: Queryable, threadId: string, f: HistoryFilter): Promise<CheckpointRow[]> {
  const params: unknown[] = [threadId, f.limit];
  const where = ['thread_id = $1'];
  if (f.beforeCheckpointId) {
    params.push(f.beforeCheckpointId);
    where.push(`seq < COALESCE((SELECT seq FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $${params.length}), 0)`);
  }
  if (f.metadata && Object.keys(f.metadata).length) {
    params.push(JSON.stringify(f.metadata));
    where.push(`metadata @> $${params.length}::jsonb`);
  }
  if (f.checkpointId) {
    params.push(f.checkpointId);
    where.push(`checkpoint_id = $${params.length}`);
  }
  const r = await q.query<CheckpointRow>(
    `SELECT ${columns} FROM checkpoints WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT $2`,
    params,
  );
  return r.rows;
}

/** The columns of a checkpoint that make a thread head. */
export type HeadRow = Pick<CheckpointRow, 'checkpoint_id' | 'step' | 'next' | 'tasks'>;

export const headOf = (c: HeadRow): ThreadHead => ({
  checkpointId: c.checkpoint_id,
  step: c.step,
  next: c.next,
  tasks: c.tasks,
});

/** SQL for the head checkpoint of the thread row aliased `t`, as one JSON value (null when it has none): read it with headOrEmpty. */
export const headJson = (t: string) =>
  `(SELECT jsonb_build_object('checkpoint_id', c.checkpoint_id, 'step', c.step, 'next', c.next, 'tasks', c.tasks)
    FROM checkpoints c WHERE c.thread_id = ${t}.thread_id AND c.checkpoint_id = ${t}.head_checkpoint_id)`;

export const headOrEmpty = (row: HeadRow | null | undefined): ThreadHead => (row ? headOf(row) : emptyHead());

/** The thread head as stored: what a freshly started thread workflow begins from. */
export async function readHead(q: Queryable, threadId: string): Promise<ThreadHead> {
  const r = await q.query<CheckpointRow>(
    `SELECT c.checkpoint_id, c.step, c.next, c.tasks FROM threads t
     JOIN checkpoints c ON c.thread_id = t.thread_id AND c.checkpoint_id = t.head_checkpoint_id WHERE t.thread_id = $1`,
    [threadId],
  );
  return r.rows[0] ? headOf(r.rows[0]) : emptyHead();
}

/** What starting a thread's workflow needs: its head, and whether runs are pending or running. */
export interface ThreadStart {
  head: ThreadHead;
  active: boolean;
}

/** The thread's head and whether it has pending or running runs, in one read (what starting its workflow needs). */
export async function readHeadAndActivity(q: Queryable, threadId: string): Promise<ThreadStart> {
  const r = await q.query<CheckpointRow & { active: boolean }>(
    `SELECT c.checkpoint_id, c.step, c.next, c.tasks,
       EXISTS (SELECT 1 FROM runs WHERE thread_id = $1 AND status IN ('pending', 'running')) AS active
     FROM (SELECT 1) AS one
     LEFT JOIN threads t ON t.thread_id = $1
     LEFT JOIN checkpoints c ON c.thread_id = t.thread_id AND c.checkpoint_id = t.head_checkpoint_id`,
    [threadId],
  );
  const row = r.rows[0];
  return { head: row?.checkpoint_id ? headOf(row) : emptyHead(), active: row?.active ?? false };
}

export async function checkpointExists(q: Queryable, threadId: string, checkpointId: string): Promise<boolean> {
  const r = await q.query('SELECT 1 FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $2', [threadId, checkpointId]);
  return r.rowCount > 0;
}

export async function mergeCheckpointMetadata(
  q: Queryable,
  threadId: string,
  checkpointId: string,
  patch: Record<string, unknown>,
): Promise<boolean> {
  const r = await q.query('UPDATE checkpoints SET metadata = metadata || $3::jsonb WHERE thread_id = $1 AND checkpoint_id = $2', [
    threadId,
    checkpointId,
    JSON.stringify(patch),
  ]);
  return r.rowCount > 0;
}

/**
 * Copies every checkpoint and pending write of one thread to another, keeping checkpoint ids (so parent links
 * and task ids stay valid) and rewriting the thread id, in the metadata too. Ordered by seq, so the copy's
 * history lists in the same order. The run_id column is left empty: the runs stay with the source, and a
 * rollback there deletes checkpoints by run_id, which must never reach into the copy (metadata keeps run_id).
 */
export async function copyCheckpoints(q: Queryable, fromThreadId: string, toThreadId: string): Promise<void> {
  await q.query(
    `INSERT INTO checkpoints (thread_id, checkpoint_id, parent_checkpoint_id, checkpoint_ns, run_id, step, source, writes, next, tasks, metadata, created_at)
     SELECT $2::uuid, checkpoint_id, parent_checkpoint_id, checkpoint_ns, NULL, step, source, writes, next, tasks,
       CASE WHEN metadata ? 'thread_id' THEN jsonb_set(metadata, '{thread_id}', to_jsonb($3::text)) ELSE metadata END, created_at
     FROM checkpoints WHERE thread_id = $1 ORDER BY seq`,
    // The new id goes in twice: one parameter cannot be both the uuid column and the text in the metadata.
    [fromThreadId, toThreadId, toThreadId],
  );
  await q.query(
    `INSERT INTO checkpoint_writes (thread_id, checkpoint_id, task_id, channel, value, created_at)
     SELECT $2, checkpoint_id, task_id, channel, value, created_at FROM checkpoint_writes WHERE thread_id = $1`,
    [fromThreadId, toThreadId],
  );
}

/**
 * Drops every checkpoint but the head. Checkpoints hold deltas, so the head first takes the full materialized
 * values as its writes and loses its parent: it becomes a root that folds to the same state. Run it in the
 * transaction that locked the thread, so no step commits in between.
 */
export async function collapseToHead(q: Queryable, threadId: string, headId: string | null): Promise<void> {
  if (headId) {
    const values = await valuesAt(q, threadId, headId);
    await q.query('UPDATE checkpoints SET writes = $3::jsonb, parent_checkpoint_id = NULL WHERE thread_id = $1 AND checkpoint_id = $2', [
      threadId,
      headId,
      JSON.stringify(values),
    ]);
  }
  await q.query('DELETE FROM checkpoint_writes WHERE thread_id = $1 AND checkpoint_id IS DISTINCT FROM $2::uuid', [threadId, headId]);
  await q.query('DELETE FROM checkpoints WHERE thread_id = $1 AND checkpoint_id IS DISTINCT FROM $2::uuid', [threadId, headId]);
}

// ---------------------------------------------------------------- pending writes

export async function putPendingWrite(
  q: Queryable,
  threadId: string,
  checkpointId: string,
  taskId: string,
  channel: string,
  value: unknown,
): Promise<void> {
  await q.query(
    `INSERT INTO checkpoint_writes (thread_id, checkpoint_id, task_id, channel, value) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (thread_id, checkpoint_id, task_id, channel) DO NOTHING`,
    [threadId, checkpointId, taskId, channel, JSON.stringify(value)],
  );
}

export async function getPendingWrites(
  q: Queryable,
  threadId: string,
  checkpointId: string,
): Promise<{ task_id: string; channel: string; value: unknown }[]> {
  const r = await q.query<{ task_id: string; channel: string; value: unknown }>(
    'SELECT task_id, channel, value FROM checkpoint_writes WHERE thread_id = $1 AND checkpoint_id = $2 ORDER BY created_at',
    [threadId, checkpointId],
  );
  return r.rows;
}

/** A rolled-back run's checkpoints and their pending writes, on this thread only (copies keep theirs). */
export async function deleteRunCheckpoints(q: Queryable, threadId: string, runId: string): Promise<void> {
  await q.query(
    'DELETE FROM checkpoint_writes WHERE thread_id = $1 AND checkpoint_id IN (SELECT checkpoint_id FROM checkpoints WHERE thread_id = $1 AND run_id = $2)',
    [threadId, runId],
  );
  await q.query('DELETE FROM checkpoints WHERE thread_id = $1 AND run_id = $2', [threadId, runId]);
}
