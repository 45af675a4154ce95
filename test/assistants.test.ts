import type { Assistant, AssistantVersion } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getThread, insertThread } from '../db/threads.js';
import { threadWorkflowId } from '../core/ids.js';
import { startStack, type Stack } from './helpers/stack.js';

// /assistants through the official SDK client against a real stack, plus raw HTTP for inputs the SDK never sends.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

const SYSTEM_ID = 'fe096781-5601-53d2-b2f6-0d3403f7e9ca';
const assistants = () => stack.client.assistants;
const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Checks the runtime shape against the SDK's `Assistant` type. */
function expectAssistant(a: Assistant): void {
  expect(a.assistant_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(typeof a.graph_id).toBe('string');
  expect(typeof a.config).toBe('object');
  expect(typeof a.context).toBe('object');
  expect(typeof a.metadata).toBe('object');
  expect(Number.isInteger(a.version)).toBe(true);
  expect(typeof a.name).toBe('string');
  expect(a.created_at).toMatch(iso);
  expect(a.updated_at).toMatch(iso);
}

describe('assistants via the SDK', () => {
  it('serves the system assistant by its uuid5 id and by graph id', async () => {
    const a = await assistants().get(SYSTEM_ID);
    expectAssistant(a);
    expect(a).toMatchObject({ assistant_id: SYSTEM_ID, graph_id: 'agent', name: 'agent', version: 1, metadata: { created_by: 'system' } });
    expect(await assistants().get('agent')).toEqual(a);
    const found = await assistants().search({ graphId: 'agent', metadata: { created_by: 'system' } });
    expect(found.map((x) => x.name)).toEqual(['agent']);
  });

  it('describes the graph, its schemas and (no) subgraphs', async () => {
    const graph = await assistants().getGraph(SYSTEM_ID);
    expect(graph.nodes.map((n) => n.id)).toEqual(['__start__', 'agent', 'tools', '__end__']);
    expect(graph.edges).toContainEqual({ source: 'agent', target: 'tools', conditional: true });
    expect(await assistants().getGraph('agent', { xray: true })).toEqual(graph);
    expect(await assistants().getGraph(SYSTEM_ID, { xray: 2 })).toEqual(graph);

    const schemas = await assistants().getSchemas('agent');
    expect(schemas.graph_id).toBe('agent');
    expect(schemas.input_schema).toMatchObject({ type: 'object', properties: { messages: { type: 'array' } } });
    expect(schemas.config_schema).toMatchObject({ properties: { model: { type: 'string' } } });

    expect(await assistants().getSubgraphs(SYSTEM_ID)).toEqual({});
    expect(await assistants().getSubgraphs('agent', { namespace: 'tools', recurse: true })).toEqual({});
  });

  it('creates assistants with defaults, echoes every field, and honours if_exists', async () => {
    const plain = await assistants().create({ graphId: 'agent' });
    expectAssistant(plain);
    expect(plain).toMatchObject({
      graph_id: 'agent',
      name: 'Untitled',
      version: 1,
      config: {},
      context: {},
      metadata: {},
      description: null,
    });
    expect(plain.assistant_id[14]).toBe('7'); // a uuid v7

    const id = crypto.randomUUID();
    const config = { tags: ['t'], recursion_limit: 7, configurable: { model: 'scripted' }, extra: { kept: true } };
    const full = await assistants().create({
      graphId: 'agent',
      assistantId: id,
      config,
      context: { user_id: 'u1' },
      metadata: { team: 'x' },
      name: 'Full',
      description: 'all fields',
    });
    expect(full).toMatchObject({
      assistant_id: id,
      config,
      context: { user_id: 'u1' },
      metadata: { team: 'x' },
      name: 'Full',
      description: 'all fields',
    });

    await expect(assistants().create({ graphId: 'agent', assistantId: id })).rejects.toThrow(/HTTP 409.*Assistant already exists/);
    await expect(assistants().create({ graphId: 'agent', assistantId: id, ifExists: 'raise' })).rejects.toThrow('HTTP 409');
    const kept = await assistants().create({ graphId: 'agent', assistantId: id, ifExists: 'do_nothing', name: 'Other' });
    expect(kept).toEqual(full);
    expect(await assistants().get(id)).toEqual(full);
  });

  it('makes every update a new version, and setLatest restores an old one', async () => {
    const a = await assistants().create({ graphId: 'agent', name: 'v-one', metadata: { a: 1 }, config: { tags: ['first'] } });
    const v2 = await assistants().update(a.assistant_id, { name: 'v-two', config: { recursion_limit: 3 } });
    expect(v2).toMatchObject({ version: 2, name: 'v-two', config: { recursion_limit: 3 }, metadata: { a: 1 } });
    expect(v2.config.tags).toBeUndefined(); // config is replaced, not merged
    const v3 = await assistants().update(a.assistant_id, {});
    expect(v3).toMatchObject({ version: 3, name: 'v-two' });
    const v4 = await assistants().update(a.assistant_id, { metadata: { b: 2 } });
    expect(v4).toMatchObject({ version: 4, metadata: { a: 1, b: 2 } });
    expect(Date.parse(v4.updated_at)).toBeGreaterThanOrEqual(Date.parse(a.updated_at));

    const versions: AssistantVersion[] = await assistants().getVersions(a.assistant_id);
    expect(versions.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    expect(versions[3]).toMatchObject({ assistant_id: a.assistant_id, name: 'v-one', metadata: { a: 1 }, config: { tags: ['first'] } });
    expect(versions[0]).not.toHaveProperty('updated_at');
    expect((await assistants().getVersions(a.assistant_id, { limit: 2, offset: 1 })).map((v) => v.version)).toEqual([3, 2]);
    expect((await assistants().getVersions(a.assistant_id, { metadata: { b: 2 } })).map((v) => v.version)).toEqual([4]);

    const restored = await assistants().setLatest(a.assistant_id, 1);
    expect(restored).toMatchObject({ version: 1, name: 'v-one', metadata: { a: 1 }, config: { tags: ['first'] } });
    expect((await assistants().get(a.assistant_id)).version).toBe(1);
    const v5 = await assistants().update(a.assistant_id, { description: 'after rollback' });
    expect(v5).toMatchObject({ version: 5, name: 'v-one', description: 'after rollback', metadata: { a: 1 } });
    expect((await assistants().getVersions(a.assistant_id)).length).toBe(5);

    await expect(assistants().setLatest(a.assistant_id, 99)).rejects.toThrow(/HTTP 404.*Assistant version not found/);
    expect((await assistants().get(a.assistant_id)).version).toBe(5);
  });

  it('numbers concurrent updates one by one and loses no metadata merge', async () => {
    const a = await assistants().create({ graphId: 'agent' });
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    const results = await Promise.all(keys.map((k) => assistants().update(a.assistant_id, { metadata: { [k]: true } })));
    expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual(keys.map((_, i) => i + 2));
    const now = await assistants().get(a.assistant_id);
    expect(now.version).toBe(9);
    expect(Object.keys(now.metadata ?? {}).sort()).toEqual(keys);
  });

  it('searches by graph, name and metadata, sorts, projects and paginates', async () => {
    const suite = crypto.randomUUID();
    const names = ['alpha bot', 'beta bot', 'gamma'];
    const made: Assistant[] = [];
    for (const name of names) made.push(await assistants().create({ graphId: 'agent', name, metadata: { suite } }));
    const metadata = { suite };

    expect((await assistants().search({ metadata })).map((a) => a.name)).toEqual([...names].reverse());
    expect((await assistants().search({ metadata, sortBy: 'created_at', sortOrder: 'asc' })).map((a) => a.name)).toEqual(names);
    expect((await assistants().search({ metadata, sortBy: 'name', sortOrder: 'desc' })).map((a) => a.name)).toEqual([
      'gamma',
      'beta bot',
      'alpha bot',
    ]);
    expect((await assistants().search({ metadata, name: 'BOT', sortBy: 'name', sortOrder: 'asc' })).map((a) => a.name)).toEqual([
      'alpha bot',
      'beta bot',
    ]);
    expect(await assistants().search({ metadata, graphId: 'no-such-graph' })).toEqual([]);
    expect(await assistants().search({ name: '%' })).toEqual([]); // LIKE wildcards are literal

    const projected = await assistants().search({ metadata, select: ['assistant_id', 'name'] });
    expect(projected.map((a) => Object.keys(a).sort())).toEqual(names.map(() => ['assistant_id', 'name']));

    const page1 = await assistants().search({ metadata, limit: 2, includePagination: true });
    expect(page1.assistants.map((a) => a.name)).toEqual(['gamma', 'beta bot']);
    expect(page1.next).toBe('2');
    const page2 = await assistants().search({ metadata, limit: 2, offset: 2, includePagination: true });
    expect(page2.assistants.map((a) => a.assistant_id)).toEqual([made[0]!.assistant_id]);
    expect(page2.next).toBeNull();

    const res = await fetch(`${stack.url}/assistants/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata, limit: 1 }),
    });
    expect(res.headers.get('x-pagination-total')).toBe('3');
    expect(res.headers.get('x-pagination-next')).toBe('1');
  });

  it('counts with the same filters as search', async () => {
    const suite = crypto.randomUUID();
    for (const name of ['one bot', 'two bot', 'three']) await assistants().create({ graphId: 'agent', name, metadata: { suite } });
    expect(await assistants().count({ metadata: { suite } })).toBe(3);
    expect(await assistants().count({ metadata: { suite }, name: 'Bot' })).toBe(2);
    expect(await assistants().count({ metadata: { suite }, graphId: 'other' })).toBe(0);
    const all = await assistants().search({ limit: 1000 });
    expect(await assistants().count()).toBe(all.length);
  });

  it('deletes an assistant, and with deleteThreads its threads and their workflows', async () => {
    const doomed = await assistants().create({ graphId: 'agent', name: 'doomed' });
    const spared = await assistants().create({ graphId: 'agent', name: 'spared' });
    const ranThread = crypto.randomUUID();
    const idleThread = crypto.randomUUID();
    const otherThread = crypto.randomUUID();
    await insertThread(stack.db, { thread_id: ranThread, metadata: {} });
    await insertThread(stack.db, { thread_id: idleThread, metadata: { assistant_id: doomed.assistant_id } });
    await insertThread(stack.db, { thread_id: otherThread, metadata: { assistant_id: spared.assistant_id } });
    // A run stamps metadata.assistant_id on its thread and leaves the thread workflow running.
    await stack.client.runs.wait(ranThread, doomed.assistant_id, {
      input: { messages: [{ role: 'user', content: 'hi' }] },
      config: { configurable: { script: ['hello'] } },
    });
    expect((await getThread(stack.db, ranThread))!.metadata.assistant_id).toBe(doomed.assistant_id);
    const workflow = stack.temporal.workflow.getHandle(threadWorkflowId(ranThread));
    expect((await workflow.describe()).status.name).toBe('RUNNING');

    expect(await assistants().delete(doomed.assistant_id, { deleteThreads: true })).toBeUndefined();
    await expect(assistants().get(doomed.assistant_id)).rejects.toThrow(/HTTP 404.*Assistant not found/);
    expect(await getThread(stack.db, ranThread)).toBeUndefined();
    expect(await getThread(stack.db, idleThread)).toBeUndefined();
    expect((await workflow.describe()).status.name).toBe('TERMINATED');

    await assistants().delete(spared.assistant_id);
    await expect(assistants().get(spared.assistant_id)).rejects.toThrow('HTTP 404');
    expect(await getThread(stack.db, otherThread)).toBeDefined();
    await expect(assistants().delete(spared.assistant_id)).rejects.toThrow('HTTP 404');
  });
});

interface BadCase {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /** A string is sent as is (malformed JSON); anything else is JSON-encoded. */
  body?: unknown;
  status: number;
  /** A field the 422 body must name in `details`. */
  field?: string;
  message?: RegExp;
}

describe('assistants: bad input over raw HTTP', () => {
  it('answers 400/404/413/422 for every route and changes nothing', async () => {
    const target = await assistants().create({ graphId: 'agent', name: 'target', metadata: { bad: 'input' } });
    const id = target.assistant_id;
    const missing = crypto.randomUUID();
    const huge = { graph_id: 'agent', metadata: { blob: 'x'.repeat(1_100_000) } };
    const cases: BadCase[] = [
      { name: 'create: malformed JSON', method: 'POST', path: '/assistants', body: '{"graph_id":', status: 400 },
      { name: 'create: graph_id type', method: 'POST', path: '/assistants', body: { graph_id: 5 }, status: 422, field: 'body.graph_id' },
      { name: 'create: graph_id missing', method: 'POST', path: '/assistants', body: {}, status: 422, field: 'body.graph_id' },
      {
        name: 'create: unknown graph',
        method: 'POST',
        path: '/assistants',
        body: { graph_id: 'nope' },
        status: 422,
        field: 'body.graph_id',
        message: /Graph "nope" not found/,
      },
      {
        name: 'create: bad uuid',
        method: 'POST',
        path: '/assistants',
        body: { graph_id: 'agent', assistant_id: 'abc' },
        status: 422,
        field: 'body.assistant_id',
      },
      {
        name: 'create: config type',
        method: 'POST',
        path: '/assistants',
        body: { graph_id: 'agent', config: { recursion_limit: 'x' } },
        status: 422,
        field: 'body.config.recursion_limit',
      },
      {
        name: 'create: config tags',
        method: 'POST',
        path: '/assistants',
        body: { graph_id: 'agent', config: { tags: 'a' } },
        status: 422,
        field: 'body.config.tags',
      },
      {
        name: 'create: metadata array',
        method: 'POST',
        path: '/assistants',
        body: { graph_id: 'agent', metadata: [] },
        status: 422,
        field: 'body.metadata',
      },
      {
        name: 'create: if_exists',
        method: 'POST',
        path: '/assistants',
        body: { graph_id: 'agent', if_exists: 'replace' },
        status: 422,
        field: 'body.if_exists',
      },
      { name: 'create: too large', method: 'POST', path: '/assistants', body: huge, status: 413 },
      { name: 'get: unknown', method: 'GET', path: `/assistants/${missing}`, status: 404, message: /Assistant not found/ },
      { name: 'get: not a uuid', method: 'GET', path: '/assistants/not-a-uuid', status: 404 },
      { name: 'patch: malformed', method: 'PATCH', path: `/assistants/${id}`, body: '{name', status: 400 },
      { name: 'patch: name type', method: 'PATCH', path: `/assistants/${id}`, body: { name: 3 }, status: 422, field: 'body.name' },
      {
        name: 'patch: unknown graph',
        method: 'PATCH',
        path: `/assistants/${id}`,
        body: { graph_id: 'nope' },
        status: 422,
        field: 'body.graph_id',
      },
      {
        name: 'patch: context type',
        method: 'PATCH',
        path: `/assistants/${id}`,
        body: { context: 'x' },
        status: 422,
        field: 'body.context',
      },
      { name: 'patch: unknown', method: 'PATCH', path: `/assistants/${missing}`, body: { name: 'x' }, status: 404 },
      { name: 'patch: not a uuid', method: 'PATCH', path: '/assistants/zzz', body: {}, status: 404 },
      { name: 'patch: too large', method: 'PATCH', path: `/assistants/${id}`, body: huge, status: 413 },
      {
        name: 'delete: bad flag',
        method: 'DELETE',
        path: `/assistants/${id}?delete_threads=maybe`,
        status: 422,
        field: 'query.delete_threads',
      },
      { name: 'delete: unknown', method: 'DELETE', path: `/assistants/${missing}`, status: 404 },
      { name: 'delete: not a uuid', method: 'DELETE', path: '/assistants/1234', status: 404 },
      { name: 'search: malformed', method: 'POST', path: '/assistants/search', body: '[', status: 400 },
      { name: 'search: limit 0', method: 'POST', path: '/assistants/search', body: { limit: 0 }, status: 422, field: 'body.limit' },
      {
        name: 'search: limit too big',
        method: 'POST',
        path: '/assistants/search',
        body: { limit: 1001 },
        status: 422,
        field: 'body.limit',
      },
      { name: 'search: limit string', method: 'POST', path: '/assistants/search', body: { limit: '5' }, status: 422, field: 'body.limit' },
      { name: 'search: offset', method: 'POST', path: '/assistants/search', body: { offset: -1 }, status: 422, field: 'body.offset' },
      {
        name: 'search: sort_by',
        method: 'POST',
        path: '/assistants/search',
        body: { sort_by: 'version' },
        status: 422,
        field: 'body.sort_by',
      },
      {
        name: 'search: sort_order',
        method: 'POST',
        path: '/assistants/search',
        body: { sort_order: 'up' },
        status: 422,
        field: 'body.sort_order',
      },
      {
        name: 'search: select',
        method: 'POST',
        path: '/assistants/search',
        body: { select: ['nope'] },
        status: 422,
        field: 'body.select.0',
      },
      {
        name: 'search: metadata',
        method: 'POST',
        path: '/assistants/search',
        body: { metadata: 'x' },
        status: 422,
        field: 'body.metadata',
      },
      { name: 'search: too large', method: 'POST', path: '/assistants/search', body: huge, status: 413 },
      { name: 'count: name type', method: 'POST', path: '/assistants/count', body: { name: 1 }, status: 422, field: 'body.name' },
      { name: 'count: malformed', method: 'POST', path: '/assistants/count', body: '{', status: 400 },
      { name: 'graph: xray', method: 'GET', path: `/assistants/${id}/graph?xray=maybe`, status: 422, field: 'query.xray' },
      { name: 'graph: unknown', method: 'GET', path: `/assistants/${missing}/graph`, status: 404 },
      { name: 'schemas: unknown', method: 'GET', path: `/assistants/${missing}/schemas`, status: 404 },
      { name: 'schemas: not a uuid', method: 'GET', path: '/assistants/bogus/schemas', status: 404 },
      {
        name: 'subgraphs: recurse',
        method: 'GET',
        path: `/assistants/${id}/subgraphs?recurse=perhaps`,
        status: 422,
        field: 'query.recurse',
      },
      { name: 'subgraphs: unknown', method: 'GET', path: `/assistants/${missing}/subgraphs`, status: 404 },
      { name: 'subgraph ns: unknown', method: 'GET', path: `/assistants/${missing}/subgraphs/tools`, status: 404 },
      {
        name: 'versions: limit type',
        method: 'POST',
        path: `/assistants/${id}/versions`,
        body: { limit: 'x' },
        status: 422,
        field: 'body.limit',
      },
      { name: 'versions: unknown', method: 'POST', path: `/assistants/${missing}/versions`, body: {}, status: 404 },
      { name: 'versions: not a uuid', method: 'POST', path: '/assistants/xyz/versions', body: {}, status: 404 },
      { name: 'latest: missing version', method: 'POST', path: `/assistants/${id}/latest`, body: {}, status: 422, field: 'body.version' },
      {
        name: 'latest: version 0',
        method: 'POST',
        path: `/assistants/${id}/latest`,
        body: { version: 0 },
        status: 422,
        field: 'body.version',
      },
      {
        name: 'latest: fractional',
        method: 'POST',
        path: `/assistants/${id}/latest`,
        body: { version: 1.5 },
        status: 422,
        field: 'body.version',
      },
      {
        name: 'latest: no such version',
        method: 'POST',
        path: `/assistants/${id}/latest`,
        body: { version: 42 },
        status: 404,
        message: /Assistant version not found/,
      },
      { name: 'latest: unknown', method: 'POST', path: `/assistants/${missing}/latest`, body: { version: 1 }, status: 404 },
    ];

    const before = {
      all: await assistants().search({ limit: 1000 }),
      count: await assistants().count(),
      versions: await assistants().getVersions(id),
    };
    const failures: string[] = [];
    for (const c of cases) {
      const res = await fetch(`${stack.url}${c.path}`, {
        method: c.method,
        ...(c.body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) }),
      });
      const body = (await res.json()) as { error: string; message: string; details?: { path: string }[] };
      if (res.status !== c.status) failures.push(`${c.name}: ${res.status} ${body.message}`);
      if (typeof body.message !== 'string' || typeof body.error !== 'string') failures.push(`${c.name}: body ${JSON.stringify(body)}`);
      if (c.field && !body.details?.some((d) => d.path === c.field)) failures.push(`${c.name}: details ${JSON.stringify(body.details)}`);
      if (c.field && !body.message.includes(c.field)) failures.push(`${c.name}: message ${body.message}`);
      if (c.message && !c.message.test(body.message)) failures.push(`${c.name}: message ${body.message}`);
    }
    expect(failures).toEqual([]);

    expect(await assistants().search({ limit: 1000 })).toEqual(before.all);
    expect(await assistants().count()).toBe(before.count);
    expect(await assistants().getVersions(id)).toEqual(before.versions);
    expect(await assistants().get(id)).toEqual(target);
  });
});
