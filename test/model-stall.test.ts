// No model API is reachable from this machine, so a local node:http server STANDS IN FOR AN OPENAI-COMPATIBLE
// VENDOR. Its first answer stalls mid-stream with the connection left open; the second answers in full.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelResolver } from '../activities/models/index.js';
import { threadWorkflowId } from '../core/ids.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

const frame = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

let stack: Stack;
let vendor: Server;
const requests: { closedByClient: Promise<void> }[] = [];

beforeAll(async () => {
  vendor = createServer((req, res) => {
    const n = requests.length;
    requests.push({ closedByClient: new Promise((resolve) => res.once('close', () => resolve())) });
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(frame({ role: 'assistant', content: '' }));
    res.write(frame({ content: 'Hello' }));
    if (n === 0) return; // stalls: no more tokens, no end
    res.end(frame({ content: ' again' }) + frame({}, 'stop') + 'data: [DONE]\n\n');
  });
  await new Promise<void>((r) => vendor.listen(0, '127.0.0.1', r));
  const port = (vendor.address() as AddressInfo).port;
  stack = await startStack({
    models: createModelResolver({ openaiBaseUrl: `http://127.0.0.1:${port}/v1`, anthropicBaseUrl: 'http://127.0.0.1:9' }),
    modelStallTimeoutSeconds: 1,
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  vendor?.closeAllConnections();
  vendor?.close();
});

describe('a vendor that stalls mid-stream', () => {
  it('is aborted after MODEL_STALL_TIMEOUT_SECONDS and retried, and the run completes', async () => {
    const thread = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('hi'),
      config: { configurable: { model: 'openai:gpt-test' } },
    });
    await stack.client.runs.join(thread.thread_id, run.run_id);

    expect((await stack.client.runs.get(thread.thread_id, run.run_id)).status).toBe('success');
    const messages = (await stack.client.threads.getState<{ messages: { type: string; content: string }[] }>(thread.thread_id)).values
      .messages;
    expect(messages.map((m) => [m.type, m.content])).toEqual([
      ['human', 'hi'],
      ['ai', 'Hello again'],
    ]);
    // Two calls: the stalled one, whose connection the runtime closed (not left hanging), then the retry.
    expect(requests).toHaveLength(2);
    await requests[0]!.closedByClient;
    // The model call succeeded on its second attempt, after the first failed as a retryable stall (not a timeout).
    const history = await stack.temporal.workflow.getHandle(threadWorkflowId(thread.thread_id)).fetchHistory();
    const started = (history.events ?? []).flatMap((e) => e.activityTaskStartedEventAttributes ?? []);
    expect(started.map((s) => s.attempt)).toEqual([2]);
    expect(started[0]!.lastFailure?.applicationFailureInfo?.type).toBe('ModelUnavailable');
    expect(started[0]!.lastFailure?.message).toContain('sent no token for 1 s');
  }, 120_000);
});
