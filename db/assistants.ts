import { createHash } from 'node:crypto';
import type { Queryable } from './pool.js';
import type { AuthFilter } from '../core/auth/filter.js';
import { authFilterSql } from './auth-filter.js';

export interface AssistantRow {
  assistant_id: string;
  graph_id: string;
  config: { tags?: string[]; recursion_limit?: number; configurable?: Record<string, unknown> } & Record<string, unknown>;
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
  version: number;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export type AssistantVersionRow = Omit<AssistantRow, 'updated_at'>;

export const assistantColumns = 'assistant_id, graph_id, config, context, metadata, version, name, description, created_at, updated_at';
const versionColumns = 'assistant_id, version, graph_id, config, context, metadata, name, description, created_at';

// The namespace both reference servers derive system assistant ids from, so ids match theirs.
const GRAPH_NAMESPACE = '6ba7b821-9dad-11d1-80b4-00c04fd430c8';

export function systemAssistantId(graphId: string): string {
  const ns = Buffer.from(GRAPH_NAMESPACE.replace(/-/g, ''), 'hex');
  const h = createHash('sha1')
    .update(Buffer.concat([ns, Buffer.from(graphId)]))
    .digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export async function getAssistant(q: Queryable, id: string): Promise<AssistantRow | undefined> {
  const r = await q.query<AssistantRow>(`SELECT ${assistantColumns} FROM assistants WHERE assistant_id = $1`, [id]);
  return r.rows[0];
}

/** Locks the assistant row for the rest of the transaction, so concurrent patches number versions one by one. */
export async function lockAssistant(q: Queryable, id: string): Promise<AssistantRow | undefined> {
  const r = await q.query<AssistantRow>(`SELECT ${assistantColumns} FROM assistants WHERE assistant_id = $1 FOR UPDATE`, [id]);
  return r.rows[0];
}

export interface NewAssistant {
  assistant_id: string;
  graph_id: string;
  config: Record<string, unknown>;
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
  name: string;
  description: string | null;
}

/** Inserts version 1 of an assistant; returns undefined when the id is taken. */
export async function insertAssistant(q: Queryable, a: NewAssistant): Promise<AssistantRow | undefined> {
  const r = await q.query<AssistantRow>(
    `INSERT INTO assistants (assistant_id, graph_id, config, context, metadata, name, description)
     VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6, $7) ON CONFLICT (assistant_id) DO NOTHING RETURNING ${assistantColumns}`,
    [a.assistant_id, a.graph_id, JSON.stringify(a.config), JSON.stringify(a.context), JSON.stringify(a.metadata), a.name, a.description],
  );
  if (r.rows[0]) await insertVersion(q, r.rows[0]);
  return r.rows[0];
}

async function insertVersion(q: Queryable, a: AssistantRow): Promise<void> {
  await q.query(
    `INSERT INTO assistant_versions (assistant_id, version, graph_id, config, context, metadata, name, description)
     VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8) ON CONFLICT DO NOTHING`,
    [
      a.assistant_id,
      a.version,
      a.graph_id,
      JSON.stringify(a.config),
      JSON.stringify(a.context),
      JSON.stringify(a.metadata),
      a.name,
      a.description,
    ],
  );
}

/** Every patch is a new version that becomes the current one. Call inside a transaction. */
export async function updateAssistant(
  q: Queryable,
  id: string,
  next: Omit<NewAssistant, 'assistant_id'>,
): Promise<AssistantRow | undefined> {
  const r = await q.query<AssistantRow>(
    `UPDATE assistants SET graph_id = $2, config = $3::jsonb, context = $4::jsonb, metadata = $5::jsonb, name = $6, description = $7,
       version = (SELECT COALESCE(max(version), 0) + 1 FROM assistant_versions WHERE assistant_id = $1), updated_at = now()
     WHERE assistant_id = $1 RETURNING ${assistantColumns}`,
    [
      id,
      next.graph_id,
      JSON.stringify(next.config),
      JSON.stringify(next.context),
      JSON.stringify(next.metadata),
      next.name,
      next.description,
    ],
  );
  if (r.rows[0]) await insertVersion(q, r.rows[0]);
  return r.rows[0];
}

export async function setLatestVersion(q: Queryable, id: string, version: number): Promise<AssistantRow | undefined> {
  const r = await q.query<AssistantRow>(
    `UPDATE assistants a SET graph_id = v.graph_id, config = v.config, context = v.context, metadata = v.metadata, name = v.name,
       description = v.description, version = v.version, updated_at = now()
     FROM assistant_versions v WHERE a.assistant_id = $1 AND v.assistant_id = $1 AND v.version = $2
     RETURNING ${assistantColumns
       .split(', ')
       .map((c) => `a.${c}`)
       .join(', ')}`,
    [id, version],
  );
  return r.rows[0];
}

export async function listVersions(
  q: Queryable,
  id: string,
  f: { metadata?: Record<string, unknown>; limit: number; offset: number },
): Promise<AssistantVersionRow[]> {
  const r = await q.query<AssistantVersionRow>(
    `SELECT ${versionColumns} FROM assistant_versions WHERE assistant_id = $1 AND metadata @> $2::jsonb ORDER BY version DESC LIMIT $3 OFFSET $4`,
    [id, JSON.stringify(f.metadata ?? {}), f.limit, f.offset],
  );
  return r.rows;
}

export async function deleteAssistant(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query('DELETE FROM assistants WHERE assistant_id = $1', [id]);
  return r.rowCount > 0;
}

/** Threads a run of this assistant stamped (`metadata.assistant_id`): the ones `delete_threads` removes. */
export async function threadIdsOfAssistant(q: Queryable, id: string): Promise<string[]> {
  const r = await q.query<{ thread_id: string }>('SELECT thread_id FROM threads WHERE metadata @> $1::jsonb', [
    JSON.stringify({ assistant_id: id }),
  ]);
  return r.rows.map((t) => t.thread_id);
}

export interface AssistantFilter {
  /** An authorization filter: rows that fail it do not exist for the caller. */
  authFilter?: AuthFilter;
  graph_id?: string;
  name?: string;
  metadata?: Record<string, unknown>;
}

function filterSql(f: AssistantFilter, params: unknown[]): string {
  const where = ['metadata @> $1::jsonb'];
  params.push(JSON.stringify(f.metadata ?? {}));
  where.push(...authFilterSql(f.authFilter, params));
  if (f.graph_id) where.push(`graph_id = $${params.push(f.graph_id)}`);
  if (f.name) where.push(`name ILIKE $${params.push(`%${f.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
  return where.join(' AND ');
}

export const assistantSortColumns = ['assistant_id', 'graph_id', 'name', 'created_at', 'updated_at'] as const;

export async function searchAssistants(
  q: Queryable,
  f: AssistantFilter & { limit: number; offset: number; sort_by: (typeof assistantSortColumns)[number]; sort_order: 'asc' | 'desc' },
): Promise<{ rows: AssistantRow[]; total: number }> {
  const params: unknown[] = [];
  const where = filterSql(f, params);
  const total = await countAssistants(q, f);
  const r = await q.query<AssistantRow>(
    `SELECT ${assistantColumns} FROM assistants WHERE ${where} ORDER BY ${f.sort_by} ${f.sort_order === 'asc' ? 'ASC' : 'DESC'}, assistant_id
     LIMIT $${params.push(f.limit)} OFFSET $${params.push(f.offset)}`,
    params,
  );
  return { rows: r.rows, total };
}

export async function countAssistants(q: Queryable, f: AssistantFilter): Promise<number> {
  const params: unknown[] = [];
  const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM assistants WHERE ${filterSql(f, params)}`, params);
  return r.rows[0]?.n ?? 0;
}
