import type { Queryable } from './pool.js';
import type { AuthFilter } from '../core/auth/filter.js';
import { authFilterSql } from './auth-filter.js';

// Crons and their fires. A cron row is the source of truth for its Temporal Schedule (api/crons/schedule.ts).

export const CronSync = { creating: 'creating', updating: 'updating', deleting: 'deleting', synced: 'synced' } as const;
export type CronSync = (typeof CronSync)[keyof typeof CronSync];

export interface CronRow {
  cron_id: string;
  assistant_id: string;
  thread_id: string | null;
  user_id: string | null;
  schedule: string;
  timezone: string | null;
  end_time: string | null;
  enabled: boolean;
  on_run_completed: 'delete' | 'keep' | null;
  payload: Record<string, unknown>;
  metadata: Record<string, unknown>;
  next_run_date: string | null;
  created_at: string;
  updated_at: string;
}

export type CronState = CronRow & { sync: CronSync; revision: number };

const columns = `cron_id, assistant_id, thread_id, user_id, schedule, timezone, end_time, enabled, on_run_completed, payload, metadata,
  next_run_date, created_at, updated_at`;

/** The fields a create sets and a patch may change. */
export type CronFields = Pick<CronRow, 'schedule' | 'timezone' | 'end_time' | 'enabled' | 'on_run_completed' | 'payload' | 'metadata'>;

export async function insertCron(
  q: Queryable,
  c: CronFields & Pick<CronRow, 'cron_id' | 'assistant_id' | 'thread_id' | 'user_id'>,
): Promise<CronState> {
  const r = await q.query<CronState>(
    `INSERT INTO crons (cron_id, assistant_id, thread_id, user_id, schedule, timezone, end_time, enabled, on_run_completed, payload, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb) RETURNING ${columns}, sync, revision`,
    [
      c.cron_id,
      c.assistant_id,
      c.thread_id,
      c.user_id,
      c.schedule,
      c.timezone,
      c.end_time,
      c.enabled,
      c.on_run_completed,
      JSON.stringify(c.payload),
      JSON.stringify(c.metadata),
    ],
  );
  return r.rows[0]!;
}

export async function getCron(q: Queryable, cronId: string): Promise<CronState | undefined> {
  const r = await q.query<CronState>(`SELECT ${columns}, sync, revision FROM crons WHERE cron_id = $1`, [cronId]);
  return r.rows[0];
}

/**
 * Replaces the changeable fields and marks the row as ahead of its Schedule until markCronSynced. Undoing a
 * failed patch passes the old `updated_at`, so the row reads exactly as before.
 */
export async function updateCronFields(
  q: Queryable,
  cronId: string,
  f: CronFields,
  sync: CronSync,
  updatedAt?: string,
): Promise<CronState | undefined> {
  const r = await q.query<CronState>(
    `UPDATE crons SET schedule = $2, timezone = $3, end_time = $4, enabled = $5, on_run_completed = $6, payload = $7::jsonb,
       metadata = $8::jsonb, sync = $9, revision = revision + 1, updated_at = COALESCE($10::timestamptz, now())
     WHERE cron_id = $1 RETURNING ${columns}, sync, revision`,
    [
      cronId,
      f.schedule,
      f.timezone,
      f.end_time,
      f.enabled,
      f.on_run_completed,
      JSON.stringify(f.payload),
      JSON.stringify(f.metadata),
      sync,
      updatedAt ?? null,
    ],
  );
  return r.rows[0];
}

export async function setCronSync(q: Queryable, cronId: string, sync: CronSync): Promise<void> {
  await q.query('UPDATE crons SET sync = $2, updated_at = now() WHERE cron_id = $1', [cronId, sync]);
}

/**
 * The Schedule matches this revision of the row; `next_run_date` is what Temporal reported for it. A row changed
 * meanwhile stays marked, for the newer change (or reconciliation) to push. Returns the row either way.
 */
export async function markCronSynced(
  q: Queryable,
  cronId: string,
  revision: number,
  nextRunDate: Date | null,
): Promise<CronRow | undefined> {
  await q.query(`UPDATE crons SET sync = 'synced', next_run_date = $3 WHERE cron_id = $1 AND revision = $2`, [
    cronId,
    revision,
    nextRunDate?.toISOString() ?? null,
  ]);
  const r = await q.query<CronRow>(`SELECT ${columns} FROM crons WHERE cron_id = $1`, [cronId]);
  return r.rows[0];
}

export async function setNextRunDate(q: Queryable, cronId: string, nextRunDate: Date | null): Promise<void> {
  await q.query('UPDATE crons SET next_run_date = $2 WHERE cron_id = $1', [cronId, nextRunDate?.toISOString() ?? null]);
}

export async function deleteCronRow(q: Queryable, cronId: string): Promise<boolean> {
  const r = await q.query('DELETE FROM crons WHERE cron_id = $1', [cronId]);
  return r.rowCount > 0;
}

/** Crons bound to a thread or made for an assistant: the ones deleting it takes along. */
export async function cronIdsOf(q: Queryable, owner: { threadId?: string; assistantId?: string }): Promise<string[]> {
  const r = await q.query<{ cron_id: string }>(
    'SELECT cron_id FROM crons WHERE ($1::uuid IS NOT NULL AND thread_id = $1) OR ($2::uuid IS NOT NULL AND assistant_id = $2)',
    [owner.threadId ?? null, owner.assistantId ?? null],
  );
  return r.rows.map((c) => c.cron_id);
}

/** Rows a change left half done, untouched for longer than the grace a change in flight needs. */
export async function unsyncedCrons(q: Queryable, graceMs: number): Promise<CronState[]> {
  const r = await q.query<CronState>(
    `SELECT ${columns}, sync, revision FROM crons WHERE sync <> 'synced' AND updated_at < now() - $1 * interval '1 millisecond' ORDER BY updated_at LIMIT 500`,
    [graceMs],
  );
  return r.rows;
}

export async function allCronIds(q: Queryable): Promise<Set<string>> {
  const r = await q.query<{ cron_id: string }>('SELECT cron_id FROM crons');
  return new Set(r.rows.map((c) => c.cron_id));
}

// ---------------------------------------------------------------- search

export const cronSortColumns = ['cron_id', 'assistant_id', 'thread_id', 'next_run_date', 'end_time', 'created_at', 'updated_at'] as const;
export type CronSortColumn = (typeof cronSortColumns)[number];

export interface CronFilter {
  /** An authorization filter: rows that fail it do not exist for the caller. */
  authFilter?: AuthFilter;
  assistantId?: string;
  threadId?: string;
  enabled?: boolean;
  metadata?: Record<string, unknown>;
}

function filterClause(f: CronFilter, params: unknown[]): string {
  const where = ["sync <> 'deleting'"];
  if (f.assistantId) where.push(`assistant_id = $${params.push(f.assistantId)}`);
  if (f.threadId) where.push(`thread_id = $${params.push(f.threadId)}`);
  if (f.enabled !== undefined) where.push(`enabled = $${params.push(f.enabled)}`);
  if (f.metadata && Object.keys(f.metadata).length) where.push(`metadata @> $${params.push(JSON.stringify(f.metadata))}::jsonb`);
  where.push(...authFilterSql(f.authFilter, params));
  return `WHERE ${where.join(' AND ')}`;
}

export async function searchCrons(
  q: Queryable,
  s: CronFilter & { sortBy: CronSortColumn; sortOrder: 'asc' | 'desc'; limit: number; offset: number },
): Promise<CronRow[]> {
  const params: unknown[] = [];
  const where = filterClause(s, params);
  // Only whitelisted column names reach the SQL text; cron_id breaks ties so pages never overlap.
  const column = cronSortColumns.includes(s.sortBy) ? s.sortBy : 'created_at';
  const order = s.sortOrder === 'asc' ? 'ASC' : 'DESC';
  const r = await q.query<CronRow>(
    `SELECT ${columns} FROM crons ${where} ORDER BY ${column} ${order} NULLS LAST, cron_id ${order}
     LIMIT $${params.push(s.limit)} OFFSET $${params.push(s.offset)}`,
    params,
  );
  return r.rows;
}

export async function countCrons(q: Queryable, f: CronFilter): Promise<number> {
  const params: unknown[] = [];
  const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM crons ${filterClause(f, params)}`, params);
  return r.rows[0]?.n ?? 0;
}

// ---------------------------------------------------------------- fires

export interface CronFireRow {
  cron_id: string;
  scheduled_at: string;
  run_id: string | null;
  thread_id: string | null;
  error: string | null;
}

export async function getCronFire(q: Queryable, cronId: string, scheduledAt: string): Promise<CronFireRow | undefined> {
  const r = await q.query<CronFireRow>(
    'SELECT cron_id, scheduled_at, run_id, thread_id, error FROM cron_fires WHERE cron_id = $1 AND scheduled_at = $2',
    [cronId, scheduledAt],
  );
  return r.rows[0];
}

/** Records a fire once; a repeat keeps the first record, and a cron deleted meanwhile gets none. */
export async function recordCronFire(
  q: Queryable,
  f: { cronId: string; scheduledAt: string; runId: string | null; threadId: string | null; error: string | null },
): Promise<void> {
  await q.query(
    `INSERT INTO cron_fires (cron_id, scheduled_at, run_id, thread_id, error)
     SELECT $1::uuid, $2::timestamptz, $3::uuid, $4::uuid, $5::text WHERE EXISTS (SELECT 1 FROM crons WHERE cron_id = $1)
     ON CONFLICT (cron_id, scheduled_at) DO NOTHING`,
    [f.cronId, f.scheduledAt, f.runId, f.threadId, f.error],
  );
}

export async function listCronFires(q: Queryable, cronId: string): Promise<CronFireRow[]> {
  const r = await q.query<CronFireRow>(
    'SELECT cron_id, scheduled_at, run_id, thread_id, error FROM cron_fires WHERE cron_id = $1 ORDER BY scheduled_at',
    [cronId],
  );
  return r.rows;
}
