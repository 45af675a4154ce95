import type { StateValues } from '../core/state.js';
import type { ThreadStatus } from '../core/runs.js';
import type { Interrupt } from '../core/head.js';
import { headJson, headOrEmpty, type HeadRow, type ThreadStart } from './checkpoints.js';
import { RUN_ENDS_CHANNEL } from './events.js';
import type { Queryable } from './pool.js';
import type { AuthFilter } from '../core/auth/filter.js';
import { authFilterSql } from './auth-filter.js';

export interface ThreadRow {
  thread_id: string;
  created_at: string;
  updated_at: string;
  state_updated_at: string;
  metadata: Record<string, unknown>;
  status: ThreadStatus;
  values: StateValues | null;
  interrupts: Record<string, Interrupt[]>;
  config: Record<string, unknown>;
  error: unknown;
  head_checkpoint_id: string | null;
}

export const threadColumns = `thread_id, created_at, updated_at, state_updated_at, metadata, status, values, interrupts, config, error,
  head_checkpoint_id`;

export async function getThread(q: Queryable, threadId: string): Promise<ThreadRow | undefined> {
  const r = await q.query<ThreadRow>(`SELECT ${threadColumns} FROM threads WHERE thread_id = $1`, [threadId]);
  return r.rows[0];
}

/** getThread, and what starting its workflow needs, in one statement (a run's submission needs both). */
export async function getThreadAndStart(q: Queryable, threadId: string): Promise<{ thread: ThreadRow; start: ThreadStart } | undefined> {
  const r = await q.query<ThreadRow & { head: HeadRow | null; active: boolean }>(
    `SELECT ${threadColumns}, ${headJson('t')} AS head,
       EXISTS (SELECT 1 FROM runs r WHERE r.thread_id = t.thread_id AND r.status IN ('pending', 'running')) AS active
     FROM threads t WHERE t.thread_id = $1`,
    [threadId],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const { head, active, ...thread } = row;
  return { thread, start: { head: headOrEmpty(head), active } };
}

/** Locks the thread row for the rest of the transaction: every head move on a thread goes through here. */
export async function lockThread(q: Queryable, threadId: string): Promise<ThreadRow | undefined> {
  const r = await q.query<ThreadRow>(`SELECT ${threadColumns} FROM threads WHERE thread_id = $1 FOR UPDATE`, [threadId]);
  return r.rows[0];
}

export async function setThreadHead(
  q: Queryable,
  threadId: string,
  head: { checkpointId: string | null; values: StateValues | null; interrupts: Record<string, Interrupt[]> },
): Promise<void> {
  await q.query(
    `UPDATE threads SET head_checkpoint_id = $2, values = $3::jsonb, interrupts = $4::jsonb, updated_at = now(), state_updated_at = now()
     WHERE thread_id = $1`,
    [threadId, head.checkpointId, head.values === null ? null : JSON.stringify(head.values), JSON.stringify(head.interrupts)],
  );
}

export async function setThreadInterrupts(q: Queryable, threadId: string, interrupts: Record<string, Interrupt[]>): Promise<void> {
  await q.query('UPDATE threads SET interrupts = $2::jsonb, updated_at = now() WHERE thread_id = $1', [
    threadId,
    JSON.stringify(interrupts),
  ]);
}

export async function setThreadStatus(q: Queryable, threadId: string, status: ThreadStatus, error: unknown = null): Promise<void> {
  await q.query('UPDATE threads SET status = $2, error = $3::jsonb, updated_at = now() WHERE thread_id = $1', [
    threadId,
    status,
    error === null ? null : JSON.stringify(error),
  ]);
}

/** Sets the status only where the thread is still busy; returns whether it did. */
export async function setThreadStatusIfBusy(q: Queryable, threadId: string, status: ThreadStatus): Promise<boolean> {
  const r = await q.query(`UPDATE threads SET status = $2, error = NULL, updated_at = now() WHERE thread_id = $1 AND status = 'busy'`, [
    threadId,
    status,
  ]);
  return r.rowCount > 0;
}

export async function mergeThreadMetadata(q: Queryable, threadId: string, patch: Record<string, unknown>): Promise<void> {
  await q.query('UPDATE threads SET metadata = metadata || $2::jsonb, updated_at = now() WHERE thread_id = $1', [
    threadId,
    JSON.stringify(patch),
  ]);
}

/** Deletes a thread with everything under it; waits on its unfinished runs learn at once that they are gone. */
export async function deleteThreadRow(q: Queryable, threadId: string): Promise<boolean> {
  const r = await q.query(
    `DELETE FROM threads WHERE thread_id = $1
     RETURNING (SELECT count(pg_notify($2, run_id::text)) FROM runs WHERE thread_id = $1 AND ended_at IS NULL)`,
    [threadId, RUN_ENDS_CHANNEL],
  );
  return r.rowCount > 0;
}

/** Inserts a thread; returns undefined when the id exists already. */
export async function insertThread(
  q: Queryable,
  t: { thread_id: string; metadata: Record<string, unknown>; config?: Record<string, unknown> },
): Promise<ThreadRow | undefined> {
  const r = await q.query<ThreadRow>(
    `INSERT INTO threads (thread_id, metadata, config) VALUES ($1, $2::jsonb, $3::jsonb) ON CONFLICT (thread_id) DO NOTHING RETURNING ${threadColumns}`,
    [t.thread_id, JSON.stringify(t.metadata), JSON.stringify(t.config ?? {})],
  );
  return r.rows[0];
}

// ---------------------------------------------------------------- search, copy

export const threadSortColumns = ['thread_id', 'status', 'created_at', 'updated_at', 'state_updated_at'] as const;
export type ThreadSortColumn = (typeof threadSortColumns)[number];

export interface ThreadFilter {
  /** An authorization filter: rows that fail it do not exist for the caller. */
  authFilter?: AuthFilter;
  /** Containment filters: a thread matches when its jsonb holds every given key and value. */
  metadata?: Record<string, unknown>;
  values?: Record<string, unknown>;
  status?: ThreadStatus;
  ids?: string[];
}

export interface ThreadSearch extends ThreadFilter {
  sortBy: ThreadSortColumn;
  sortOrder: 'asc' | 'desc';
  limit: number;
  offset: number;
}

function filterClause(f: ThreadFilter, params: unknown[]): string {
  const where: string[] = [];
  // An empty containment filter matches everything, including threads whose values are still null.
  if (f.metadata && Object.keys(f.metadata).length) where.push(`metadata @> $${params.push(JSON.stringify(f.metadata))}::jsonb`);
  where.push(...authFilterSql(f.authFilter, params));
  if (f.values && Object.keys(f.values).length) where.push(`values @> $${params.push(JSON.stringify(f.values))}::jsonb`);
  if (f.status) where.push(`status = $${params.push(f.status)}`);
  if (f.ids) where.push(`thread_id = ANY($${params.push(f.ids)}::uuid[])`);
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

export async function searchThreads(q: Queryable, s: ThreadSearch): Promise<ThreadRow[]> {
  const params: unknown[] = [];
  const where = filterClause(s, params);
  // Only whitelisted column names reach the SQL text; thread_id breaks ties so pages never overlap.
  const column = threadSortColumns.includes(s.sortBy) ? s.sortBy : 'created_at';
  const order = s.sortOrder === 'asc' ? 'ASC' : 'DESC';
  const r = await q.query<ThreadRow>(
    `SELECT ${threadColumns} FROM threads ${where} ORDER BY ${column} ${order}, thread_id ${order}
     LIMIT $${params.push(s.limit)} OFFSET $${params.push(s.offset)}`,
    params,
  );
  return r.rows;
}

export async function countThreads(q: Queryable, f: ThreadFilter): Promise<number> {
  const params: unknown[] = [];
  const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM threads ${filterClause(f, params)}`, params);
  return r.rows[0]?.n ?? 0;
}

/**
 * A new idle thread holding the source's state (values, head and interrupts); metadata.thread_id names the copy.
 * Returns undefined when the source does not exist. Checkpoints are copied separately (db/checkpoints.ts).
 */
export async function insertThreadCopy(q: Queryable, sourceId: string, newId: string): Promise<ThreadRow | undefined> {
  const r = await q.query<ThreadRow>(
    `INSERT INTO threads (thread_id, metadata, status, values, head_checkpoint_id, interrupts, config)
     SELECT $2::uuid, metadata || jsonb_build_object('thread_id', $3::text), 'idle', values, head_checkpoint_id, interrupts, config
     FROM threads WHERE thread_id = $1
     RETURNING ${threadColumns}`,
    [sourceId, newId, newId],
  );
  return r.rows[0];
}

// ---------------------------------------------------------------- time to live

/** Minutes of disuse after which the sweeper deletes the thread; null keeps it. Counting restarts on each use. */
export async function setThreadTtl(q: Queryable, threadId: string, minutes: number | null): Promise<void> {
  await q.query('UPDATE threads SET ttl_minutes = $2, updated_at = now() WHERE thread_id = $1', [threadId, minutes]);
}

/** Threads past their time to live; a busy thread is never expired under a running run. */
export async function expiredThreadIds(q: Queryable, limit: number): Promise<string[]> {
  const r = await q.query<{ thread_id: string }>(
    `SELECT thread_id FROM threads
     WHERE ttl_minutes IS NOT NULL AND status <> 'busy' AND updated_at + ttl_minutes * interval '1 minute' < now()
     ORDER BY updated_at LIMIT $1`,
    [limit],
  );
  return r.rows.map((r) => r.thread_id);
}
