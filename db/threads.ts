import type { StateValues } from '../core/state.js';
import type { ThreadStatus } from '../core/runs.js';
import type { Interrupt } from '../core/head.js';
import type { Queryable } from './pool.js';

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
  await q.query('UPDATE threads SET interrupts = $2::jsonb, updated_at = now() WHERE thread_id = $1', [threadId, JSON.stringify(interrupts)]);
}

export async function setThreadStatus(q: Queryable, threadId: string, status: ThreadStatus, error: unknown = null): Promise<void> {
  await q.query('UPDATE threads SET status = $2, error = $3::jsonb, updated_at = now() WHERE thread_id = $1', [
    threadId,
    status,
    error === null ? null : JSON.stringify(error),
  ]);
}

export async function mergeThreadMetadata(q: Queryable, threadId: string, patch: Record<string, unknown>): Promise<void> {
  await q.query('UPDATE threads SET metadata = metadata || $2::jsonb, updated_at = now() WHERE thread_id = $1', [threadId, JSON.stringify(patch)]);
}

export async function deleteThreadRow(q: Queryable, threadId: string): Promise<boolean> {
  const r = await q.query('DELETE FROM threads WHERE thread_id = $1', [threadId]);
  return r.rowCount > 0;
}

/** Inserts a thread; returns undefined when the id exists already. */
export async function insertThread(q: Queryable, t: { thread_id: string; metadata: Record<string, unknown>; config?: Record<string, unknown> }): Promise<ThreadRow | undefined> {
  const r = await q.query<ThreadRow>(
    `INSERT INTO threads (thread_id, metadata, config) VALUES ($1, $2::jsonb, $3::jsonb) ON CONFLICT (thread_id) DO NOTHING RETURNING ${threadColumns}`,
    [t.thread_id, JSON.stringify(t.metadata), JSON.stringify(t.config ?? {})],
  );
  return r.rows[0];
}
