import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelResolver, type ModelResolver } from '../activities/models/index.js';
import type { ModelRequest } from '../activities/models/types.js';
import { retryDelay } from '../activities/middleware/model-calls.js';
import { listGuardrailEvents } from '../db/guardrails.js';
import { startStack, type Stack } from './helpers/stack.js';
import { human } from './helpers/input.js';

// model_retry and model_fallback inside the model activity. The first provider is a local stand-in for an
// OpenAI-compatible vendor that answers every request with a 500; the fallback is the scripted model.

let vendor: Server;
let requests = 0;
const asked: ModelRequest[] = [];
let stack: Stack;
beforeAll(async () => {
  vendor = createServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"upstream exploded","type":"server_error"}}');
  });
  await new Promise<void>((r) => vendor.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;
  const models = createModelResolver({ openaiApiKey: 'test', openaiBaseUrl: `${base}/v1`, anthropicBaseUrl: base });
  // What the scripted model is asked, kept for the tests of middleware that rewrite requests.
  const recording: ModelResolver = (model) => {
    const r = models(model);
    if (r.provider.name !== 'scripted') return r;
    const provider = r.provider;
    return {
      ...r,
      provider: { name: provider.name, generate: (req, onChunk, signal) => (asked.push(req), provider.generate(req, onChunk, signal)) },
    };
  };
  stack = await startStack({ models: recording });
});
afterAll(async () => {
  await stack?.stop();
  vendor?.closeAllConnections();
  await new Promise((r) => vendor?.close(r));
});

describe('model_retry and model_fallback', () => {
  it('retries the failing provider, then answers from the next model in the list', async () => {
    const thread = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('hello'),
      config: {
        configurable: {
          model: 'openai:gpt-4o-mini',
          script: [{ content: 'answered by the fallback' }],
          middleware: [
            { name: 'model_fallback', options: { models: ['scripted'] } },
            { name: 'model_retry', options: { maxRetries: 2, initialDelayMs: 10, onFailure: 'error' } },
          ],
        },
      },
    });
    const state = (await stack.client.runs.join(thread.thread_id, run.run_id)) as { messages: { type: string; content: string }[] };
    expect(state.messages.at(-1)!.content).toBe('answered by the fallback');
    // The primary was tried once and retried twice (at least: a provider SDK may retry on its own too).
    expect(requests).toBeGreaterThanOrEqual(3);
    const fired = await listGuardrailEvents(stack.db, run.run_id);
    expect(fired.filter((f) => f.action === 'retry')).toHaveLength(2);
    expect(fired.filter((f) => f.action === 'fallback').map((f) => f.detail)).toEqual([{ from: 'openai:gpt-4o-mini', to: 'scripted' }]);
  });

  it('with onFailure continue, answers with the error instead of failing the run', async () => {
    const thread = await stack.client.threads.create();
    const state = (await stack.client.runs.wait(thread.thread_id, 'agent', {
      input: human('hello'),
      config: {
        configurable: { model: 'openai:gpt-4o-mini', middleware: [{ name: 'model_retry', options: { maxRetries: 1, initialDelayMs: 1 } }] },
      },
    })) as { messages: { content: string }[] };
    expect(state.messages.at(-1)!.content).toMatch(/^Model call failed after 2 attempts: /);
  });

  it('stops waiting between retries when the run is cancelled', async () => {
    const thread = await stack.client.threads.create();
    const before = requests;
    // A ten-minute backoff: the run can only end once the cancellation reaches the activity and cuts it short.
    const long = { name: 'model_retry', options: { maxRetries: 1, initialDelayMs: 600_000, maxDelayMs: 600_000, jitter: false } };
    const run = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('hello'),
      config: { configurable: { model: 'openai:gpt-4o-mini', middleware: [long] } },
    });
    // The first call has failed, so the activity is in its backoff.
    await expect.poll(() => requests, { timeout: 30_000 }).toBeGreaterThan(before);
    await stack.client.runs.cancel(thread.thread_id, run.run_id, true, 'interrupt');
    expect((await stack.client.runs.get(thread.thread_id, run.run_id)).status).toBe('interrupted');
  });

  it('backs off exponentially, capped, with ±25% jitter', () => {
    const o = { maxRetries: 5, backoffFactor: 2, initialDelayMs: 100, maxDelayMs: 350, jitter: false, onFailure: 'continue' as const };
    expect([0, 1, 2, 3].map((n) => retryDelay(o, n))).toEqual([100, 200, 350, 350]);
    expect(retryDelay({ ...o, jitter: true }, 1, () => 0)).toBe(150);
    expect(retryDelay({ ...o, jitter: true }, 1, () => 1)).toBe(250);
  });

  it('context_editing and dynamic_system_prompt rewrite only the request the model sees', async () => {
    const thread = await stack.client.threads.create();
    const calc = (e: string) => ({ tool_calls: [{ name: 'calculator', args: { expression: e } }] });
    const state = (await stack.client.runs.wait(thread.thread_id, 'agent', {
      input: human('sum things'),
      config: {
        configurable: {
          user_id: 'u-7',
          script: [calc('1+1'), calc('2+2'), calc('3+3'), { content: 'done' }],
          middleware: [
            { name: 'context_editing', options: { trigger: 0, keep: 1 } },
            { name: 'dynamic_system_prompt', options: { template: '{system_prompt} Speak to {user_id}.' } },
          ],
        },
      },
    })) as { messages: { type: string; content: string }[] };
    const last = asked.at(-1)!;
    expect(last.system).toMatch(/ Speak to u-7\.$/);
    expect(last.messages.filter((m) => m.type === 'tool').map((m) => m.content)).toEqual(['[cleared]', '[cleared]', '6']);
    // Stored state keeps every result.
    expect(state.messages.filter((m) => m.type === 'tool').map((m) => m.content)).toEqual(['2', '4', '6']);
  });
});
