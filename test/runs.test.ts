import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelGate } from './helpers/gate.js';
import { startStack, testModels, type Stack } from './helpers/stack.js';
import { testTools } from './helpers/tools.js';
import { human } from './helpers/input.js';

// Runs through the official SDK client against a real stack: Temporal dev server, database, worker and the
// scripted model (no model API is reachable here; the script stands in for the model's answers).

const gate = new ModelGate();
let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack({ tools: testTools, models: gate.wrap(testModels()) });
  client = stack.client;
});
afterEach(() => gate.releaseAll());
afterAll(() => stack?.stop());

type Msg = { type: string; content: string; id: string; tool_calls?: { name: string }[] };
type Values = { messages: Msg[] };
const toolScript = [
  { content: 'Working on it.', tool_calls: [{ name: 'report_progress', args: { task: 'report' } }] },
  { content: 'All done: the report is finished.' },
];
const newThread = async () => (await client.threads.create()).thread_id;

describe('streaming', () => {
  it('streams values, updates, token deltas and custom events in order', async () => {
    const threadId = await newThread();
    const events: { event: string; data: unknown; id?: string }[] = [];
    for await (const part of client.runs.stream(threadId, 'agent', {
      input: human('write the report'),
      config: { configurable: { script: toolScript } },
      streamMode: ['values', 'updates', 'messages-tuple', 'custom'],
    })) {
      events.push(part as { event: string; data: unknown; id?: string });
    }
    expect(events[0]).toMatchObject({ event: 'metadata', data: { run_id: expect.any(String), attempt: 1 } });
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i));
    expect(new Set(events.map((e) => e.event))).toEqual(new Set(['metadata', 'values', 'updates', 'messages', 'custom']));

    const updates = events.filter((e) => e.event === 'updates').map((e) => Object.keys(e.data as object)[0]);
    expect(updates).toEqual(['agent', 'tools', 'agent']);
    const custom = events.filter((e) => e.event === 'custom').map((e) => e.data);
    expect(custom).toEqual([
      { task: 'report', progress: 0.5 },
      { task: 'report', progress: 1 },
    ]);
    // Custom events come from the tool, so they sit between the first agent update and the tools update.
    const at = (pred: (e: (typeof events)[number]) => boolean) => events.findIndex(pred);
    expect(at((e) => e.event === 'custom')).toBeGreaterThan(at((e) => e.event === 'updates'));
    expect(at((e) => e.event === 'custom')).toBeLessThan(at((e) => e.event === 'updates' && 'tools' in (e.data as object)));

    const final = events.filter((e) => e.event === 'values').at(-1)!.data as Values;
    expect(final.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    // Token deltas of each AI message concatenate to that message's final content.
    for (const ai of final.messages.filter((m) => m.type === 'ai')) {
      const deltas = events
        .filter((e) => e.event === 'messages' && (e.data as [Msg])[0].id === ai.id)
        .map((e) => (e.data as [Msg])[0].content);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe(ai.content);
    }
    const toolMessage = events.find((e) => e.event === 'messages' && (e.data as [Msg])[0].type === 'tool')!.data as [
      Msg,
      Record<string, unknown>,
    ];
    expect(toolMessage[0].content).toBe('finished report');
    expect(toolMessage[1]).toMatchObject({ langgraph_node: 'tools', thread_id: threadId });
    const state = await client.threads.getState<Values>(threadId);
    expect(state.values).toEqual(final);
  });

  it('streams legacy messages, events, tasks, checkpoints and debug modes', async () => {
    const threadId = await newThread();
    const names = new Set<string>();
    for await (const part of client.runs.stream(threadId, 'agent', {
      input: human('hello'),
      streamMode: ['messages', 'events', 'tasks', 'checkpoints', 'debug'],
    })) {
      names.add(part.event);
    }
    expect(names).toEqual(
      new Set(['metadata', 'messages/metadata', 'messages/partial', 'messages/complete', 'events', 'tasks', 'checkpoints', 'debug']),
    );
  });
});

describe('wait, join and get', () => {
  it('agree on final state and status', async () => {
    const threadId = await newThread();
    const waited = (await client.runs.wait(threadId, 'agent', { input: human('what is the answer?') })) as Values;
    const [run] = await client.runs.list(threadId);
    const joined = (await client.runs.join(threadId, run!.run_id)) as Values;
    const got = await client.runs.get(threadId, run!.run_id);
    expect(joined).toEqual(waited);
    expect(got.status).toBe('success');
    expect(waited.messages.at(-1)).toMatchObject({ type: 'ai', content: 'what is the answer?' });
    expect((await client.threads.get(threadId)).status).toBe('idle');
  });

  it('answers a wait whose end was announced unheard, at its quiet-period read', async () => {
    // As when LISTEN was reconnecting as the run ended. The wait was watching from before it submitted the run, and
    // workers announce ends, so it made no read up front: only the periodic read can find the end.
    const threadId = await newThread();
    await client.runs.wait(threadId, 'agent', { input: human('first') });
    const hub = stack.deps.hub;
    expect(hub.endsAnnounced).toBe(true);
    const subscribeEnd = hub.subscribeEnd.bind(hub);
    hub.subscribeEnd = () => () => undefined;
    try {
      const values = (await client.runs.wait(threadId, 'agent', { input: human('second') })) as Values;
      expect(values.messages.at(-1)).toMatchObject({ type: 'ai', content: 'second' });
    } finally {
      hub.subscribeEnd = subscribeEnd;
    }
  });

  it('reports a failing run as error, with an error event', async () => {
    const threadId = await newThread();
    const config = { configurable: { script: [{ error: 'the model is on fire' }] } };
    const events = [];
    for await (const part of client.runs.stream(threadId, 'agent', { input: human('hi'), config })) events.push(part);
    const error = events.find((e) => e.event === 'error');
    expect(error?.data).toEqual({ error: 'ModelError', message: 'scripted model error: the model is on fire' });
    const [run] = await client.runs.list(threadId);
    expect(run!.status).toBe('error');
    expect((await client.threads.get(threadId)).status).toBe('error');
    await expect(client.runs.wait(threadId, 'agent', { input: human('again'), config })).rejects.toThrow(
      'ModelError: scripted model error',
    );
    const joined = (await client.runs.join(threadId, run!.run_id)) as { __error__?: unknown };
    expect(joined.__error__).toEqual({ error: 'ModelError', message: 'scripted model error: the model is on fire' });
  });

  it('reports a broken tool to the model and fails the run on a fatal tool', async () => {
    const threadId = await newThread();
    const script = [{ tool_calls: [{ name: 'broken_tool', args: {} }] }, { content: 'The tool failed, sorry.' }];
    const values = (await client.runs.wait(threadId, 'agent', {
      input: human('use the tool'),
      config: { configurable: { script } },
    })) as Values;
    expect(values.messages[2]).toMatchObject({ type: 'tool', status: 'error', content: 'Error: the service behind this tool is down' });
    expect(values.messages[3]!.content).toBe('The tool failed, sorry.');

    // The script answers by turn number within a thread, so the fatal case gets a thread of its own.
    const fatal = [{ tool_calls: [{ name: 'fatal_tool', args: {} }] }];
    const other = await newThread();
    await expect(client.runs.wait(other, 'agent', { input: human('again'), config: { configurable: { script: fatal } } })).rejects.toThrow(
      'FatalToolError',
    );
    expect((await client.threads.get(other)).status).toBe('error');
  });
});

describe('run lifecycle', () => {
  it('creates, lists, gets, cancels and deletes runs', async () => {
    const threadId = await newThread();
    const slow = { configurable: { script: [{ content: 'one two three four five six seven eight nine ten', delay_ms: 20_000 }] } };
    const created = await client.runs.create(threadId, 'agent', { input: human('take your time'), config: slow });
    expect(created).toMatchObject({ thread_id: threadId, assistant_id: expect.any(String), multitask_strategy: 'enqueue' });
    const queued = await client.runs.create(threadId, 'agent', { input: human('next'), multitaskStrategy: 'enqueue' });
    expect((await client.runs.get(threadId, queued.run_id)).status).toBe('pending');
    const listed = await client.runs.list(threadId);
    expect(listed.map((r) => r.run_id)).toEqual([queued.run_id, created.run_id]);
    await expect(client.runs.delete(threadId, created.run_id)).rejects.toThrow('HTTP 409');

    await client.runs.cancel(threadId, created.run_id, true, 'interrupt');
    expect((await client.runs.get(threadId, created.run_id)).status).toBe('interrupted');
    const after = (await client.runs.join(threadId, queued.run_id)) as Values;
    expect(after.messages.at(-1)!.content).toBe('next');

    await client.runs.delete(threadId, created.run_id);
    await expect(client.runs.get(threadId, created.run_id)).rejects.toThrow('HTTP 404');
  });

  it('cancels many runs and creates stateless batches', async () => {
    const threadId = await newThread();
    const slow = { configurable: { script: [{ content: 'slow answer', delay_ms: 20_000 }] } };
    const run = await client.runs.create(threadId, 'agent', { input: human('slow'), config: slow });
    await client.runs.cancelMany({ threadId, status: 'all', action: 'interrupt' });
    await client.runs.join(threadId, run.run_id);
    expect((await client.runs.get(threadId, run.run_id)).status).toBe('interrupted');

    const batch = await client.runs.createBatch([
      { assistantId: 'agent', input: human('first') },
      { assistantId: 'agent', input: human('second') },
    ]);
    expect(batch).toHaveLength(2);
    const results = await Promise.all(batch.map((r) => client.runs.join(r.thread_id, r.run_id) as Promise<Values>));
    expect(results.map((v) => v.messages.at(-1)!.content)).toEqual(['first', 'second']);
  });

  it('runs stateless and joins a stateless stream', async () => {
    const values = (await client.runs.wait(null, 'agent', { input: human('no thread needed') })) as Values;
    expect(values.messages.at(-1)!.content).toBe('no thread needed');
    let runId = '';
    const seen: string[] = [];
    for await (const part of client.runs.stream(null, 'agent', {
      input: human('stream me'),
      streamResumable: true,
      onRunCreated: (r) => void (runId = r.run_id),
    })) {
      seen.push(part.event);
    }
    expect(runId).not.toBe('');
    const replay: string[] = [];
    for await (const part of client.runs.joinStream(null, runId, { lastEventId: '-1' })) replay.push(part.event);
    expect(replay).toEqual(seen);
  });

  it('follows every run of a thread with threads.joinStream', async () => {
    const threadId = await newThread();
    const abort = new AbortController();
    const seen: { event: string; data: unknown }[] = [];
    const lifecycle = () => seen.filter((e) => e.event === 'lifecycle').map((e) => (e.data as { event: string }).event);
    const following = (async () => {
      try {
        for await (const part of client.threads.joinStream(threadId, { streamMode: ['run_modes', 'lifecycle'], signal: abort.signal })) {
          seen.push(part as { event: string; data: unknown });
          if (lifecycle().filter((e) => e === 'success').length === 2) abort.abort();
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    })();
    // The stream may reach the server before or after run 1 is admitted; either way it follows run 1 as long as
    // run 1 has not ended, so run 1's answer waits until the stream has shown run 1 starting.
    const first = gate.hold('first');
    const run1 = await client.runs.create(threadId, 'agent', { input: human('first') });
    await expect.poll(lifecycle).toEqual(['started']);
    first.release();
    await client.runs.join(threadId, run1.run_id);
    await client.runs.wait(threadId, 'agent', { input: human('second') });
    await following;
    expect(lifecycle()).toEqual(['started', 'success', 'started', 'success']);
    expect(seen.filter((e) => e.event === 'metadata')).toHaveLength(2);
  });
});
