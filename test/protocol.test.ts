import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelGate } from './helpers/gate.js';
import { startStack, testModels, type Stack } from './helpers/stack.js';
import { reportProgress } from './helpers/tools.js';
import { human } from './helpers/input.js';

// The SDK's thread stream ("protocol v2": POST /threads/{id}/commands + POST /threads/{id}/stream/events) driven
// through the official client, against a real stack. The scripted model stands in for a model.

const gate = new ModelGate();
let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack({ tools: [reportProgress], models: gate.wrap(testModels()) });
  client = stack.client;
});
afterEach(() => gate.releaseAll());
afterAll(() => stack?.stop());

type Msg = { type: string; content: unknown; id?: string };
type Values = { messages: Msg[] };
type ThreadStream = ReturnType<Client['threads']['stream']>;
type WireEvent = {
  type: 'event';
  event_id: string;
  seq: number;
  method: string;
  params: { namespace: string[]; data: Record<string, unknown> };
};

const script = (...steps: object[]) => ({ configurable: { script: steps } });
const reviewed = {
  configurable: {
    interrupt_on: { create_ticket: true },
    script: [{ tool_calls: [{ name: 'create_ticket', args: { title: 'x' } }] }, { content: 'Done.' }],
  },
};
const types = (v: Values) => v.messages.map((m) => m.type);

async function withStream<T>(threadId: string | undefined, fn: (t: ThreadStream) => Promise<T>): Promise<T> {
  const t = threadId ? client.threads.stream(threadId, { assistantId: 'agent' }) : client.threads.stream({ assistantId: 'agent' });
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/** Drains a raw subscription; the SDK ends it after the run's terminal lifecycle event. */
async function drain(sub: AsyncIterable<unknown>): Promise<WireEvent[]> {
  const out: WireEvent[] = [];
  for await (const e of sub) out.push(e as WireEvent);
  return out;
}

async function command(threadId: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${stack.url}/threads/${threadId}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Reads a raw event stream until the run's terminal lifecycle event, then hangs up. */
async function readEvents(threadId: string, body: object): Promise<WireEvent[]> {
  const ac = new AbortController();
  const res = await fetch(`${stack.url}/threads/${threadId}/stream/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: ac.signal,
  });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: WireEvent[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const data = buffer
          .slice(0, cut)
          .split('\n')
          .find((l) => l.startsWith('data: '));
        buffer = buffer.slice(cut + 2);
        if (!data) continue;
        const e = JSON.parse(data.slice(6)) as WireEvent;
        events.push(e);
        if (e.method === 'lifecycle' && ['completed', 'failed', 'interrupted'].includes(e.params.data.event as string)) return events;
      }
    }
  } finally {
    ac.abort();
  }
  return events;
}

describe('thread stream through the SDK', () => {
  it('starts a run on a new thread and iterates values to the final state', async () => {
    await withStream(undefined, async (t) => {
      // Touched before run.start, as run.start itself touches `values`: the SDK then opens its first stream
      // with this channel. A projection opened after a fast run ended may be closed by that run's end.
      const messages = (async () => {
        const out: { id: string; text: string }[] = [];
        for await (const m of t.messages) out.push({ id: m.id ?? '', text: await m.text });
        return out;
      })();
      await t.run.start({ input: human('hi'), config: script({ content: 'Hello from the script.' }) });
      const seen: Values[] = [];
      for await (const v of t.values) seen.push(v as Values);
      const last = (await t.values) as Values;

      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.at(-1)).toBe(last);
      expect(types(last)).toEqual(['human', 'ai']);
      expect(last.messages[1]!.content).toBe('Hello from the script.');
      // Token deltas assemble into the AI message of the final state (inputs are not streamed as messages).
      expect(await messages).toEqual([{ id: last.messages[1]!.id, text: 'Hello from the script.' }]);

      const state = (await t.state.get({ namespace: [] })) as { values: Values; checkpoint?: { id: string } };
      const rest = await client.threads.getState(t.threadId);
      expect(state.values.messages.at(-1)!.content).toBe('Hello from the script.');
      expect(state.checkpoint?.id).toBe(rest.checkpoint.checkpoint_id);
      expect((await client.threads.get(t.threadId)).metadata).toMatchObject({ graph_id: 'agent' });
    });
  });

  it('runs again on an existing thread and ends with the new run, not the old one', async () => {
    const threadId = (await client.threads.create()).thread_id;
    await client.runs.wait(threadId, 'agent', { input: human('first'), config: script({ content: 'First answer.' }) });
    await withStream(threadId, async (t) => {
      // The answer waits until `values` has yielded, so replaying the first run's terminal event would end
      // `values` before this run answers, however fast or slow the machine.
      const answer = gate.hold('second');
      await t.run.start({
        input: human('second'),
        config: script({ content: 'First answer.' }, { content: 'Second answer.' }),
      });
      const seen: Values[] = [];
      for await (const v of t.values) {
        seen.push(v as Values);
        answer.release();
      }
      const last = (await t.values) as Values;
      expect(seen.every((v) => v.messages.length >= 3)).toBe(true);
      expect(types(last)).toEqual(['human', 'ai', 'human', 'ai']);
      expect(last.messages[3]!.content).toBe('Second answer.');
    });
  });

  it('surfaces a reviewed tool call as an interrupt and resumes it through input.respond', async () => {
    await withStream(undefined, async (t) => {
      await t.run.start({ input: human('open a ticket'), config: reviewed });
      const paused = (await t.values) as Values;
      expect(types(paused)).toEqual(['human', 'ai']);
      expect(t.interrupted).toBe(true);
      expect(t.interrupts).toHaveLength(1);
      const [pending] = t.interrupts;
      expect(pending!.payload).toMatchObject({ action_requests: [{ name: 'create_ticket', args: { title: 'x' } }] });
      const thread = await client.threads.get(t.threadId);
      expect(
        Object.values(thread.interrupts)
          .flat()
          .map((i) => i.id),
      ).toEqual([pending!.interruptId]);

      await t.input.respond({
        namespace: [],
        interrupt_id: pending!.interruptId,
        response: { decisions: [{ type: 'approve' }] },
        config: reviewed,
      });
      const events = await drain(await t.subscribe(['values', 'tools', 'lifecycle']));
      const lifecycle = events.filter((e) => e.method === 'lifecycle').map((e) => e.params.data.event);
      expect(lifecycle).toEqual(['running', 'completed']);
      expect(events.filter((e) => e.method === 'tools').map((e) => e.params.data.event)).toEqual(['tool-started', 'tool-finished']);
      const final = events.filter((e) => e.method === 'values').at(-1)!.params.data as unknown as Values;
      expect(types(final)).toEqual(['human', 'ai', 'tool', 'ai']);
      expect(JSON.parse(final.messages[2]!.content as string)).toMatchObject({ title: 'x', status: 'open' });
      expect(final.messages[3]!.content).toBe('Done.');
      expect((await client.threads.get(t.threadId)).status).toBe('idle');
    });
  });

  it('a subscription opened mid-run replays without gaps, and the first one sees nothing twice', async () => {
    await withStream(undefined, async (t) => {
      const slow = { content: 'one two three four five six seven eight', delay_ms: 1600 };
      // The answer stops after three words until released, so the run is mid-stream when the second one opens.
      const midStream = gate.hold('count', 3);
      const { run_id: runId } = (await t.run.start({ input: human('count'), config: script(slow) })) as { run_id: string };
      const firstEvents = drain(await t.subscribe(['values', 'messages', 'lifecycle']));
      // Once the answer is streaming, open a second subscription: the SDK rotates to a new connection.
      const streaming = `SELECT 1 FROM run_events WHERE run_id = $1 AND event = 'messages'`;
      await expect.poll(async () => (await stack.db.query(streaming, [runId])).rowCount).toBeGreaterThan(0);
      const secondEvents = drain(await t.subscribe(['values', 'messages', 'lifecycle']));
      expect((await client.runs.get(t.threadId, runId)).status).toBe('running');
      midStream.release();
      const [one, second] = await Promise.all([firstEvents, secondEvents]);

      const ids = (es: WireEvent[]) => es.map((e) => e.event_id);
      expect(new Set(ids(one)).size).toBe(one.length);
      expect(one.map((e) => e.seq)).toEqual([...one.map((e) => e.seq)].sort((a, b) => a - b));
      // The SDK merges what the old connection is still delivering with the replay on the new one, so arrival
      // order can differ under load; what must hold is the same events, none missing, none twice.
      expect(new Set(ids(second)).size).toBe(second.length);
      expect([...ids(second)].sort()).toEqual([...ids(one)].sort());
      // A fresh connection after the run numbers every event the same way.
      const replay = await readEvents(t.threadId, { channels: ['values', 'messages', 'lifecycle'] });
      expect(ids(replay)).toEqual(ids(one));
      const resumed = await readEvents(t.threadId, { channels: ['values', 'messages', 'lifecycle'], since: one[2]!.seq });
      expect(ids(resumed)).toEqual(ids(one).slice(3));
      const deltas = one
        .filter((e) => e.params.data.event === 'content-block-delta')
        .map((e) => (e.params.data.delta as { text: string }).text);
      expect(deltas.join('')).toContain(slow.content);
      expect(one.at(-1)!.params.data).toMatchObject({ event: 'completed' });
    });
  });
});

describe('raw protocol over HTTP', () => {
  it('sends only the subscribed channels: updates per node, custom events from a tool', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const toolCall = { content: 'Working.', tool_calls: [{ name: 'report_progress', args: { task: 'report' } }] };
    const started = await command(threadId, {
      id: 1,
      method: 'run.start',
      params: { assistant_id: 'agent', input: human('go'), config: script(toolCall, { content: 'Done.' }) },
    });
    expect(started.json).toMatchObject({ type: 'success' });
    const events = await readEvents(threadId, { channels: ['updates', 'custom', 'lifecycle'] });
    expect(new Set(events.map((e) => e.method))).toEqual(new Set(['updates', 'custom', 'lifecycle']));
    expect(events.filter((e) => e.method === 'updates').map((e) => e.params.data.node)).toEqual(['agent', 'tools', 'agent']);
    expect(events.filter((e) => e.method === 'custom').map((e) => e.params.data)).toEqual([
      { payload: { task: 'report', progress: 0.5 } },
      { payload: { task: 'report', progress: 1 } },
    ]);
    expect(events.every((e) => e.type === 'event' && e.event_id === String(e.seq) && e.params.namespace.length === 0)).toBe(true);
  });

  it('ends a failed run with lifecycle failed and its error', async () => {
    const threadId = (await client.threads.create()).thread_id;
    await command(threadId, {
      id: 1,
      method: 'run.start',
      params: { assistant_id: 'agent', input: human('go'), config: script({ error: 'the model is down' }) },
    });
    const events = await readEvents(threadId, { channels: ['lifecycle'] });
    expect(events.map((e) => e.params.data.event)).toEqual(['running', 'failed']);
    expect(events[1]!.params.data.error).toContain('the model is down');
  });

  it('documents both routes in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { paths: Record<string, { post?: unknown }> };
    expect(doc.paths['/threads/{thread_id}/commands']?.post).toBeDefined();
    expect(doc.paths['/threads/{thread_id}/stream/events']?.post).toBeDefined();
  });

  it('answers bad commands with error envelopes and HTTP 200', async () => {
    const threadId = (await client.threads.create()).thread_id;
    expect(await command(threadId, { id: 1, method: 'run.start', params: { input: human('hi') } })).toMatchObject({
      status: 200,
      json: { type: 'error', id: 1, error: 'invalid_argument' },
    });
    expect(
      (await command(threadId, { id: 2, method: 'run.start', params: { assistant_id: 'no-such-assistant', input: human('hi') } })).json,
    ).toMatchObject({ error: 'invalid_argument' });
    expect((await command(threadId, { id: 3, method: 'run.start', params: { assistant_id: 'agent', input: [1, 2] } })).json).toMatchObject({
      error: 'invalid_argument',
    });
    expect((await command(threadId, { id: 4, method: 'no.such.method', params: {} })).json).toMatchObject({
      type: 'error',
      id: 4,
      error: 'unknown_command',
    });
    expect((await command(threadId, { id: 5, method: 'subscription.subscribe', params: { channels: ['values'] } })).json).toMatchObject({
      error: 'not_supported',
    });
    expect((await command(threadId, { id: 6, method: 'input.respond', params: { interrupt_id: 'x', response: 1 } })).json).toMatchObject({
      error: 'no_such_run',
    });
    expect((await command(threadId, { id: 7, method: 'input.respond', params: { response: 1 } })).json).toMatchObject({
      error: 'invalid_argument',
    });
    expect((await command(threadId, { id: 8, method: 'state.get', params: { namespace: [] } })).json).toEqual({
      type: 'success',
      id: 8,
      result: { values: {} },
      meta: { thread_id: threadId },
    });
  });

  it('refuses a malformed body, a bad thread id and an unknown thread with HTTP errors', async () => {
    const threadId = (await client.threads.create()).thread_id;
    expect((await command(threadId, '{"id": 1,')).status).toBe(400);
    expect((await command(threadId, { method: 'run.start' })).status).toBe(422);
    expect((await command('not-a-uuid', { id: 1, method: 'state.get' })).status).toBe(422);
    const missing = await fetch(`${stack.url}/threads/${crypto.randomUUID()}/stream/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"channels":["values"]}',
    });
    expect(missing.status).toBe(404);
  });

  it('strict_resume refuses an unknown interrupt id; a respond with the right id resumes', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const started = await command(threadId, {
      id: 1,
      method: 'run.start',
      params: { assistant_id: 'agent', input: human('open a ticket'), config: reviewed },
    });
    expect(started.json).toMatchObject({ type: 'success', result: { run_id: expect.any(String) } });
    const events = await readEvents(threadId, { channels: ['lifecycle', 'input', 'values', 'messages'] });
    expect(events.filter((e) => e.method !== 'messages').map((e) => e.method)).toEqual([
      'lifecycle',
      'values',
      'values',
      'input.requested',
      'lifecycle',
    ]);
    expect(events.some((e) => e.method === 'values' && '__interrupt__' in e.params.data)).toBe(false);
    // The streamed tool-call chunks finish as a parsed tool_call block.
    const blocks = events.filter((e) => e.params.data.event === 'content-block-finish').map((e) => e.params.data.content);
    expect(blocks).toEqual([{ type: 'tool_call', id: expect.any(String), name: 'create_ticket', args: { title: 'x' } }]);
    expect(events.filter((e) => e.method === 'messages').at(-1)!.params.data).toEqual({ event: 'message-finish', reason: 'tool_use' });
    const requested = events.find((e) => e.method === 'input.requested')!.params.data as { interrupt_id: string };

    const strict = await command(threadId, {
      id: 2,
      method: 'input.respond',
      params: { interrupt_id: crypto.randomUUID(), response: {}, strict_resume: true },
    });
    expect(strict.json).toMatchObject({ type: 'error', error: 'no_such_interrupt' });
    const ok = await command(threadId, {
      id: 3,
      method: 'input.respond',
      params: { responses: [{ interrupt_id: requested.interrupt_id, response: { decisions: [{ type: 'approve' }] } }], config: reviewed },
    });
    expect(ok.json).toMatchObject({ type: 'success', id: 3, result: { run_id: expect.any(String) } });
    const resumed = await readEvents(threadId, { channels: ['lifecycle'] });
    expect(resumed.map((e) => e.params.data.event)).toEqual(['running', 'completed']);
  });
});
