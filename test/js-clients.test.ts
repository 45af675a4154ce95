import type { Client, StreamMode } from '@langchain/langgraph-sdk';
import { RemoteGraph } from '@langchain/langgraph/remote';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamModes } from '../api/runs/schema.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// What the JS clients found (issue 10), through them: the JS SDK's runs.joinStream on runs that already ended,
// and RemoteGraph from @langchain/langgraph for the debug stream, token chunks and state tasks. The Python clients
// have their own file (python-clients.test.ts). The scripted model stands in for a model.

let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack();
  client = stack.client;
});
afterAll(() => stack?.stop());

type Part = { event: string; data: unknown };
type Values = { messages: { type: string; content: string }[] };
const slow = { configurable: { script: [{ content: 'a slow answer that takes a while', delay_ms: 60_000 }] } };
const failing = { configurable: { script: [{ error: 'boom' }] } };
const calculate = {
  configurable: { script: [{ tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }] }, { content: '42.' }] },
};

// Compile-time: every stream mode the JS SDK lists is one the server accepts (typecheck fails when the SDK adds one).
type UnknownToServer = Exclude<StreamMode, (typeof streamModes)[number]>;
const serverKnowsEverySdkMode: [UnknownToServer] extends [never] ? true : false = true;

/** Collects a stream; a stream still open after `ms` is a failure (the bug was a join that never ended). */
async function within(ms: number, stream: AsyncIterable<Part>): Promise<Part[]> {
  const out: Part[] = [];
  const drain = (async () => {
    for await (const p of stream) out.push({ event: p.event, data: p.data });
    return out;
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the stream was still open after ${ms} ms; received ${JSON.stringify(out)}`)), ms);
  });
  try {
    return await Promise.race([drain, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function settled(threadId: string, runId: string): Promise<string> {
  await client.runs.join(threadId, runId);
  return (await client.runs.get(threadId, runId)).status;
}

describe('JS SDK runs.joinStream on a run that has already ended (item 10)', () => {
  // Well under the SDK's idle reconnect and the test timeout, far above a prompt close on a loaded machine.
  const bound = 20_000;

  it('closes after the final events of a finished run', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const run = await client.runs.create(threadId, 'agent', { input: human('finished') });
    expect(await settled(threadId, run.run_id)).toBe('success');
    const parts = await within(bound, client.runs.joinStream(threadId, run.run_id));
    expect(parts.map((p) => p.event)).toEqual(['values']);
    expect((parts[0]!.data as Values).messages.map((m) => m.content)).toEqual(['finished', 'finished']);
  });

  it('closes on a cancelled run', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const run = await client.runs.create(threadId, 'agent', { input: human('cancelled'), config: slow });
    // Cancelled once its input is committed, so the run has a final state to send.
    await expect.poll(async () => (await client.threads.getState<Values>(threadId)).values.messages?.length).toBe(1);
    await client.runs.cancel(threadId, run.run_id, true);
    expect((await client.runs.get(threadId, run.run_id)).status).toBe('interrupted');
    const parts = await within(bound, client.runs.joinStream(threadId, run.run_id));
    expect(parts.map((p) => p.event)).toEqual(['values']);
  });

  it('closes on a failed run, after its error event', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const run = await client.runs.create(threadId, 'agent', { input: human('failed'), config: failing });
    expect(await settled(threadId, run.run_id)).toBe('error');
    const parts = await within(bound, client.runs.joinStream(threadId, run.run_id));
    expect(parts.map((p) => p.event)).toEqual(['values', 'error']);
    expect(parts[1]!.data).toEqual({ error: 'ModelError', message: 'scripted model error: boom' });
  });

  it('replays a resumable run from Last-Event-ID and closes', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const run = await client.runs.create(threadId, 'agent', { input: human('resumable'), streamResumable: true });
    expect(await settled(threadId, run.run_id)).toBe('success');
    const all = await within(bound, client.runs.joinStream(threadId, run.run_id, { lastEventId: '-1' }));
    expect(all.map((p) => p.event)).toEqual(['metadata', 'values', 'values']);
    const rest = await within(bound, client.runs.joinStream(threadId, run.run_id, { lastEventId: '1' }));
    expect(rest.map((p) => p.event)).toEqual(['values']);
  });
});

describe('empty query values (item 1)', () => {
  it('mean "not given" on every query parameter, as the Python SDK sends them', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const run = await client.runs.create(threadId, 'agent', { input: human('query') });
    await settled(threadId, run.run_id);
    const list = await fetch(`${stack.url}/threads/${threadId}/runs?limit=&offset=&status=&select=`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { run_id: string }[]).map((r) => r.run_id)).toEqual([run.run_id]);
    const join = await fetch(
      `${stack.url}/threads/${threadId}/runs/${run.run_id}/stream?stream_mode=&stream_mode=values&cancel_on_disconnect=`,
    );
    expect(join.status).toBe(200);
    expect(await join.text()).toMatch(/^event: values\n/);
  });
});

describe('stream modes the JS SDK lists (item 5)', () => {
  it('are all accepted by the server', async () => {
    expect(serverKnowsEverySdkMode).toBe(true);
    const modes = [...streamModes] as StreamMode[];
    const parts = await within(20_000, client.runs.stream(null, 'agent', { input: human('every mode'), streamMode: modes }));
    expect(parts[0]!.event).toBe('metadata');
    expect(parts.some((p) => p.event === 'error')).toBe(false);
    const last = parts.filter((p) => p.event === 'values').at(-1)!.data as Values;
    expect(last.messages.map((m) => m.content)).toEqual(['every mode', 'every mode']);
  });
});

describe('RemoteGraph from @langchain/langgraph (items 4, 6, 7 and 11)', () => {
  const graph = () => new RemoteGraph({ graphId: 'agent', client });

  it('streams debug checkpoints, tasks and task results', async () => {
    const types: string[] = [];
    for await (const chunk of await graph().stream(human('remote debug'), { streamMode: 'debug' })) {
      types.push((chunk as { type: string }).type);
    }
    expect(types).toEqual(['checkpoint', 'checkpoint', 'task', 'task_result', 'checkpoint']);
  });

  it('streams tokens typed AIMessageChunk, as the production server sends them', async () => {
    const chunks: { type: string; content: string }[] = [];
    for await (const chunk of await graph().stream(human('remote tokens'), { streamMode: 'messages' })) {
      chunks.push((chunk as [{ type: string; content: string }, unknown])[0]);
    }
    expect(chunks.map((c) => c.type)).toEqual(['AIMessageChunk', 'AIMessageChunk']);
    expect(chunks.map((c) => c.content).join('')).toBe('remote tokens');
  });

  it('reads the state of a thread stopped at a breakpoint, with task results', async () => {
    const threadId = (await client.threads.create()).thread_id;
    await client.runs.wait(threadId, 'agent', { input: human('6*7'), config: calculate, interruptBefore: ['tools'] });
    const snapshot = await graph().getState({ configurable: { thread_id: threadId } });
    expect(snapshot.next).toEqual(['tools']);
    expect(snapshot.tasks.map((t) => ({ name: t.name, result: t.result, error: t.error }))).toEqual([
      { name: 'tools', result: null, error: undefined },
    ]);
    expect(snapshot.config.configurable?.checkpoint_id).toEqual(expect.any(String));
  });

  it('reads the state of an empty thread (null checkpoint, as on the production server)', async () => {
    const threadId = (await client.threads.create()).thread_id;
    expect((await client.threads.getState(threadId)).checkpoint).toBeNull();
    const snapshot = await graph().getState({ configurable: { thread_id: threadId } });
    expect(snapshot.values).toEqual({});
    expect(snapshot.next).toEqual([]);
  });
});
