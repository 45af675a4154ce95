import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { createLexicalEmbedder, createOpenAIEmbedder, createStore, EmbeddingError, type StoreService } from '../store/index.js';
import { openTestDb, startStack, type Stack } from './helpers/stack.js';

// The long-term store on both engines through the SDK's client.store: PGlite ranks with pgvector, the local
// PostgreSQL (no pgvector) with the exact cosine over real[]. Embeddings are the local lexical embedder, so
// "relevant" here means "shares words with the query".

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = () => `t${randomBytes(4).toString('hex')}`;

describe.each(['pglite', 'postgres'] as const)('store on %s', (engine) => {
  let stack: Stack;
  let client: Client;
  let url: string;
  let store: StoreService;
  beforeAll(async () => {
    stack = await startStack({ db: engine, noWorker: true });
    store = stack.deps.store;
    url = stack.url;
    client = stack.client;
  });
  afterAll(() => stack?.stop());

  it('ranks with pgvector on PGlite and with the exact real[] cosine on PostgreSQL', async () => {
    expect(await store.vectorBackend()).toBe(engine === 'pglite' ? 'pgvector' : 'real[]');
  });

  it('puts, replaces and gets items; a missing item is null', async () => {
    const ns = [root(), 'prefs'];
    await client.store.putItem(ns, 'theme', { color: 'dark' });
    const first = await client.store.getItem(ns, 'theme');
    expect(first).toMatchObject({ namespace: ns, key: 'theme', value: { color: 'dark' } });
    await sleep(5);
    await client.store.putItem(ns, 'theme', { color: 'light' });
    const second = await client.store.getItem(ns, 'theme');
    expect(second!.value).toEqual({ color: 'light' });
    expect(second!.createdAt).toBe(first!.createdAt);
    expect(Date.parse(second!.updatedAt)).toBeGreaterThan(Date.parse(first!.updatedAt));
    expect(await client.store.getItem(ns, 'nothing')).toBeNull();
  });

  it('filters by equality, nested fields and operators', async () => {
    const r = root();
    const docs = [
      { key: 'a', value: { status: 'active', score: 5, name: 'alpha', meta: { lang: 'en' } } },
      { key: 'b', value: { status: 'active', score: 2, name: 'bravo', meta: { lang: 'de' } } },
      { key: 'c', value: { status: 'archived', score: 3, name: 'charlie', meta: { lang: 'en' } } },
      { key: 'd', value: { status: 'active', score: 'high', name: 'delta' } },
    ];
    for (const d of docs) await client.store.putItem([r, 'docs'], d.key, d.value);
    const keys = async (filter: Record<string, unknown>, extra = {}) =>
      (await client.store.searchItems([r], { filter, limit: 50, ...extra })).items.map((i) => i.key).sort();
    expect(await keys({ status: 'active' })).toEqual(['a', 'b', 'd']);
    expect(await keys({ 'meta.lang': 'en' })).toEqual(['a', 'c']);
    expect(await keys({ score: { $gte: 3 } })).toEqual(['a', 'c']);
    expect(await keys({ score: { $gt: 2, $lt: 5 } })).toEqual(['c']);
    expect(await keys({ status: { $ne: 'active' } })).toEqual(['c']);
    expect(await keys({ name: { $lt: 'c' } })).toEqual(['a', 'b']);
    expect(await keys({ status: 'active', score: { $lte: 2 } })).toEqual(['b']);
    expect(await keys({ score: { $eq: 'high' } })).toEqual(['d']);
    expect(await keys({ status: 'active' }, { limit: 2, offset: 2 })).toHaveLength(1);
    expect(await keys({}, { limit: 50 })).toHaveLength(4);
  });

  it('ranks by similarity to a query, best field per item, with a score', async () => {
    const r = root();
    await client.store.putItem([r, 'notes'], 'cat1', { text: 'The cat sat on the warm windowsill' });
    await client.store.putItem([r, 'notes'], 'money', { text: 'Quarterly revenue grew in the European market' });
    await client.store.putItem([r, 'notes'], 'cat2', { text: 'Cats love sleeping on windowsills in the sun' });
    const { items } = await client.store.searchItems([r], { query: 'cat on a windowsill', limit: 10 });
    expect(
      items
        .map((i) => i.key)
        .slice(0, 2)
        .sort(),
    ).toEqual(['cat1', 'cat2']);
    expect(items.at(-1)!.key).toBe('money');
    const scores = items.map((i) => i.score!);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores[0]).toBeGreaterThan(scores.at(-1)! + 0.2);
    // Only the title is embedded here: the body's words do not count.
    await client.store.putItem([r, 'titled'], 'x', { title: 'gardening tips', body: 'quarterly revenue' }, { index: ['title'] });
    await client.store.putItem([r, 'titled'], 'y', { title: 'quarterly revenue report', body: 'tulips' }, { index: ['title'] });
    const titled = await client.store.searchItems([r, 'titled'], { query: 'quarterly revenue' });
    expect(titled.items.map((i) => i.key)).toEqual(['y', 'x']);
    // Two embedded fields: the better one decides. Short pages take the top-candidates path; they must agree.
    await client.store.putItem([r, 'titled'], 'z', { title: 'tulips', body: 'quarterly revenue report' }, { index: ['title', 'body'] });
    const all = (await client.store.searchItems([r], { query: 'quarterly revenue report', limit: 10 })).items.map((i) => i.key);
    expect(all.slice(0, 2).sort()).toEqual(['y', 'z']);
    const pages = [0, 2, 4].map((offset) => client.store.searchItems([r], { query: 'quarterly revenue report', limit: 2, offset }));
    expect((await Promise.all(pages)).flatMap((p) => p.items.map((i) => i.key))).toEqual(all);
  });

  it('does not find index:false items by query, but does by filter', async () => {
    const r = root();
    await client.store.putItem([r], 'hidden', { text: 'secret windowsill cat', kind: 'private' }, { index: false });
    await client.store.putItem([r], 'shown', { text: 'a dog in the yard', kind: 'public' });
    const byQuery = await client.store.searchItems([r], { query: 'windowsill cat' });
    expect(byQuery.items.map((i) => i.key)).toEqual(['shown']);
    const byFilter = await client.store.searchItems([r], { filter: { kind: 'private' } });
    expect(byFilter.items.map((i) => i.key)).toEqual(['hidden']);
    expect(byFilter.items[0]!.score).toBeUndefined();
  });

  it('lists namespaces by prefix, suffix, wildcard and max_depth', async () => {
    const r = root();
    for (const ns of [
      [r, 'a', 'x'],
      [r, 'a', 'y'],
      [r, 'b', 'x'],
      [r, 'b', 'z', 'deep'],
    ])
      await client.store.putItem(ns, 'k', { v: 1 });
    const list = async (o: Parameters<Client['store']['listNamespaces']>[0]) => (await client.store.listNamespaces(o)).namespaces;
    expect(await list({ prefix: [r] })).toEqual([
      [r, 'a', 'x'],
      [r, 'a', 'y'],
      [r, 'b', 'x'],
      [r, 'b', 'z', 'deep'],
    ]);
    expect(await list({ prefix: [r, 'a'] })).toEqual([
      [r, 'a', 'x'],
      [r, 'a', 'y'],
    ]);
    expect(await list({ prefix: [r], suffix: ['x'] })).toEqual([
      [r, 'a', 'x'],
      [r, 'b', 'x'],
    ]);
    expect(await list({ prefix: [r, '*', 'x'] })).toEqual([
      [r, 'a', 'x'],
      [r, 'b', 'x'],
    ]);
    expect(await list({ prefix: [r], maxDepth: 2 })).toEqual([
      [r, 'a'],
      [r, 'b'],
    ]);
    expect(await list({ prefix: [r], limit: 1, offset: 1 })).toEqual([[r, 'a', 'y']]);
  });

  it('hides expired items, sweeps them, and refresh_ttl keeps an item alive', async () => {
    const ns = [root()];
    await client.store.putItem(ns, 'brief', { v: 1 }, { ttl: 0.02 });
    expect(await client.store.getItem(ns, 'brief', { refreshTtl: false })).not.toBeNull();
    await sleep(1500);
    expect(await client.store.getItem(ns, 'brief')).toBeNull();
    expect((await client.store.searchItems(ns)).items).toEqual([]);
    expect(await client.store.listNamespaces({ prefix: ns })).toEqual({ namespaces: [] });
    expect(await store.sweepExpired()).toBeGreaterThanOrEqual(1);
    expect((await stack.db.query('SELECT 1 FROM store_items WHERE namespace = $1', [ns])).rowCount).toBe(0);

    // Both are due 3 s after they are put; `kept` is read with refresh_ttl halfway, which makes it due 3 s later.
    const ttlMs = 3000;
    const putAt = Date.now();
    await client.store.putItem(ns, 'kept', { v: 1 }, { ttl: ttlMs / 60_000 });
    await client.store.putItem(ns, 'left', { v: 2 }, { ttl: ttlMs / 60_000 });
    await sleep(ttlMs / 2);
    const refreshAt = Date.now();
    expect(await client.store.getItem(ns, 'kept', { refreshTtl: true })).not.toBeNull();
    // The precondition: the refresh landed before `kept` was due (else it would find nothing to refresh).
    expect(Date.now() - putAt).toBeLessThan(ttlMs);
    await expect.poll(() => client.store.getItem(ns, 'left', { refreshTtl: false }), { interval: 100 }).toBeNull();
    expect(await client.store.getItem(ns, 'kept', { refreshTtl: false })).not.toBeNull();
    // And this read came before `kept` was due again, so it proves the refresh rather than the clock.
    expect(Date.now() - refreshAt).toBeLessThan(ttlMs);
  });

  it('ranks live items even when expired ones (not yet swept) would fill the first candidates', async () => {
    const ns = [root()];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => client.store.putItem(ns, `old${i}`, { text: 'purple llama parade' }, { ttl: 0.01 })),
    );
    await client.store.putItem(ns, 'live', { text: 'a llama' });
    await sleep(900);
    const { items } = await client.store.searchItems(ns, { query: 'purple llama parade', limit: 1 });
    expect(items.map((i) => i.key)).toEqual(['live']);
  });

  it('deletes items; deleting a missing one is fine', async () => {
    const ns = [root()];
    await client.store.putItem(ns, 'gone', { v: 1 });
    await client.store.deleteItem(ns, 'gone');
    expect(await client.store.getItem(ns, 'gone')).toBeNull();
    await expect(client.store.deleteItem(ns, 'gone')).resolves.toBeUndefined();
  });

  describe('bad input over raw HTTP', () => {
    const r = root();
    const huge = JSON.stringify({ namespace: [r], key: 'big', value: { blob: 'x'.repeat(1_100_000) } });
    const put = (body: Record<string, unknown>) => ({
      method: 'PUT',
      path: '/store/items',
      body: { namespace: [r], key: 'k', value: {}, ...body },
    });
    const search = (body: Record<string, unknown>) => ({
      method: 'POST',
      path: '/store/items/search',
      body: { namespace_prefix: [r], ...body },
    });
    const cases: { name: string; method: string; path: string; body?: unknown; raw?: string; status: number; field?: string }[] = [
      { name: 'empty namespace', ...put({ namespace: [] }), status: 400, field: 'body.namespace' },
      { name: 'label with a period', ...put({ namespace: [r, 'a.b'] }), status: 422, field: 'body.namespace.1' },
      { name: 'empty label', ...put({ namespace: [r, ''] }), status: 422, field: 'body.namespace.1' },
      { name: 'value a string', ...put({ value: 'text' }), status: 422, field: 'body.value' },
      { name: 'value an array', ...put({ value: [1, 2] }), status: 422, field: 'body.value' },
      { name: 'value null', ...put({ value: null }), status: 422, field: 'body.value' },
      { name: 'empty key', ...put({ key: '' }), status: 422, field: 'body.key' },
      { name: 'negative ttl', ...put({ ttl: -1 }), status: 422, field: 'body.ttl' },
      { name: 'index a string', ...put({ index: 'title' }), status: 422, field: 'body.index' },
      { name: 'index with an empty path segment', ...put({ index: ['a..b'] }), status: 422, field: 'body.index.0' },
      { name: 'get with empty namespace', method: 'GET', path: '/store/items?namespace=&key=k', status: 400, field: 'query.namespace' },
      {
        name: 'get with empty label',
        method: 'GET',
        path: `/store/items?namespace=${r}..x&key=k`,
        status: 422,
        field: 'query.namespace.1',
      },
      { name: 'get without key', method: 'GET', path: `/store/items?namespace=${r}`, status: 422, field: 'query.key' },
      {
        name: 'delete empty namespace',
        method: 'DELETE',
        path: '/store/items',
        body: { namespace: [], key: 'k' },
        status: 400,
        field: 'body.namespace',
      },
      {
        name: 'unknown filter operator',
        ...search({ filter: { score: { $regex: 'x' } } }),
        status: 422,
        field: 'body.filter.score.$regex',
      },
      { name: 'range on a boolean', ...search({ filter: { score: { $gt: true } } }), status: 422, field: 'body.filter.score.$gt' },
      { name: 'filter not an object', ...search({ filter: [1] }), status: 422, field: 'body.filter' },
      { name: 'limit 0', ...search({ limit: 0 }), status: 422, field: 'body.limit' },
      { name: 'prefix label with a period', ...search({ namespace_prefix: ['a.b'] }), status: 422, field: 'body.namespace_prefix.0' },
      { name: 'max_depth 0', method: 'POST', path: '/store/namespaces', body: { max_depth: 0 }, status: 422, field: 'body.max_depth' },
      { name: 'malformed JSON', method: 'PUT', path: '/store/items', raw: '{"namespace": [', status: 400 },
      { name: 'oversized body', method: 'PUT', path: '/store/items', raw: huge, status: 413 },
    ];
    let before: unknown;
    beforeAll(async () => {
      await client.store.putItem([r], 'k', { keep: 'me' });
      before = await client.store.searchItems([r]);
    });

    it.each(cases)('$name → $status', async (c) => {
      const res = await fetch(`${url}${c.path}`, {
        method: c.method,
        ...(c.raw !== undefined || c.body !== undefined
          ? { headers: { 'content-type': 'application/json' }, body: c.raw ?? JSON.stringify(c.body) }
          : {}),
      });
      const text = await res.text();
      expect(res.status, text).toBe(c.status);
      if (c.field) expect(text).toContain(c.field);
    });

    it('left the stored data unchanged', async () => {
      expect(await client.store.searchItems([r])).toEqual(before);
    });
  });
});

it('the local embedder is lexical: shared words score, synonyms do not', async () => {
  const e = createLexicalEmbedder();
  const [a, b, c, d] = await e.embed(['deploying the service', 'service deployment', 'car', 'automobile']);
  const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
  expect(dot(a!, a!)).toBeCloseTo(1, 9);
  expect(dot(a!, b!)).toBeGreaterThan(0.4);
  expect(Math.abs(dot(c!, d!))).toBeLessThan(0.3);
  expect(await e.embed(['deploying the service'])).toEqual([a]);
});

// A local node:http server stands in for the vendor: it answers POST /v1/embeddings in OpenAI's wire format.
describe('OpenAI-compatible embeddings provider', () => {
  const seen: { auth?: string; body: { model: string; input: string[]; dimensions?: number } }[] = [];
  let fail: { status: number; body: string; headers?: Record<string, string> } | null = null;
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((req, res) => void vendor(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function vendor(req: IncomingMessage, res: import('node:http').ServerResponse) {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const body = JSON.parse(raw) as (typeof seen)[number]['body'];
    seen.push({ auth: req.headers.authorization, body });
    if (fail) return res.writeHead(fail.status, { 'content-type': 'application/json', ...fail.headers }).end(fail.body);
    const dims = body.dimensions ?? 4;
    // Answered out of order: the provider must place vectors by `index`.
    const data = body.input.map((text, index) => ({ object: 'embedding', index, embedding: fakeVector(text, dims) })).reverse();
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ object: 'list', data, model: body.model, usage: { prompt_tokens: 1, total_tokens: 1 } }));
  }

  it('posts model, input and dimensions with the key, and orders vectors by index', async () => {
    fail = null;
    const e = createOpenAIEmbedder({ baseUrl, apiKey: 'sk-test', model: 'text-embedding-3-small', dims: 3, batchSize: 2 });
    const out = await e.embed(['alpha', 'beta', 'gamma']);
    expect(out).toEqual(['alpha', 'beta', 'gamma'].map((t) => fakeVector(t, 3)));
    expect(seen.slice(-2).map((s) => s.body.input)).toEqual([['alpha', 'beta'], ['gamma']]);
    expect(seen.at(-1)).toMatchObject({ auth: 'Bearer sk-test', body: { model: 'text-embedding-3-small', dimensions: 3 } });
    expect(e.id).toBe('openai:text-embedding-3-small:3');
  });

  it('classifies vendor errors and wrong sizes', async () => {
    const e = createOpenAIEmbedder({ baseUrl, model: 'm', dims: 3 });
    fail = { status: 429, body: JSON.stringify({ error: { message: 'Rate limit reached' } }), headers: { 'retry-after-ms': '250' } };
    await expect(e.embed(['x'])).rejects.toMatchObject({
      name: 'EmbeddingError',
      retryable: true,
      status: 429,
      retryAfterMs: 250,
      message: expect.stringContaining('Rate limit reached'),
    });
    fail = { status: 401, body: JSON.stringify({ error: { message: 'Incorrect API key' } }) };
    await expect(e.embed(['x'])).rejects.toMatchObject({ retryable: false, status: 401 });
    fail = null;
    await expect(createOpenAIEmbedder({ baseUrl, model: 'm' }).embed(['x'])).rejects.toThrow(/got 4 dimensions, expected 1536/);
    await expect(createOpenAIEmbedder({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm' }).embed(['x'])).rejects.toBeInstanceOf(
      EmbeddingError,
    );
  });

  it('serves a store search end to end', async () => {
    fail = null;
    const log = createLogger('warn', { component: 'test' });
    const { db, drop } = await openTestDb('pglite', log);
    try {
      const s = createStore({ db, embedder: createOpenAIEmbedder({ baseUrl, model: 'm', dims: 8 }), defaultIndexFields: ['text'] });
      await s.put(['n'], 'near', { text: 'apple' });
      await s.put(['n'], 'far', { text: 'zzzz' });
      const hits = await s.search(['n'], { query: 'apple' });
      expect(hits.map((h) => h.key)).toEqual(['near', 'far']);
      expect(hits[0]!.score).toBeCloseTo(1, 5);
    } finally {
      await drop();
    }
  });
});

/** Deterministic stand-in vectors: the same text always maps to the same direction. */
function fakeVector(text: string, dims: number): number[] {
  return Array.from({ length: dims }, (_, i) => Math.sin((text.charCodeAt(i % text.length) + 1) * (i + 1)));
}
