import type { Queryable } from '../../db/pool.js';

/**
 * Every place a thread could have left a value, as one text to search: checkpoints, pending writes, thread values,
 * runs, run requests, guardrail records and run events. Redaction tests assert an original value is absent here.
 */
export async function storedText(db: Queryable, threadId: string): Promise<string> {
  const parts = await Promise.all(
    ['checkpoints', 'checkpoint_writes', 'threads', 'runs', 'run_requests', 'guardrail_events'].map((t) =>
      db.query<{ t: string }>(`SELECT coalesce(string_agg(x::text, ' '), '') AS t FROM ${t} x WHERE x.thread_id = $1`, [threadId]),
    ),
  );
  const events = await db.query<{ t: string }>(
    `SELECT coalesce(string_agg(e.data::text, ' '), '') AS t FROM run_events e JOIN runs r USING (run_id) WHERE r.thread_id = $1`,
    [threadId],
  );
  return [...parts, events].map((r) => r.rows[0]!.t).join(' ');
}
