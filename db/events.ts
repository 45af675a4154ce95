import type { StateValues } from '../core/state.js';
import type { Queryable } from './pool.js';

// The per-run event log behind SSE. Ids are allocated from runs.last_event_seq under the run row's lock, so
// concurrent writers (the model activity, parallel tools) get gap-free ids in commit order. One NOTIFY per
// append carries only the run id; listeners read what is new from the table.

export const EVENTS_CHANNEL = 'run_events';
/**
 * NOTIFY payload: a run id whose log just got its end marker (sent besides the EVENTS_CHANNEL one). A wait needs
 * only this, not a read of the marker after every append.
 */
export const RUN_ENDS_CHANNEL = 'run_ends';
/** NOTIFY payload: a thread id whose run list changed (a run was admitted). */
export const THREAD_RUNS_CHANNEL = 'thread_runs';
export const END_EVENT = '__end__';

export interface RunEvent {
  seq: number;
  event: string;
  data: unknown;
}

export interface NewEvent {
  event: string;
  data: unknown;
}

/**
 * The CTEs that append a JSON array of events to a run's log, for a statement that does more besides: `s` holds the
 * run's new last id (no row when the run is gone, or with `onlyIfEmpty` when its log has events already); `alsoSet`
 * changes more of the run's row in the same update. The caller's statement ends with `pg_notify` FROM s.
 */
export function appendEventsCtes(p: { runId: string; count: string; events: string; onlyIfEmpty?: boolean; alsoSet?: string }): string {
  const guard = p.onlyIfEmpty ? ' AND last_event_seq = -1' : '';
  const set = p.alsoSet ? `, ${p.alsoSet}` : '';
  return `s AS (UPDATE runs SET last_event_seq = last_event_seq + ${p.count}${set} WHERE run_id = ${p.runId}${guard} RETURNING last_event_seq),
     ins_events AS (
       INSERT INTO run_events (run_id, seq, event, data)
       SELECT ${p.runId}, s.last_event_seq - ${p.count} + t.ord::int, t.x->>'event', t.x->'data'
       FROM s, jsonb_array_elements(${p.events}::jsonb) WITH ORDINALITY AS t(x, ord)
     )`;
}

export const eventsJson = (events: NewEvent[]) => JSON.stringify(events.map((e) => ({ event: e.event, data: e.data ?? null })));

/** Appends events and returns the last id, or null when the run no longer exists (deleted or rolled back). */
export async function appendEvents(q: Queryable, runId: string, events: NewEvent[]): Promise<number | null> {
  if (events.length === 0) return null;
  const ends = events.some((e) => e.event === END_EVENT);
  const r = await q.query<{ last_event_seq: number }>(
    `WITH ${appendEventsCtes({ runId: '$1', count: '$2', events: '$3' })}
     SELECT last_event_seq, pg_notify($4, $1::text)${ends ? ', pg_notify($5, $1::text)' : ''} FROM s`,
    [runId, events.length, eventsJson(events), EVENTS_CHANNEL, ...(ends ? [RUN_ENDS_CHANNEL] : [])],
  );
  // The notification goes out in the same statement (one round trip), and only when the run exists.
  return r.rows[0]?.last_event_seq ?? null;
}

export async function readEvents(q: Queryable, runId: string, afterSeq: number, limit = 500): Promise<RunEvent[]> {
  const r = await q.query<RunEvent>('SELECT seq, event, data FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [
    runId,
    afterSeq,
    limit,
  ]);
  return r.rows;
}

/** Which of these message ids have `messages` (tuple) events in the run's log. */
export async function streamedMessageIds(q: Queryable, runId: string, messageIds: string[]): Promise<string[]> {
  if (messageIds.length === 0) return [];
  const r = await q.query<{ id: string }>(
    `SELECT DISTINCT data->0->>'id' AS id FROM run_events WHERE run_id = $1 AND event = 'messages' AND data->0->>'id' = ANY($2::text[])`,
    [runId, messageIds],
  );
  return messageIds.filter((id) => r.rows.some((row) => row.id === id));
}

// The end marker of the run row aliased `r` ($2: END_EVENT), or null while it runs. Every path that writes the marker
// sets ended_at in the same transaction: a live run costs one key lookup, not a walk back through all its events.
const endMarkerOf = `CASE WHEN r.ended_at IS NOT NULL THEN
  (SELECT data FROM run_events e WHERE e.run_id = r.run_id AND e.event = $2 ORDER BY seq DESC LIMIT 1) END`;

/**
 * How a run ended, as its end marker says: `exists` false when the run is gone (deleted, rolled back), `end` null
 * while it runs. One small read, for followers that want only the outcome (wait, join), not every event.
 */
export async function runEndMarker(q: Queryable, runId: string): Promise<{ exists: boolean; end: unknown }> {
  const r = await q.query<{ end: unknown }>(
    `SELECT ${endMarkerOf} AS end
     FROM runs r WHERE r.run_id = $1`,
    [runId, END_EVENT],
  );
  const row = r.rows[0];
  return row ? { exists: true, end: row.end ?? null } : { exists: false, end: null };
}

/**
 * runEndMarker, and with it the values wait and join answer, in one statement: when the run ended at a checkpoint
 * that is still the thread's head, its values are those kept on the thread row (as valuesAt reads them). `values`
 * is undefined otherwise (another checkpoint is the head, or none is named): valuesAt folds those.
 */
export async function runOutcome(
  q: Queryable,
  runId: string,
  threadId: string,
): Promise<{ exists: boolean; end: unknown; values?: StateValues }> {
  const r = await q.query<{ end: unknown; values: StateValues | null }>(
    `SELECT m.end, t.values FROM runs r
     CROSS JOIN LATERAL (SELECT ${endMarkerOf} AS end) m
     LEFT JOIN threads t ON t.thread_id = $3 AND t.head_checkpoint_id::text = m.end->>'checkpoint_id'
     WHERE r.run_id = $1`,
    [runId, END_EVENT, threadId],
  );
  const row = r.rows[0];
  if (!row) return { exists: false, end: null };
  return { exists: true, end: row.end ?? null, ...(row.values ? { values: row.values } : {}) };
}

export async function lastEventSeq(q: Queryable, runId: string): Promise<number | null> {
  const r = await q.query<{ last_event_seq: number }>('SELECT last_event_seq FROM runs WHERE run_id = $1', [runId]);
  return r.rows[0]?.last_event_seq ?? null;
}

/**
 * Where a join of a run that was not stream_resumable starts. A live run: after its last event, so the joiner
 * sees what comes next. A run that has ended: before its final events (the last full `values`, then whatever
 * the end wrote, such as `error`) while they are kept, so the joiner learns how it ended and the stream closes.
 * Status and sequence are read in one statement: a run's end marker and its final status commit together.
 */
export async function liveJoinPoint(q: Queryable, runId: string): Promise<number | null> {
  const r = await q.query<{ last_event_seq: number; ended: boolean; final_from: number | null }>(
    `SELECT r.last_event_seq, r.ended_at IS NOT NULL AS ended,
       COALESCE(
         (SELECT max(seq) FROM run_events e WHERE e.run_id = r.run_id AND e.event = 'values' AND NOT (e.data ? '__interrupt__')),
         (SELECT min(seq) FROM run_events e WHERE e.run_id = r.run_id AND e.event IN ('values', 'error'))
       ) AS final_from
     FROM runs r WHERE r.run_id = $1`,
    [runId],
  );
  const row = r.rows[0];
  if (!row) return null;
  if (!row.ended) return row.last_event_seq;
  return (row.final_from ?? row.last_event_seq) - 1;
}

/** The stream mode an event belongs to, for filtering a join by stream_mode. */
export function modeOfEvent(event: string): string {
  if (event === 'messages') return 'messages-tuple';
  if (event.startsWith('messages/')) return 'messages';
  return event.split('|')[0]!;
}

/**
 * A run that was not stream_resumable cannot be replayed, so once it has ended its log is dropped after a grace
 * period; the metadata and end markers stay, as wait and join read the outcome from them.
 */
export async function pruneNonResumableEvents(q: Queryable, olderThanMinutes: number): Promise<number> {
  const r = await q.query(
    `DELETE FROM run_events e USING runs r
     WHERE e.run_id = r.run_id AND e.event NOT IN ('metadata', $1)
       AND NOT COALESCE((r.kwargs->>'resumable')::boolean, false)
       AND r.ended_at < now() - $2 * interval '1 minute'`,
    [END_EVENT, olderThanMinutes],
  );
  return r.rowCount;
}
