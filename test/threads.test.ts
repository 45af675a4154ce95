import type { Checkpoint, Client, Thread, ThreadState } from '@langchain/langgraph-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { threadWorkflowId } from '../core/ids.js';
import { ModelGate } from './helpers/gate.js';
import { startStack, testModels, type Stack } from './helpers/stack.js';

// Every client.threads method (but the streams) against the real stack, then every thread route with bad input.

const gate = new ModelGate();
let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack({ models: gate.wrap(testModels()) });
  client = stack.client;
});
afterEach(() => gate.releaseAll());
afterAll(() => stack?.stop());

type Messages = { messages: { type: string; content: string; id: string }[] };
const toolScript = [
  { content: 'Let me compute.', tool_calls: [{ name: 'calculator', args: { expression: '2+3*4' } }] },
  { content: 'The answer is 14.' },
];
const question = { messages: [{ role: 'user', content: 'what is 2+3*4?' }] };
/** The scripted model plays step i on the turn that sees i AI messages, so later runs need the same step at every index. */
const always = (step: Record<string, unknown>) => Array.from({ length: 20 }, () => step);
const threadKeys = [
  'config',
  'created_at',
  'error',
  'interrupts',
  'metadata',
  'state_updated_at',
  'status',
  'thread_id',
  'updated_at',
  'values',
];
const stateKeys = ['checkpoint', 'created_at', 'interrupts', 'metadata', 'next', 'parent_checkpoint', 'tasks', 'values'];

function expectThread(t: Thread): void {
  expect(Object.keys(t).sort()).toEqual(threadKeys);
  expect(t.thread_id).toMatch(/^[0-9a-f-]{36}$/);
  for (const k of ['created_at', 'updated_at', 'state_updated_at'] as const) expect(Number.isNaN(Date.parse(t[k]))).toBe(false);
}

function expectState(s: ThreadState, threadId: string): void {
  expect(Object.keys(s).sort()).toEqual(stateKeys);
  expect(s.checkpoint).toEqual({ thread_id: threadId, checkpoint_ns: '', checkpoint_id: expect.any(String), checkpoint_map: null });
  expect(Array.isArray(s.next) && Array.isArray(s.tasks)).toBe(true);
  for (const task of s.tasks)
    expect(task).toMatchObject({
      id: expect.any(String),
      name: expect.any(String),
      error: null,
      interrupts: [],
      checkpoint: null,
      state: null,
    });
}

const httpStatus = (status: number) => expect.objectContaining({ status });

/** A thread that ran one tool-calling turn: 5 checkpoints, steps -1..3. */
async function ranThread(metadata: Record<string, unknown> = {}): Promise<Thread> {
  const t = await client.threads.create({ metadata, graphId: 'agent' });
  await client.runs.wait(t.thread_id, 'agent', { input: question, config: { configurable: { script: toolScript } } });
  return client.threads.get(t.thread_id);
}

describe('threads CRUD', () => {
  it('creates, gets, refuses duplicates and answers do_nothing with the existing thread', async () => {
    const t = await client.threads.create({ metadata: { owner: 'ann' } });
    expectThread(t);
    expect(t).toMatchObject({ status: 'idle', values: null, interrupts: {}, metadata: { owner: 'ann' }, error: null });
    expect(await client.threads.get(t.thread_id, { include: ['ttl'] })).toEqual(t);
    await expect(client.threads.create({ threadId: t.thread_id })).rejects.toEqual(httpStatus(409));
    const again = await client.threads.create({ threadId: t.thread_id, ifExists: 'do_nothing', metadata: { owner: 'bob' } });
    expect(again).toEqual(t);
    const chosen = crypto.randomUUID();
    expect((await client.threads.create({ threadId: chosen, ttl: 30 })).thread_id).toBe(chosen);
    await expect(client.threads.get(crypto.randomUUID())).rejects.toEqual(httpStatus(404));
  });

  it('replays supersteps through the workflow and leaves the thread idle', async () => {
    const t = await client.threads.create({
      graphId: 'agent',
      supersteps: [
        { updates: [{ values: { messages: [{ role: 'user', content: 'hi', id: 'h1' }] }, asNode: '__input__' }] },
        { updates: [{ values: { messages: [{ role: 'user', content: 'hi', id: 'h1' }] }, asNode: '__start__' }] },
        { updates: [{ values: { messages: [{ type: 'ai', content: 'hello', id: 'a1' }] }, asNode: 'agent' }] },
      ],
    });
    expect(t.status).toBe('idle');
    expect((t.values as Messages).messages.map((m) => [m.type, m.content])).toEqual([
      ['human', 'hi'],
      ['ai', 'hello'],
    ]);
    const history = await client.threads.getHistory(t.thread_id);
    expect(history.map((h) => [h.metadata?.source, h.metadata?.step, h.next])).toEqual([
      ['update', 1, []],
      ['update', 0, ['agent']],
      ['input', -1, ['__start__']],
    ]);

    const orphan = crypto.randomUUID();
    const refused = client.threads.create({ threadId: orphan, supersteps: [{ updates: [{ values: {}, asNode: '__input__' }] }] });
    await expect(refused).rejects.toThrow(`HTTP 400`);
    await expect(refused).rejects.toThrow(`Thread ${orphan} has no graph ID`);
    await expect(client.threads.get(orphan)).rejects.toEqual(httpStatus(404));
  });

  it('updates metadata, with and without return=minimal', async () => {
    const t = await client.threads.create({ metadata: { a: 1 } });
    const updated = await client.threads.update(t.thread_id, { metadata: { b: 2 }, ttl: { ttl: 5, strategy: 'delete' } });
    expectThread(updated);
    expect(updated.metadata).toEqual({ a: 1, b: 2 });
    expect(await client.threads.update(t.thread_id, { metadata: { a: 3 }, returnMinimal: true })).toBeUndefined();
    expect((await client.threads.get(t.thread_id)).metadata).toEqual({ a: 3, b: 2 });
    await expect(client.threads.update(crypto.randomUUID(), { metadata: {} })).rejects.toEqual(httpStatus(404));
  });

  it('deletes a thread and terminates its workflow', async () => {
    const t = await ranThread();
    await client.threads.delete(t.thread_id);
    await expect(client.threads.get(t.thread_id)).rejects.toEqual(httpStatus(404));
    expect((await stack.temporal.workflow.getHandle(threadWorkflowId(t.thread_id)).describe()).status.name).toBe('TERMINATED');
    await expect(client.threads.delete(t.thread_id)).rejects.toEqual(httpStatus(404));
    const never = await client.threads.create();
    await client.threads.delete(never.thread_id);
    const left = await stack.db.query('SELECT count(*)::int AS n FROM checkpoints WHERE thread_id = $1', [t.thread_id]);
    expect(left.rows[0]).toEqual({ n: 0 });
  });

  it('copies a thread with its history but not its runs, and the copy runs on its own', async () => {
    const src = await ranThread({ team: 'x' });
    const copy = await client.threads.copy(src.thread_id);
    expectThread(copy);
    expect(copy.thread_id).not.toBe(src.thread_id);
    expect(copy).toMatchObject({
      status: 'idle',
      values: src.values,
      interrupts: src.interrupts,
      metadata: { team: 'x', graph_id: 'agent', thread_id: copy.thread_id },
    });
    const strip = (h: ThreadState[]) => JSON.parse(JSON.stringify(h).replaceAll(src.thread_id, 'T').replaceAll(copy.thread_id, 'T'));
    const [srcHistory, copyHistory] = await Promise.all([
      client.threads.getHistory(src.thread_id),
      client.threads.getHistory(copy.thread_id),
    ]);
    expect(copyHistory).toHaveLength(5);
    expect(strip(copyHistory)).toEqual(strip(srcHistory));
    expect(copyHistory[0]!.checkpoint.thread_id).toBe(copy.thread_id);
    expect(await client.runs.list(copy.thread_id)).toEqual([]);
    await expect(client.threads.copy(crypto.randomUUID())).rejects.toEqual(httpStatus(404));

    await client.runs.wait(copy.thread_id, 'agent', {
      input: { messages: [{ role: 'user', content: 'again' }] },
      config: { configurable: { script: always({ content: 'ok' }) } },
    });
    expect((await client.threads.getState<Messages>(copy.thread_id)).values.messages).toHaveLength(6);
    expect((await client.threads.getState<Messages>(src.thread_id)).values.messages).toHaveLength(4);
  });

  it('keeps a copy intact when the source rolls back the run that wrote the copied checkpoints', async () => {
    const src = await ranThread();
    // The answer waits until the rollback, so the run is in flight for the prune, the copy and the cancel.
    gate.hold('slow');
    const run = await client.runs.create(src.thread_id, 'agent', {
      input: { messages: [{ role: 'user', content: 'slow' }] },
      config: { configurable: { script: always({ content: 'done' }) } },
    });
    await expect.poll(async () => (await client.threads.getHistory(src.thread_id)).length).toBe(7);
    await expect(client.threads.prune([src.thread_id], { strategy: 'keep_latest' })).rejects.toEqual(httpStatus(409));
    const copy = await client.threads.copy(src.thread_id);
    await client.runs.cancel(src.thread_id, run.run_id, true, 'rollback');
    expect(await client.threads.getHistory(src.thread_id)).toHaveLength(5);
    const copied = await client.threads.getHistory(copy.thread_id);
    expect(copied).toHaveLength(7);
    expect(copied[0]!.metadata).toMatchObject({ run_id: run.run_id, thread_id: copy.thread_id });
    expect((await client.threads.getState(copy.thread_id)).checkpoint).toEqual(copied[0]!.checkpoint);
  });

  it('prunes with keep_latest (same state, one checkpoint) and with delete', async () => {
    const t = await ranThread();
    const before = await client.threads.getState(t.thread_id);
    expect(await client.threads.prune([t.thread_id, crypto.randomUUID()], { strategy: 'keep_latest' })).toEqual({ pruned_count: 1 });
    const after = await client.threads.getState(t.thread_id);
    expect({ ...after, parent_checkpoint: null }).toEqual({ ...before, parent_checkpoint: null });
    const history = await client.threads.getHistory(t.thread_id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ values: before.values, parent_checkpoint: null, checkpoint: before.checkpoint });
    await client.runs.wait(t.thread_id, 'agent', {
      input: { messages: [{ role: 'user', content: 'more' }] },
      config: { configurable: { script: always({ content: 'sure' }) } },
    });
    expect((await client.threads.getState<Messages>(t.thread_id)).values.messages.map((m) => m.content).slice(-2)).toEqual([
      'more',
      'sure',
    ]);

    const a = await client.threads.create();
    const b = await ranThread();
    expect(await client.threads.prune([a.thread_id, b.thread_id, b.thread_id])).toEqual({ pruned_count: 2 });
    await expect(client.threads.get(b.thread_id)).rejects.toEqual(httpStatus(404));
  });
});

describe('threads search and count', () => {
  it('filters, sorts, selects, extracts and paginates', async () => {
    const suite = crypto.randomUUID();
    const made: Thread[] = [];
    for (let n = 0; n < 3; n++) made.push(await client.threads.create({ metadata: { suite, n } }));
    const ran = await ranThread({ suite, n: 3 });
    const ids = [...made.map((t) => t.thread_id), ran.thread_id];

    const all = await client.threads.search({ metadata: { suite } });
    expect(all.map((t) => t.thread_id)).toEqual([...ids].reverse());
    all.forEach(expectThread);
    const asc = await client.threads.search({ metadata: { suite }, sortBy: 'thread_id', sortOrder: 'asc' });
    expect(asc.map((t) => t.thread_id)).toEqual([...ids].sort());
    expect((await client.threads.search({ metadata: { suite }, sortBy: 'state_updated_at' }))[0]!.thread_id).toBe(ran.thread_id);
    expect((await client.threads.search({ ids: [ids[1]!, crypto.randomUUID()] })).map((t) => t.thread_id)).toEqual([ids[1]]);
    expect((await client.threads.search({ metadata: { suite, n: 2 } })).map((t) => t.thread_id)).toEqual([ids[2]]);
    const byValues = await client.threads.search({ values: { messages: [{ content: 'The answer is 14.' }] }, metadata: { suite } });
    expect(byValues.map((t) => t.thread_id)).toEqual([ran.thread_id]);
    expect(await client.threads.search({ metadata: { suite }, status: 'busy' })).toEqual([]);

    const picked = await client.threads.search({
      ids: [ran.thread_id],
      select: ['thread_id', 'status'],
      extract: { last: 'values.messages[-1].content', kind: 'values.messages.0.type', none: 'values.nope' },
    });
    expect(picked).toEqual([
      { thread_id: ran.thread_id, status: 'idle', extracted: { last: 'The answer is 14.', kind: 'human', none: null } },
    ]);

    const page = (offset: number) =>
      fetch(`${stack.url}/threads/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metadata: { suite }, limit: 3, offset }),
      });
    const first = await page(0);
    expect([
      first.headers.get('x-pagination-total'),
      first.headers.get('x-pagination-next'),
      ((await first.json()) as unknown[]).length,
    ]).toEqual(['4', '3', 3]);
    const second = await page(3);
    expect([
      second.headers.get('x-pagination-total'),
      second.headers.get('x-pagination-next'),
      ((await second.json()) as unknown[]).length,
    ]).toEqual(['4', null, 1]);

    expect(await client.threads.count({ metadata: { suite } })).toBe(4);
    expect(await client.threads.count({ metadata: { suite }, status: 'idle', values: { messages: [{ type: 'tool' }] } })).toBe(1);
  });
});

describe('thread state', () => {
  it('reads the state at the head, by checkpoint id and by checkpoint object', async () => {
    const fresh = await client.threads.create();
    expect(await client.threads.getState(fresh.thread_id)).toEqual({
      values: {},
      next: [],
      tasks: [],
      checkpoint: null,
      parent_checkpoint: null,
      metadata: {},
      created_at: null,
      interrupts: [],
    });
    const t = await ranThread();
    const head = await client.threads.getState<Messages>(t.thread_id);
    expectState(head, t.thread_id);
    expect(head.values).toEqual(t.values);
    expect(head.next).toEqual([]);
    const history = await client.threads.getHistory(t.thread_id);
    const atTools = await client.threads.getState<Messages>(t.thread_id, history[2]!.checkpoint.checkpoint_id!);
    expectState(atTools, t.thread_id);
    expect(atTools).toEqual(history[2]);
    expect(atTools.next).toEqual(['tools']);
    expect(atTools.tasks.map((x) => x.name)).toEqual(['tools']);
    const byObject = await client.threads.getState(t.thread_id, history[3]!.checkpoint as Checkpoint, { subgraphs: true });
    expect(byObject).toEqual(history[3]);
    const selected = await client.threads.getState(t.thread_id, undefined, { select: ['values.messages', 'next'] });
    expect(selected).toEqual({ values: { messages: head.values.messages }, next: [] });
    await expect(client.threads.getState(t.thread_id, crypto.randomUUID())).rejects.toEqual(httpStatus(404));
  });

  it('updates the state through the workflow, forks, and refuses while a run is in progress', async () => {
    const t = await ranThread();
    const r = await client.threads.updateState(t.thread_id, {
      values: { messages: [{ role: 'user', content: 'edited' }] },
      asNode: '__start__',
    });
    const head = await client.threads.getState<Messages>(t.thread_id);
    expect(r).toMatchObject({
      checkpoint: head.checkpoint,
      configurable: { thread_id: t.thread_id, checkpoint_id: head.checkpoint.checkpoint_id },
    });
    expect(head).toMatchObject({ next: ['agent'], metadata: { source: 'update', step: 4 } });
    expect(head.values.messages.at(-1)!.content).toBe('edited');
    expect((await client.threads.get(t.thread_id)).status).toBe('idle');

    const history = await client.threads.getHistory(t.thread_id);
    const fork = await client.threads.updateState(t.thread_id, {
      values: null,
      checkpointId: history[4]!.checkpoint.checkpoint_id!,
      asNode: 'agent',
    });
    const forked = await client.threads.getState(t.thread_id);
    expect(forked.checkpoint.checkpoint_id).toBe((fork as { checkpoint: Checkpoint }).checkpoint.checkpoint_id);
    expect(forked.parent_checkpoint).toEqual(history[4]!.checkpoint);
    const viaObject = await client.threads.updateState(t.thread_id, {
      values: { note: 1 },
      checkpoint: history[1]!.checkpoint as Checkpoint,
    });
    expect((await client.threads.getState(t.thread_id)).parent_checkpoint!.checkpoint_id).toBe(history[1]!.checkpoint.checkpoint_id);
    expect(viaObject).toHaveProperty('checkpoint.checkpoint_id');

    await expect(client.threads.updateState(t.thread_id, { values: {}, checkpointId: crypto.randomUUID() })).rejects.toEqual(
      httpStatus(404),
    );
    await expect(client.threads.updateState(t.thread_id, { values: { messages: [{ type: 'alien' }] } })).rejects.toEqual(httpStatus(422));
    const plain = await client.threads.create();
    await expect(client.threads.updateState(plain.thread_id, { values: {} })).rejects.toThrow(
      `HTTP 400: {"error":"bad_request","message":"Thread ${plain.thread_id} has no graph ID"}`,
    );
    await expect(client.threads.updateState(crypto.randomUUID(), { values: {} })).rejects.toEqual(httpStatus(404));

    const slow = gate.hold('slow');
    const run = await client.runs.create(t.thread_id, 'agent', {
      input: { messages: [{ role: 'user', content: 'slow' }] },
      config: { configurable: { script: always({ content: 'done' }) } },
    });
    await expect(client.threads.updateState(t.thread_id, { values: { note: 2 } })).rejects.toEqual(httpStatus(409));
    slow.release();
    await client.runs.join(t.thread_id, run.run_id);
    await client.threads.updateState(t.thread_id, { values: { note: 3 } });
    expect((await client.threads.getState(t.thread_id)).values).toMatchObject({ note: 3 });
  });

  it('patches the metadata of the head checkpoint', async () => {
    const t = await ranThread();
    expect(await client.threads.patchState(t.thread_id, { reviewed: true })).toBeUndefined();
    await client.threads.patchState({ configurable: { thread_id: t.thread_id } }, { by: 'ann' });
    const head = await client.threads.getState(t.thread_id);
    expect(head.metadata).toMatchObject({ reviewed: true, by: 'ann', source: 'loop', step: 3 });
    expect((await client.threads.getHistory(t.thread_id))[1]!.metadata).not.toHaveProperty('reviewed');
    await expect(client.threads.patchState((await client.threads.create()).thread_id, { x: 1 })).rejects.toEqual(httpStatus(404));
  });

  it('lists history newest first with filters, before and limit', async () => {
    const empty = await client.threads.create();
    expect(await client.threads.getHistory(empty.thread_id)).toEqual([]);
    await expect(client.threads.getHistory(crypto.randomUUID())).rejects.toEqual(httpStatus(404));
    const t = await ranThread();
    const h = await client.threads.getHistory<Messages>(t.thread_id);
    h.forEach((s) => expectState(s, t.thread_id));
    expect(h.map((s) => [s.metadata?.step, s.metadata?.source, s.next])).toEqual([
      [3, 'loop', []],
      [2, 'loop', ['agent']],
      [1, 'loop', ['tools']],
      [0, 'loop', ['agent']],
      [-1, 'input', ['__start__']],
    ]);
    for (let i = 0; i < 4; i++) expect(h[i]!.parent_checkpoint).toEqual(h[i + 1]!.checkpoint);
    expect(h[4]!.parent_checkpoint).toBeNull();
    expect(h.map((s) => s.values.messages?.length ?? 0)).toEqual([4, 3, 2, 1, 0]);

    expect((await client.threads.getHistory(t.thread_id, { metadata: { source: 'loop' } })).length).toBe(4);
    const before = await client.threads.getHistory(t.thread_id, {
      before: { configurable: { checkpoint_id: h[1]!.checkpoint.checkpoint_id } },
    });
    expect(before).toEqual(h.slice(2));
    expect(await client.threads.getHistory(t.thread_id, { limit: 2 })).toEqual(h.slice(0, 2));
    expect(await client.threads.getHistory(t.thread_id, { checkpoint: { checkpoint_id: h[3]!.checkpoint.checkpoint_id } })).toEqual([h[3]]);
    expect(await client.threads.getHistory(t.thread_id, { limit: 1, select: ['values.messages'] })).toEqual([
      { values: { messages: h[0]!.values.messages } },
    ]);
    const viaGet = await (
      await fetch(`${stack.url}/threads/${t.thread_id}/history?limit=2&before=${h[0]!.checkpoint.checkpoint_id}`)
    ).json();
    expect(viaGet).toEqual(h.slice(1, 3));
  });
});

describe('bad input on every thread route', () => {
  it('answers 400/404/413/422 and changes nothing', async () => {
    const t = await ranThread({ guard: true });
    const id = t.thread_id;
    const snapshot = async () => [
      await client.threads.get(id),
      await client.threads.getState(id),
      await client.threads.getHistory(id, { limit: 100 }),
    ];
    const before = await snapshot();
    const missing = crypto.randomUUID();
    const cid = (before[1] as ThreadState).checkpoint.checkpoint_id!;
    const huge = JSON.stringify({ metadata: { blob: 'x'.repeat(1_100_000) } });
    const cases: [string, string, string | object | undefined, number, string?][] = [
      ['POST', '/threads', '{"metadata":', 400],
      ['POST', '/threads', { metadata: 'x' }, 422, 'body.metadata'],
      ['POST', '/threads', { thread_id: 'nope' }, 422, 'body.thread_id'],
      ['POST', '/threads', { if_exists: 'maybe' }, 422, 'body.if_exists'],
      ['POST', '/threads', { supersteps: [{ updates: [{ values: {} }] }] }, 422, 'body.supersteps.0.updates.0.as_node'],
      [
        'POST',
        '/threads',
        { metadata: { graph_id: 'agent' }, supersteps: [{ updates: [{ values: { messages: [{ type: 'x' }] }, as_node: '__start__' }] }] },
        422,
        'body.supersteps.0.updates.0.values',
      ],
      ['POST', '/threads', { ttl: -1 }, 422, 'body.ttl'],
      ['POST', '/threads', huge, 413],
      ['POST', '/threads', { thread_id: id }, 409],
      ['GET', '/threads/not-a-uuid', undefined, 422, 'path.thread_id'],
      ['GET', `/threads/${missing}`, undefined, 404],
      ['PATCH', `/threads/${id}`, { metadata: 5 }, 422, 'body.metadata'],
      ['PATCH', `/threads/${id}`, '{oops', 400],
      ['PATCH', `/threads/${missing}`, { metadata: {} }, 404],
      ['DELETE', '/threads/123', undefined, 422, 'path.thread_id'],
      ['DELETE', `/threads/${missing}`, undefined, 404],
      ['POST', '/threads/search', { limit: 0 }, 422, 'body.limit'],
      ['POST', '/threads/search', { limit: 5000 }, 422, 'body.limit'],
      ['POST', '/threads/search', { sort_by: 'name' }, 422, 'body.sort_by'],
      ['POST', '/threads/search', { ids: ['x'] }, 422, 'body.ids.0'],
      ['POST', '/threads/search', { extract: { a: 5 } }, 422, 'body.extract.a'],
      ['POST', '/threads/search', { metadata: [] }, 422, 'body.metadata'],
      ['POST', '/threads/count', { status: 'weird' }, 422, 'body.status'],
      ['POST', '/threads/prune', {}, 422, 'body.thread_ids'],
      ['POST', '/threads/prune', { thread_ids: ['x'] }, 422, 'body.thread_ids.0'],
      ['POST', '/threads/prune', { thread_ids: [], strategy: 'all' }, 422, 'body.strategy'],
      ['POST', `/threads/${missing}/copy`, undefined, 404],
      ['POST', '/threads/zzz/copy', undefined, 422, 'path.thread_id'],
      ['GET', `/threads/${id}/state/not-a-uuid`, undefined, 422, 'path.checkpoint_id'],
      ['GET', `/threads/${id}/state/${missing}`, undefined, 404],
      ['GET', `/threads/${missing}/state`, undefined, 404],
      ['GET', `/threads/${id}/state?select=bogus`, undefined, 422, 'query.select'],
      ['POST', `/threads/${id}/state/checkpoint`, {}, 422, 'body.checkpoint'],
      ['POST', `/threads/${id}/state/checkpoint`, { checkpoint: { checkpoint_id: 'x' } }, 422, 'body.checkpoint.checkpoint_id'],
      ['POST', `/threads/${id}/state`, { values: 5 }, 422, 'body.values'],
      ['POST', `/threads/${id}/state`, { values: { messages: [{ type: 'alien' }] } }, 422, 'body.values'],
      ['POST', `/threads/${id}/state`, { values: [{ a: 1 }] }, 422, 'body.values'],
      ['POST', `/threads/${id}/state`, { values: {}, as_node: 'nowhere' }, 422, 'body.as_node'],
      ['POST', `/threads/${id}/state`, { values: {}, checkpoint_id: missing }, 404],
      ['POST', `/threads/${id}/state`, '[', 400],
      ['POST', `/threads/${id}/state`, JSON.stringify({ values: { big: 'y'.repeat(1_100_000) } }), 413],
      ['POST', `/threads/${missing}/state`, { values: {} }, 404],
      ['PATCH', `/threads/${id}/state`, {}, 422, 'body.metadata'],
      ['PATCH', `/threads/${missing}/state`, { metadata: {} }, 404],
      ['POST', `/threads/${id}/history`, { limit: 'x' }, 422, 'body.limit'],
      ['POST', `/threads/${id}/history`, { before: 'junk' }, 422, 'body.before'],
      ['POST', `/threads/${id}/history`, { metadata: 'x' }, 422, 'body.metadata'],
      ['POST', `/threads/${missing}/history`, {}, 404],
      ['GET', `/threads/${id}/history?limit=0`, undefined, 422, 'query.limit'],
      ['GET', `/threads/${id}/history?before=${cid}x`, undefined, 422, 'query.before'],
    ];
    for (const [method, path, body, status, field] of cases) {
      const init: RequestInit = { method, headers: { 'content-type': 'application/json' } };
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await fetch(`${stack.url}${path}`, init);
      const text = await res.text();
      expect({ method, path, status: res.status }, text).toEqual({ method, path, status });
      if (field) expect(text, `${method} ${path}`).toContain(field);
    }
    expect(await snapshot()).toEqual(before);
  });
});
