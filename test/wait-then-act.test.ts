import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../config/logger.js';
import { threadWorkflowId } from '../core/ids.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// A run's last model turn ends the run in its activity (Patch.finishInModel), so runs/wait answers before the
// thread's workflow has heard that its run ended. A client that acts at once must not be refused as busy (a state
// update, a run with multitask_strategy reject), nor see the ended run rolled back (multitask_strategy rollback).
// Here the model activity's report is held back after its commit (until the API has been refused once, or the next
// run is admitted), so the workflow is behind for certain when the client acts.

let stack: Stack;
let holding = false;
let release: () => void = () => undefined;
const logged: string[] = [];

const holdReport: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    execute: async (input, next) => {
      const result = await next(input);
      if (holding && ctx.info.activityType === 'callModel') await new Promise<void>((resolve) => (release = resolve));
      return result;
    },
  },
});

/** The stack's logger, keeping every message (the API's retry is a debug line). */
const keeping: Logger = {
  debug: (msg) => void logged.push(msg),
  info: (msg) => void logged.push(msg),
  warn: (msg) => void logged.push(msg),
  error: (msg) => void logged.push(msg),
  child: () => keeping,
};

/** Webhook deliveries received, by run id. */
const delivered = new Set<string>();
let receiver: Server;
let hookUrl = '';

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      delivered.add((JSON.parse(body) as { run_id: string }).run_id);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  stack = await startStack({ activityInterceptors: [holdReport], log: keeping });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  receiver?.close();
});

const retried = () => logged.some((m) => m.startsWith('thread workflow refused as busy while it catches up'));

/** A finished 1-step run whose model activity has committed the run's end but not yet reported it. */
async function endedButUnheard(webhook?: string): Promise<string> {
  const threadId = (await stack.client.threads.create()).thread_id;
  holding = true;
  logged.length = 0;
  const values = (await stack.client.runs.wait(threadId, 'agent', { input: human('hi'), ...(webhook ? { webhook } : {}) })) as {
    messages: unknown[];
  };
  expect(values.messages).toHaveLength(2);
  // The precondition: the workflow still waits on the model activity, while the database says the run ended.
  const described = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).describe();
  expect(described.raw.pendingActivities?.length).toBe(1);
  expect((await stack.client.threads.get(threadId)).status).toBe('idle');
  return threadId;
}

async function releaseOnceRefused(): Promise<void> {
  await expect.poll(retried, { timeout: 10_000 }).toBe(true);
  holding = false;
  release();
}

describe('acting right after runs/wait answers', () => {
  it('applies a state update once the workflow has caught up, instead of refusing it as busy', async () => {
    const threadId = await endedButUnheard();
    const update = stack.client.threads.updateState(threadId, { values: { messages: [{ role: 'user', content: 'edited' }] } });
    await releaseOnceRefused();
    await update;
    const state = await stack.client.threads.getState<{ messages: { content: string }[] }>(threadId);
    expect(state.values.messages.at(-1)!.content).toBe('edited');
  });

  it('keeps the run when the next one asks for a rollback, and sends its webhook: the run had ended', async () => {
    const threadId = await endedButUnheard(hookUrl);
    const [first] = await stack.client.runs.list(threadId);
    const next = await stack.client.runs.create(threadId, 'agent', { input: human('again'), multitaskStrategy: 'rollback' });
    // Admitted (and so preempting the first) while the workflow still waits on the first run's report.
    const described = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).describe();
    expect(described.raw.pendingActivities?.length).toBe(1);
    holding = false;
    release();
    await stack.client.runs.join(threadId, next.run_id);
    expect((await stack.client.runs.get(threadId, first!.run_id)).status).toBe('success');
    const state = await stack.client.threads.getState<{ messages: { content: string }[] }>(threadId);
    expect(state.values.messages.map((m) => m.content)).toEqual(['hi', expect.any(String), 'again', expect.any(String)]);
    await expect.poll(() => delivered.has(first!.run_id), { timeout: 20_000 }).toBe(true);
  });

  it('admits a run with multitask_strategy reject', async () => {
    const threadId = await endedButUnheard();
    const next = stack.client.runs.wait(threadId, 'agent', { input: human('again'), multitaskStrategy: 'reject' });
    await releaseOnceRefused();
    const values = (await next) as { messages: unknown[] };
    expect(values.messages).toHaveLength(4);
  });
});
