import type { Client } from '@langchain/langgraph-sdk';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineTool } from '../activities/tools/types.js';
import { ModelGate } from './helpers/gate.js';
import { startStack, testModels, type Stack } from './helpers/stack.js';
import { human } from './helpers/input.js';

// Double-texting on one stack: what each multitask strategy does to a run in flight. The multi-process,
// 20-concurrent-runs version of these invariants is in double-texting-scale.test.ts.

const toolEvents: string[] = [];
const longTool = defineTool({
  name: 'long_tool',
  description: 'Works for a long time unless cancelled.',
  schema: z.object({}),
  async run(_args, ctx) {
    toolEvents.push('started');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000);
      ctx.signal.addEventListener('abort', () => {
        toolEvents.push('cancelled');
        clearTimeout(timer);
        resolve();
      });
    });
    return 'finished';
  },
});

const gate = new ModelGate();
let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack({ tools: [longTool], models: gate.wrap(testModels()) });
  client = stack.client;
});
afterEach(() => gate.releaseAll());
afterAll(() => stack?.stop());

type Values = { messages: { type: string; content: string }[] };
// The script answers by turn within a thread, so every turn is slow.
const slow = {
  configurable: { script: Array.from({ length: 10 }, () => ({ content: 'a slow answer that takes a while', delay_ms: 30_000 })) },
};

describe('multitask strategies', () => {
  it('reject answers 409, as the production server does, and queues nothing', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const first = await client.runs.create(threadId, 'agent', { input: human('busy'), config: slow });
    await expect(client.runs.create(threadId, 'agent', { input: human('second'), multitaskStrategy: 'reject' })).rejects.toThrow(
      'HTTP 409',
    );
    expect((await client.runs.list(threadId)).map((r) => r.run_id)).toEqual([first.run_id]);
    await client.runs.cancel(threadId, first.run_id, true);
  });

  it('interrupt keeps the completed steps and continues from the latest state', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const first = await client.runs.create(threadId, 'agent', { input: human('first'), config: slow });
    await expect.poll(async () => (await client.runs.get(threadId, first.run_id)).status).toBe('running');
    const second = (await client.runs.wait(threadId, 'agent', { input: human('second'), multitaskStrategy: 'interrupt' })) as Values;
    expect((await client.runs.get(threadId, first.run_id)).status).toBe('interrupted');
    expect(second.messages.map((m) => m.content)).toEqual(['first', 'second', 'second']);
    const history = await client.threads.getHistory(threadId, { limit: 50 });
    expect(history.filter((h) => h.metadata?.run_id === first.run_id).length).toBeGreaterThan(0);
  });

  it('rollback deletes the run and returns the state to before it', async () => {
    const threadId = (await client.threads.create()).thread_id;
    await client.runs.wait(threadId, 'agent', { input: human('kept') });
    const before = await client.threads.getState(threadId);
    const doomed = await client.runs.create(threadId, 'agent', { input: human('doomed'), config: slow });
    await expect
      .poll(async () => (await client.threads.getState(threadId)).checkpoint.checkpoint_id)
      .not.toBe(before.checkpoint.checkpoint_id);
    const after = (await client.runs.wait(threadId, 'agent', { input: human('instead'), multitaskStrategy: 'rollback' })) as Values;
    await expect(client.runs.get(threadId, doomed.run_id)).rejects.toThrow('HTTP 404');
    expect(after.messages.map((m) => m.content)).toEqual(['kept', 'kept', 'instead', 'instead']);
    const history = await client.threads.getHistory(threadId, { limit: 50 });
    expect(history.some((h) => h.metadata?.run_id === doomed.run_id)).toBe(false);
  });

  it('enqueue runs later runs in order once the earlier ones finish', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const quick = { configurable: { script: [{ content: 'one' }, { content: 'two' }, { content: 'three' }] } };
    // The first run's answer waits for the gate, so the thread is busy while the others arrive, however slow.
    const first = gate.hold('a');
    const runs = [await client.runs.create(threadId, 'agent', { input: human('a'), config: quick, multitaskStrategy: 'enqueue' })];
    await expect.poll(() => first.entered).toBeGreaterThan(0);
    for (const text of ['b', 'c'])
      runs.push(await client.runs.create(threadId, 'agent', { input: human(text), config: quick, multitaskStrategy: 'enqueue' }));
    expect((await client.runs.get(threadId, runs[0]!.run_id)).status).toBe('running');
    expect((await client.runs.get(threadId, runs[1]!.run_id)).status).toBe('pending');
    expect((await client.runs.get(threadId, runs[2]!.run_id)).status).toBe('pending');
    first.release();
    const final = (await client.runs.join(threadId, runs[2]!.run_id)) as Values;
    expect(final.messages.map((m) => m.content)).toEqual(['a', 'one', 'b', 'two', 'c', 'three']);
  });

  it('cancels a tool that is mid-flight; the tool learns of it through heartbeats', async () => {
    toolEvents.length = 0;
    const threadId = (await client.threads.create()).thread_id;
    const config = { configurable: { script: [{ tool_calls: [{ name: 'long_tool', args: {} }] }, { content: 'done' }] } };
    const run = await client.runs.create(threadId, 'agent', { input: human('work'), config });
    await expect.poll(() => toolEvents).toContain('started');
    await client.runs.cancel(threadId, run.run_id, true, 'interrupt');
    expect(toolEvents).toEqual(['started', 'cancelled']);
    expect((await client.runs.get(threadId, run.run_id)).status).toBe('interrupted');
    const state = await client.threads.getState(threadId);
    expect(state.next).toEqual(['tools']);
  });
});
