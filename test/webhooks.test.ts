import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookWorkflowId } from '../core/ids.js';
import { startStack, testSettings, type Stack } from './helpers/stack.js';
import { human } from './helpers/input.js';

// Webhooks through the SDK client on a real stack. The receiver is a local HTTP server standing in for the
// user's endpoint (third-party HTTP is not reachable from here); it answers whatever each test scripts.

interface Delivery {
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** A receiver whose answers are scripted per request: a status, or a promise to hold the request open on. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  answers: (number | Promise<number>)[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        this.deliveries.push({ headers: req.headers, body: JSON.parse(raw) as Record<string, unknown> });
        void Promise.resolve(this.answers.shift() ?? 200).then((status) => res.writeHead(status).end());
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/run-ended`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  forRun(runId: string): Delivery[] {
    return this.deliveries.filter((d) => d.body.run_id === runId);
  }
}

let stack: Stack;
const receiver = new Receiver();
// Delivery retries after 0.1 s, 0.2 s, 0.2 s (WEBHOOK_RETRY_*; by default 1 s doubling to 5 min, 20 attempts).
const webhookRetry = { initialMs: 100, maximumMs: 200, maximumAttempts: 4 };
beforeAll(async () => {
  const settings = { timers: { ...testSettings().timers, webhookRetry } };
  [stack] = await Promise.all([startStack({ settings }), receiver.start()]);
});
afterAll(async () => {
  await stack?.stop();
  await receiver.stop();
});

/** The delivery's outcome; its workflow starts only once the run has ended, so wait for it to exist first. */
async function delivery(runId: string): Promise<unknown> {
  const handle = stack.temporal.workflow.getHandle(webhookWorkflowId(runId));
  const started = () =>
    handle.describe().then(
      () => true,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );
  await expect.poll(started).toBe(true);
  return handle.result();
}

describe('webhooks', () => {
  it('posts the ended run with its final values, once', async () => {
    const thread = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread.thread_id, 'agent', { input: human('hello hook'), webhook: receiver.url });
    await expect(delivery(run.run_id)).resolves.toEqual({ delivered: true, status: 200 });
    const [sent, ...more] = receiver.forRun(run.run_id);
    expect(more).toEqual([]);
    expect(sent!.headers['content-type']).toBe('application/json');
    expect(sent!.headers['x-run-id']).toBe(run.run_id);
    const body = sent!.body;
    expect(body).toMatchObject({
      run_id: run.run_id,
      thread_id: thread.thread_id,
      assistant_id: run.assistant_id,
      status: 'success',
      multitask_strategy: 'enqueue',
    });
    expect(body).not.toHaveProperty('error');
    for (const key of ['created_at', 'run_started_at', 'run_ended_at', 'webhook_sent_at'])
      expect(Date.parse(body[key] as string)).not.toBeNaN();
    expect(Date.parse(body.run_ended_at as string)).toBeLessThanOrEqual(Date.parse(body.webhook_sent_at as string));
    const messages = (body.values as { messages: { type: string; content: string }[] }).messages;
    expect(messages.map((m) => [m.type, m.content])).toEqual([
      ['human', 'hello hook'],
      ['ai', 'hello hook'],
    ]);
  });

  it('reports a failed run with its error, and retries while the receiver is unavailable', async () => {
    receiver.answers = [503, 502];
    const thread = await stack.client.threads.create();
    const config = { configurable: { script: [{ error: 'no model today' }] } };
    const run = await stack.client.runs.create(thread.thread_id, 'agent', { input: human('fail'), config, webhook: receiver.url });
    await expect(delivery(run.run_id)).resolves.toEqual({ delivered: true, status: 200 });
    const attempts = receiver.forRun(run.run_id);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.body.run_id))).toEqual(new Set([run.run_id]));
    expect(attempts[2]!.body).toMatchObject({ status: 'error', error: 'scripted model error: no model today' });
  });

  it('gives up after the configured attempts while the receiver stays unavailable', async () => {
    receiver.answers = Array<number>(webhookRetry.maximumAttempts + 1).fill(503);
    const thread = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread.thread_id, 'agent', { input: human('down for good'), webhook: receiver.url });
    await expect(delivery(run.run_id)).rejects.toThrow('Workflow execution failed');
    expect(receiver.forRun(run.run_id)).toHaveLength(webhookRetry.maximumAttempts);
    receiver.answers = [];
  });

  it('gives up on a receiver that refuses the payload, and the thread carries on', async () => {
    receiver.answers = [410];
    const thread = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread.thread_id, 'agent', { input: human('nobody home'), webhook: receiver.url });
    await expect(delivery(run.run_id)).rejects.toThrow('Workflow execution failed');
    expect(receiver.forRun(run.run_id)).toHaveLength(1);
    const values = (await stack.client.runs.wait(thread.thread_id, 'agent', { input: human('still here') })) as { messages: unknown[] };
    expect(values.messages).toHaveLength(4);
  });

  it('never holds up the next run while a receiver is slow', async () => {
    let release!: (status: number) => void;
    receiver.answers = [new Promise<number>((r) => (release = r))];
    const thread = await stack.client.threads.create();
    const first = await stack.client.runs.create(thread.thread_id, 'agent', { input: human('first'), webhook: receiver.url });
    await stack.client.runs.join(thread.thread_id, first.run_id);
    // The receiver holds the first delivery open (it has arrived: the workflow sends it once it hears of the run's
    // end, which join may answer before), yet the thread's next run completes.
    await expect.poll(() => receiver.forRun(first.run_id).length).toBe(1);
    const values = (await stack.client.runs.wait(thread.thread_id, 'agent', { input: human('second') })) as {
      messages: { content: string }[];
    };
    expect(values.messages.at(-1)!.content).toBe('second');
    expect(receiver.forRun(first.run_id)).toHaveLength(1);
    release(200);
    await expect(delivery(first.run_id)).resolves.toEqual({ delivered: true, status: 200 });
  });

  it('sends nothing for a rolled-back run', async () => {
    const thread = await stack.client.threads.create();
    // Far longer than the test: the rollback, not the clock, ends this run.
    const slow = { configurable: { script: [{ content: 'slow', delay_ms: 60_000 }] } };
    const doomed = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('doomed'),
      config: slow,
      webhook: receiver.url,
    });
    // Rolled back mid-flight, after its input checkpoint, not while still queued.
    await expect.poll(async () => (await stack.client.runs.get(thread.thread_id, doomed.run_id)).status).toBe('running');
    const next = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('instead'),
      multitaskStrategy: 'rollback',
      webhook: receiver.url,
    });
    await expect(delivery(next.run_id)).resolves.toEqual({ delivered: true, status: 200 });
    await expect(stack.temporal.workflow.getHandle(webhookWorkflowId(doomed.run_id)).describe()).rejects.toThrow(/not found/i);
    expect(receiver.forRun(doomed.run_id)).toEqual([]);
  });

  it('rejects a webhook that is not an absolute http(s) URL, storing nothing', async () => {
    const thread = await stack.client.threads.create();
    for (const webhook of ['/relative/path', 'ftp://example.com/hook', 'not a url']) {
      const res = await fetch(`${stack.url}/threads/${thread.thread_id}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ assistant_id: 'agent', input: human('x'), webhook }),
      });
      expect(res.status).toBe(422);
      expect(JSON.stringify(await res.json())).toContain('webhook');
    }
    expect(await stack.client.runs.list(thread.thread_id)).toEqual([]);
  });
});
