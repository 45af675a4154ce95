import type { Queryable } from './pool.js';

// Queries of the long-term store (tables in 002_store.sql). Batches travel as one JSON parameter expanded with
// jsonb_to_recordset, so a thousand items cost one round trip. Expired items are invisible to every read here.

export interface ItemRow {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  ttl_minutes: number | null;
  score?: number;
}

export interface ItemWrite {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  /** Minutes; null: never expires. */
  ttl: number | null;
}

export interface ItemKey {
  namespace: string[];
  key: string;
}

export interface VectorWrite extends ItemKey {
  field: string;
  embedding: number[];
}

/** `pgvector`: distances in the extension's C code; `real[]`: the exact dot product in plain SQL. */
export type VectorBackend = 'pgvector' | 'real[]';

export type FilterOp = '$eq' | '$ne' | '$gt' | '$gte' | '$lt' | '$lte';
export interface FilterCondition {
  path: string[];
  op: FilterOp;
  value: unknown;
}

export interface SearchSpec {
  prefix: string[];
  conditions: FilterCondition[];
  /** Labels the namespace must hold, anywhere (an authorization filter on `namespace`). */
  namespaceContains?: string[];
  limit: number;
  offset: number;
}

const LIVE = '(i.expires_at IS NULL OR i.expires_at > now())';
const ITEM_COLUMNS = 'i.namespace, i.key, i.value, i.created_at, i.updated_at, i.ttl_minutes';
const KEYS = 'jsonb_to_recordset($1::jsonb) AS r(namespace text[], key text)';

export async function vectorBackend(q: Queryable): Promise<VectorBackend> {
  const r = await q.query<{ present: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'store_vectors'::regclass AND attname = 'embedding_vec' AND NOT attisdropped) AS present`,
  );
  return r.rows[0]?.present ? 'pgvector' : 'real[]';
}

/** Inserts or replaces items. An expired item that is overwritten starts a new life (a new created_at). */
export async function upsertItems(q: Queryable, items: ItemWrite[]): Promise<void> {
  await q.query(
    `INSERT INTO store_items AS i (namespace, key, value, expires_at, ttl_minutes)
     SELECT r.namespace, r.key, r.value, now() + r.ttl * interval '1 minute', r.ttl
     FROM jsonb_to_recordset($1::jsonb) AS r(namespace text[], key text, value jsonb, ttl float8)
     ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
       ttl_minutes = excluded.ttl_minutes, updated_at = now(), created_at = CASE WHEN ${LIVE} THEN i.created_at ELSE now() END`,
    [JSON.stringify(items)],
  );
}

/** Replaces every vector of the given items with `vectors` (which may be empty: not indexed). */
export async function replaceVectors(
  q: Queryable,
  items: ItemKey[],
  vectors: VectorWrite[],
  model: string,
  backend: VectorBackend,
): Promise<void> {
  await q.query(`DELETE FROM store_vectors v USING ${KEYS} WHERE v.namespace = r.namespace AND v.key = r.key`, [keysJson(items)]);
  if (!vectors.length) return;
  const vec = backend === 'pgvector' ? ', embedding_vec' : '';
  const vecValue = backend === 'pgvector' ? ', r.embedding::vector' : '';
  await q.query(
    `INSERT INTO store_vectors (namespace, key, field, model, embedding${vec})
     SELECT r.namespace, r.key, r.field, $2, r.embedding${vecValue}
     FROM jsonb_to_recordset($1::jsonb) AS r(namespace text[], key text, field text, embedding real[])`,
    [JSON.stringify(vectors), model],
  );
}

export async function getItem(q: Queryable, namespace: string[], key: string): Promise<ItemRow | undefined> {
  const r = await q.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM store_items i WHERE i.namespace = $1 AND i.key = $2 AND ${LIVE}`, [
    namespace,
    key,
  ]);
  return r.rows[0];
}

/** Restarts the TTL clock of live items that have one. */
export async function refreshTtl(q: Queryable, items: ItemKey[]): Promise<void> {
  await q.query(
    `UPDATE store_items i SET expires_at = now() + i.ttl_minutes * interval '1 minute' FROM ${KEYS}
     WHERE i.namespace = r.namespace AND i.key = r.key AND i.ttl_minutes IS NOT NULL AND ${LIVE}`,
    [keysJson(items)],
  );
}

export async function deleteItem(q: Queryable, namespace: string[], key: string): Promise<boolean> {
  return (await q.query('DELETE FROM store_items WHERE namespace = $1 AND key = $2', [namespace, key])).rowCount > 0;
}

/** Deletes up to `batch` expired items (their vectors cascade); locked rows are left for the next round. */
export async function deleteExpired(q: Queryable, batch: number): Promise<number> {
  const r = await q.query(
    `DELETE FROM store_items WHERE (namespace, key) IN (
       SELECT namespace, key FROM store_items WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)`,
    [batch],
  );
  return r.rowCount;
}

/** Items under a prefix that pass the filter, most recently updated first. */
export async function searchItems(q: Queryable, s: SearchSpec): Promise<ItemRow[]> {
  const p = new Params();
  const r = await q.query<ItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM store_items i WHERE ${whereOf(s, p)}
     ORDER BY i.updated_at DESC, i.namespace, i.key LIMIT ${p.add(s.limit)} OFFSET ${p.add(s.offset)}`,
    p.values,
  );
  return r.rows;
}

export interface VectorSearchSpec extends SearchSpec {
  /** A unit vector. */
  query: number[];
  model: string;
  backend: VectorBackend;
  /** Rank only the best `candidates` vectors of matching items (see searchByVector). */
  candidates?: number;
}

/**
 * Items ranked by cosine similarity to `query`, scored by their best-matching field. Exact, not approximate:
 * every vector under the prefix (of items that pass the filter, if any) is scored, then only narrow
 * (namespace, key, score) rows are grouped and ranked. With `candidates`, only that many best vectors are
 * grouped: the page is exact when it is full or when `seen` < candidates (no matching vector was left out),
 * because an item outside the candidates scores below every item inside. Otherwise ask again without.
 */
export async function searchByVector(q: Queryable, s: VectorSearchSpec): Promise<{ rows: ItemRow[]; seen: number }> {
  const p = new Params();
  const score = `coalesce(${s.backend === 'pgvector' ? `-(v.embedding_vec <#> ${p.add(`[${s.query.join(',')}]`)}::vector)` : realScore(s.query, p)}, 0)`;
  // Unfiltered, vectors are scored alone and the few winners checked for expiry; a filter joins items first.
  const filtered = s.conditions.length > 0 || Boolean(s.namespaceContains?.length);
  const r = await q.query<ItemRow & { seen: number }>(
    `WITH scored AS (
       SELECT v.namespace, v.key, ${score} AS score
       FROM store_vectors v ${filtered ? 'JOIN store_items i ON i.namespace = v.namespace AND i.key = v.key' : ''}
       WHERE v.model = ${p.add(s.model)} AND ${prefixRange('v.namespace', s.prefix, p)} ${filtered ? `AND ${whereOf(s, p)}` : ''}
       ${s.candidates ? `ORDER BY score DESC LIMIT ${p.add(s.candidates)}` : ''}),
     best AS (SELECT namespace, key, max(score) AS score FROM scored GROUP BY namespace, key)
     SELECT ${ITEM_COLUMNS}, b.score, (SELECT count(*) FROM scored) AS seen
     FROM best b JOIN store_items i ON i.namespace = b.namespace AND i.key = b.key
     WHERE ${filtered ? 'true' : LIVE}
     ORDER BY b.score DESC, i.updated_at DESC, i.namespace, i.key LIMIT ${p.add(s.limit)} OFFSET ${p.add(s.offset)}`,
    p.values,
  );
  // No rows at offset 0 with a filter means no candidate at all (every candidate was a live, matching item).
  // Otherwise an empty page says nothing: past an offset, or with every candidate expired, ask again.
  const seen = r.rows[0]?.seen ?? (s.offset === 0 && filtered ? 0 : Infinity);
  return { rows: r.rows, seen };
}

// The dot product in plain SQL. A sparse query (the lexical embedder's usually is) multiplies only its nonzero
// components, read by subscript; a dense one walks both arrays together. Both are exact.
function realScore(query: number[], p: Params): string {
  const nonzero = query.flatMap((w, j) => (w === 0 ? [] : [[j + 1, w] as const]));
  if (nonzero.length * 4 > query.length)
    return `(SELECT sum(a * b) FROM unnest(v.embedding, ${p.add(`{${query.join(',')}}`)}::real[]) AS t(a, b))::float8`;
  return nonzero.length ? `(${nonzero.map(([j, x]) => `v.embedding[${j}] * ${p.add(x)}::float8`).join(' + ')})` : '0';
}

export interface NamespaceSpec {
  /** Labels may be `*`, matching any one label. */
  prefix: string[];
  suffix: string[];
  maxDepth?: number;
  limit: number;
  offset: number;
  namespaceContains?: string[];
}

/** Distinct namespaces of live items, cut to maxDepth labels, in label order. */
export async function listNamespaces(q: Queryable, s: NamespaceSpec): Promise<string[][]> {
  const p = new Params();
  const where = [
    LIVE,
    ...labelMatch(s.prefix, (i) => `i.namespace[${i + 1}]`, p),
    ...labelMatch(s.suffix, (i) => `i.namespace[cardinality(i.namespace) - ${s.suffix.length - 1 - i}]`, p),
    ...namespaceHolds(s.namespaceContains, p),
  ];
  if (s.prefix.length && !s.prefix.includes('*')) where.push(prefixRange('i.namespace', s.prefix, p));
  const depth = Math.max(s.prefix.length, s.suffix.length);
  if (depth) where.push(`cardinality(i.namespace) >= ${depth}`);
  const ns = s.maxDepth === undefined ? 'i.namespace' : `i.namespace[1:${p.add(s.maxDepth)}]`;
  const r = await q.query<{ ns: string[] }>(
    `SELECT DISTINCT ${ns} AS ns FROM store_items i WHERE ${where.join(' AND ')} ORDER BY ns LIMIT ${p.add(s.limit)} OFFSET ${p.add(s.offset)}`,
    p.values,
  );
  return r.rows.map((row) => row.ns);
}

// ---------------------------------------------------------------- SQL building

// Callers pass whole rows; only the keys need to travel.
function keysJson(items: ItemKey[]): string {
  return JSON.stringify(items.map(({ namespace, key }) => ({ namespace, key })));
}

class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

function whereOf(s: SearchSpec, p: Params): string {
  return [
    LIVE,
    prefixRange('i.namespace', s.prefix, p),
    ...s.conditions.map((c) => conditionSql(c, p)),
    ...namespaceHolds(s.namespaceContains, p),
  ].join(' AND ');
}

function namespaceHolds(labels: string[] | undefined, p: Params): string[] {
  return labels?.length ? [`i.namespace @> ${p.add(labels)}::text[]`] : [];
}

// With bytewise label order, the namespaces starting with [a, b] are exactly those in [[a, b], [a, b || E'\x01']):
// no label sorts between b and b followed by the smallest character. A btree range scan serves it.
function prefixRange(column: string, prefix: string[], p: Params): string {
  if (!prefix.length) return 'true';
  const upper = [...prefix.slice(0, -1), `${prefix.at(-1)!}\u0001`];
  return `${column} >= ${p.add(prefix)}::text[] AND ${column} < ${p.add(upper)}::text[]`;
}

function labelMatch(labels: string[], column: (i: number) => string, p: Params): string[] {
  return labels.flatMap((label, i) => (label === '*' ? [] : [`${column(i)} = ${p.add(label)}`]));
}

const COMPARE: Record<Exclude<FilterOp, '$eq' | '$ne'>, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

function conditionSql(c: FilterCondition, p: Params): string {
  if (c.op === '$eq' && containable(c)) return `i.value @> ${p.add(JSON.stringify(nest(c.path, c.value)))}::jsonb`;
  const field = `(i.value #> ${p.add(c.path)}::text[])`;
  if (c.op === '$eq') return `${field} = ${p.add(JSON.stringify(c.value))}::jsonb`;
  if (c.op === '$ne') return `${field} IS DISTINCT FROM ${p.add(JSON.stringify(c.value))}::jsonb`;
  // Numbers compare numerically and strings bytewise; a field of another JSON type never matches. CASE, not AND,
  // because SQL may evaluate AND's operands in any order and the cast fails on a non-number.
  const op = COMPARE[c.op];
  if (typeof c.value === 'number')
    return `(CASE WHEN jsonb_typeof(${field}) = 'number' THEN ${field}::numeric ${op} ${p.add(String(c.value))}::numeric ELSE false END)`;
  return `(jsonb_typeof(${field}) = 'string' AND (i.value #>> ${p.add(c.path)}::text[]) COLLATE "C" ${op} ${p.add(String(c.value))}::text)`;
}

// Scalar equality is containment, which the GIN index on value answers. Arrays, objects and null need exact
// equality (containment would accept a superset), and so do paths through array positions.
function containable(c: FilterCondition): boolean {
  const scalar = typeof c.value === 'string' || typeof c.value === 'number' || typeof c.value === 'boolean';
  return scalar && !c.path.some((seg) => /^\d+$/.test(seg));
}

function nest(path: string[], value: unknown): unknown {
  return path.reduceRight<unknown>((inner, seg) => ({ [seg]: inner }), value);
}
