import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRequest } from '../activities/models/types.js';
import type { ModelResolver } from '../activities/models/index.js';
import { defineTool } from '../activities/tools/types.js';
import { listGuardrailEvents } from '../db/guardrails.js';
import { startStack, testModels, type Stack } from './helpers/stack.js';
import { human } from './helpers/input.js';

// tool_retry on a real stack with the scripted model: a registered tool that fails its first N runs of a call
// (counted per idempotency key) is run again inside one tool activity attempt, and the model then reads the
// success, or the error once the retries are used up. The tool allows one activity attempt (`attempts: 1`), so
// every retry seen here is tool_retry's, not the activity's.

/** Each run of the flaky tool: the call's key and the tool activity's attempt number. */
const runs: { key: string; attempt: number }[] = [];
const flaky = defineTool({
  name: 'flaky',
  description: 'Fails its first `failures` runs of a call, then answers.',
  schema: z.object({ failures: z.number().int().min(0) }),
  attempts: 1,
  run({ failures }, ctx) {
    runs.push({ key: ctx.idempotencyKey, attempt: Context.current().info.attempt });
    const n = runs.filter((r) => r.key === ctx.idempotencyKey).length;
    if (n <= failures) throw new Error(`flaky failure ${n}; tell carol@example.org`);
    return `ok after ${n} runs`;
  },
});
const runsOf = (threadId: string) => runs.filter((r) => r.key.includes(threadId));

/** The scripted model, keeping what it is asked: the tool results the model reads. */
const asked: ModelRequest[] = [];
const recording: ModelResolver = (model) => {
  const r = testModels()(model);
  const provider = r.provider;
  return {
    ...r,
    provider: { name: provider.name, generate: (req, onChunk, signal) => (asked.push(req), provider.generate(req, onChunk, signal)) },
  };
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tools: [flaky], models: recording });
});
afterAll(async () => {
  await stack?.stop();
});

type Msg = { type: string; content: string; status?: string };
const script = (failures: number) => [{ tool_calls: [{ name: 'flaky', args: { failures } }] }, { content: 'done' }];
const retry = (options: Record<string, unknown>) => ({ name: 'tool_retry', options: { initialDelayMs: 5, ...options } });

async function runWith(failures: number, middleware: unknown[]) {
  const thread = await stack.client.threads.create();
  const run = await stack.client.runs.create(thread.thread_id, 'agent', {
    input: human('use the flaky tool'),
    config: { configurable: { script: script(failures), middleware } },
  });
  const state = (await stack.client.runs.join(thread.thread_id, run.run_id)) as { messages: Msg[] };
  const toolResult = state.messages.find((m) => m.type === 'tool')!;
  // The model's second turn was asked with the tool result as the last message.
  const seen = asked.find((req) => req.messages.some((m) => m.type === 'tool' && m.content === toolResult.content));
  return { threadId: thread.thread_id, runId: run.run_id, state, toolResult, seen, fired: await listGuardrailEvents(stack.db, run.run_id) };
}

describe('tool_retry', () => {
  it('runs a failing tool again within one activity attempt, and the model reads the success', async () => {
    const r = await runWith(2, [retry({ maxRetries: 3 })]);
    expect(r.toolResult).toMatchObject({ status: 'success', content: 'ok after 3 runs' });
    expect(r.state.messages.at(-1)!.content).toBe('done');
    expect(r.seen).toBeDefined();
    const tried = runsOf(r.threadId);
    expect(tried).toHaveLength(3);
    expect(new Set(tried.map((t) => t.key)).size).toBe(1);
    expect(tried.every((t) => t.attempt === 1)).toBe(true);
    expect(r.fired.map((f) => [f.action, f.detail.attempt])).toEqual([
      ['retry', 1],
      ['retry', 2],
    ]);
  });

  it('once its retries are used up, the model reads the error as an error tool message', async () => {
    const r = await runWith(10, [retry({ maxRetries: 2 })]);
    expect(r.toolResult).toMatchObject({
      status: 'error',
      content: 'Error: Tool "flaky" failed after 3 attempts: flaky failure 3; tell carol@example.org',
    });
    expect(r.seen).toBeDefined();
    expect(r.state.messages.at(-1)!.content).toBe('done');
    expect(runsOf(r.threadId).map((t) => t.attempt)).toEqual([1, 1, 1]);
    expect(r.fired.map((f) => f.action)).toEqual(['retry', 'retry', 'gave_up']);
  });

  it('does not retry a tool outside its `tools` list', async () => {
    const r = await runWith(1, [retry({ maxRetries: 3, tools: ['calculator'] })]);
    expect(r.toolResult).toMatchObject({ status: 'error', content: 'Error: flaky failure 1; tell carol@example.org' });
    expect(runsOf(r.threadId)).toHaveLength(1);
    expect(r.fired).toEqual([]);
  });

  it('reports the error through every wrapper, so pii listed inside it still redacts the result once', async () => {
    const pii = { name: 'pii', options: { piiType: 'email', applyToInput: false, applyToToolResults: true } };
    const r = await runWith(10, [retry({ maxRetries: 1 }), pii]);
    expect(r.toolResult).toMatchObject({
      status: 'error',
      content: 'Error: Tool "flaky" failed after 2 attempts: flaky failure 2; tell [REDACTED_EMAIL]',
    });
    expect(r.fired.map((f) => `${f.middleware}:${f.action}`)).toEqual(['tool_retry:retry', 'tool_retry:gave_up', 'pii:redact']);
  });

  it('stops waiting between runs of the tool when the run is cancelled', async () => {
    const thread = await stack.client.threads.create();
    // A ten-minute backoff: the run can only end once the cancellation reaches the activity and cuts it short.
    const long = retry({ initialDelayMs: 600_000, maxDelayMs: 600_000, jitter: false });
    const run = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('use the flaky tool'),
      config: { configurable: { script: script(10), middleware: [long] } },
    });
    await expect.poll(() => runsOf(thread.thread_id).length).toBe(1);
    await stack.client.runs.cancel(thread.thread_id, run.run_id, true, 'interrupt');
    expect((await stack.client.runs.get(thread.thread_id, run.run_id)).status).toBe('interrupted');
    expect(runsOf(thread.thread_id)).toHaveLength(1);
  });

  it('with onFailure error, fails the run as a fatal tool does', async () => {
    const thread = await stack.client.threads.create();
    await expect(
      stack.client.runs.wait(thread.thread_id, 'agent', {
        input: human('use the flaky tool'),
        config: { configurable: { script: script(10), middleware: [retry({ maxRetries: 1, onFailure: 'raise' })] } },
      }),
    ).rejects.toThrow('FatalToolError');
    expect((await stack.client.threads.get(thread.thread_id)).status).toBe('error');
    expect(runsOf(thread.thread_id)).toHaveLength(2);
  });
});
