import type { Db } from '../db/pool.js';
import * as sql from '../db/store.js';
import type { ItemRow, VectorBackend, VectorWrite } from '../db/store.js';
import type { Embedder } from './embeddings.js';
import { StoreInputError } from './errors.js';
import { unitLength } from './lexical.js';
import {
  checkIndex,
  checkKey,
  checkNamespace,
  checkPage,
  checkTtl,
  checkValue,
  parseFilter,
  textsToEmbed,
  type IndexSpec,
} from './validate.js';

// The long-term store (LangGraph's BaseStore semantics): JSON items under namespace paths, with optional TTLs,
// value filters and semantic search. The API's /store routes and the agents' tools share one instance.

export interface StoreItem {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface SearchItem extends StoreItem {
  /** Cosine similarity of the best-matching indexed field; only on searches with a query. */
  score?: number;
}

export interface PutOptions {
  /** false: not embedded; a list: those fields (`$` = whole value); null/undefined: the store's default fields. */
  index?: IndexSpec;
  /** Minutes until the item expires unless read with refresh; null/undefined: never. */
  ttl?: number | null;
}

export interface PutEntry extends PutOptions {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
}

export interface SearchOptions {
  filter?: Record<string, unknown> | null;
  limit?: number;
  offset?: number;
  /** Ranks by similarity when the store has an embedder; ignored (recency order) when it has none. */
  query?: string | null;
  refreshTtl?: boolean | null;
  /** Labels every namespace found must hold (an authorization filter, enforced in SQL). */
  namespaceContains?: string[];
}

export interface ListNamespacesOptions {
  /** Labels may be `*` (any one label). */
  prefix?: string[] | null;
  suffix?: string[] | null;
  maxDepth?: number | null;
  limit?: number;
  offset?: number;
  namespaceContains?: string[];
}

export interface StoreService {
  put(namespace: string[], key: string, value: Record<string, unknown>, opts?: PutOptions): Promise<void>;
  /** Many puts in one transaction, embedded in batches (bulk loads). A key given twice keeps its last value. */
  putMany(entries: PutEntry[]): Promise<void>;
  /** Reads refresh the TTL unless `refreshTtl` is false (LangGraph's `refresh_on_read` default). */
  get(namespace: string[], key: string, opts?: { refreshTtl?: boolean | null }): Promise<StoreItem | null>;
  /** True when there was an item to delete. */
  delete(namespace: string[], key: string): Promise<boolean>;
  search(namespacePrefix: string[], opts?: SearchOptions): Promise<SearchItem[]>;
  listNamespaces(opts?: ListNamespacesOptions): Promise<string[][]>;
  /** Deletes expired items (they are already invisible); returns how many. Called by the sweeper. */
  sweepExpired(): Promise<number>;
  /** How similarity is computed on this database: found once, from the schema. */
  vectorBackend(): Promise<VectorBackend>;
}

export interface StoreOptions {
  db: Db;
  /** null: no semantic search; queries are ignored and nothing is embedded. */
  embedder: Embedder | null;
  /** Fields embedded when a put names none; `$` is the whole value. */
  defaultIndexFields: string[];
}

export const MAX_SEARCH_LIMIT = 1000;
export const MAX_NAMESPACE_LIMIT = 1000;
const SWEEP_BATCH = 1000;

export function createStore(o: StoreOptions): StoreService {
  const defaults = defaultFields(o.defaultIndexFields);
  let backend: Promise<VectorBackend> | undefined;
  const vectorBackend = () => {
    backend ??= sql.vectorBackend(o.db).catch((err: unknown) => {
      backend = undefined;
      throw err;
    });
    return backend;
  };

  const putMany = async (entries: PutEntry[]) => {
    const items = dedupe(entries.map((e) => checkEntry(e, defaults)));
    if (!items.length) return;
    const vectors = await embedFields(o.embedder, items);
    const model = o.embedder?.id ?? '';
    const kind = vectors.length ? await vectorBackend() : 'real[]';
    await o.db.tx(async (q) => {
      await sql.upsertItems(q, items);
      await sql.replaceVectors(q, items, vectors, model, kind);
    });
  };

  return {
    putMany,
    put: (namespace, key, value, opts = {}) => putMany([{ namespace, key, value, ...opts }]),

    async get(namespace, key, opts = {}) {
      const row = await sql.getItem(o.db, checkNamespace(namespace, 'namespace'), checkKey(key));
      if (!row) return null;
      if (opts.refreshTtl !== false && row.ttl_minutes !== null) await sql.refreshTtl(o.db, [row]);
      return toItem(row);
    },

    delete: (namespace, key) => sql.deleteItem(o.db, checkNamespace(namespace, 'namespace'), checkKey(key)),

    async search(namespacePrefix, opts = {}) {
      const spec = {
        prefix: checkNamespace(namespacePrefix, 'namespace_prefix', { allowEmpty: true }),
        conditions: parseFilter(opts.filter),
        ...(opts.namespaceContains ? { namespaceContains: opts.namespaceContains } : {}),
        ...checkPage(opts.limit ?? 10, opts.offset ?? 0, MAX_SEARCH_LIMIT),
      };
      const rows =
        opts.query && o.embedder
          ? await rankByQuery(o.db, {
              ...spec,
              query: await embedQuery(o.embedder, opts.query),
              model: o.embedder.id,
              backend: await vectorBackend(),
            })
          : await sql.searchItems(o.db, spec);
      const expiring = rows.filter((r) => r.ttl_minutes !== null);
      if (opts.refreshTtl !== false && expiring.length) await sql.refreshTtl(o.db, expiring);
      return rows.map((r) => (r.score === undefined || r.score === null ? toItem(r) : { ...toItem(r), score: r.score }));
    },

    listNamespaces: (opts = {}) =>
      sql.listNamespaces(o.db, {
        prefix: checkNamespace(opts.prefix ?? [], 'prefix', { allowEmpty: true }),
        suffix: checkNamespace(opts.suffix ?? [], 'suffix', { allowEmpty: true }),
        ...(opts.maxDepth === null || opts.maxDepth === undefined ? {} : { maxDepth: checkDepth(opts.maxDepth) }),
        ...(opts.namespaceContains ? { namespaceContains: opts.namespaceContains } : {}),
        ...checkPage(opts.limit ?? 100, opts.offset ?? 0, MAX_NAMESPACE_LIMIT),
      }),

    // In batches, so a large backlog never holds one long lock on the table.
    async sweepExpired() {
      let total = 0;
      for (;;) {
        const n = await sql.deleteExpired(o.db, SWEEP_BATCH);
        total += n;
        if (n < SWEEP_BATCH) return total;
      }
    },

    vectorBackend,
  };
}

interface CheckedEntry extends sql.ItemWrite {
  fields: string[];
}

function checkEntry(e: PutEntry, defaults: string[]): CheckedEntry {
  return {
    namespace: checkNamespace(e.namespace, 'namespace'),
    key: checkKey(e.key),
    value: checkValue(e.value),
    ttl: checkTtl(e.ttl),
    fields: checkIndex(e.index, defaults),
  };
}

// One statement may not upsert a row twice, and sorted keys make concurrent batches lock rows in one order.
function dedupe(items: CheckedEntry[]): CheckedEntry[] {
  const byKey = new Map(items.map((i) => [JSON.stringify([i.namespace, i.key]), i]));
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, i]) => i);
}

// Embedding happens before the transaction: a slow or failing provider never holds row locks, and a failure
// leaves the stored item as it was.
async function embedFields(embedder: Embedder | null, items: CheckedEntry[]): Promise<VectorWrite[]> {
  if (!embedder) return [];
  const fields = items.flatMap((i) => textsToEmbed(i.value, i.fields).map((t) => ({ namespace: i.namespace, key: i.key, ...t })));
  if (!fields.length) return [];
  const vectors = await embedder.embed(fields.map((f) => f.text));
  return fields.map((f, n) => ({ namespace: f.namespace, key: f.key, field: f.field, embedding: unitLength(vectors[n]!) }));
}

// Ranking the best few vectors first spares grouping and joining every candidate; when that cannot settle the
// page (items with many fields, or an offset past the candidates), the full ranking answers instead.
async function rankByQuery(db: Db, spec: sql.VectorSearchSpec): Promise<ItemRow[]> {
  const candidates = (spec.limit + spec.offset) * 2 + 20;
  const first = await sql.searchByVector(db, { ...spec, candidates });
  if (first.rows.length === spec.limit || first.seen < candidates) return first.rows;
  return (await sql.searchByVector(db, spec)).rows;
}

async function embedQuery(embedder: Embedder, query: string): Promise<number[]> {
  const [v] = await embedder.embed([query]);
  return unitLength(v!);
}

function defaultFields(fields: string[]): string[] {
  try {
    return checkIndex(fields, []);
  } catch (err) {
    if (!(err instanceof StoreInputError)) throw err;
    throw new Error(`Invalid default index fields (STORE_INDEX_FIELDS): ${err.reason}`);
  }
}

function checkDepth(depth: unknown): number {
  if (!Number.isInteger(depth) || (depth as number) < 1) throw new StoreInputError('max_depth', 'must be a positive integer');
  return depth as number;
}

function toItem(r: ItemRow): StoreItem {
  return { namespace: r.namespace, key: r.key, value: r.value, created_at: r.created_at, updated_at: r.updated_at };
}
