import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadWorkflowId } from '../core/ids.js';
import { human } from './helpers/input.js';
import { startStack, testSettings, type Stack } from './helpers/stack.js';

// The timers of a run, on the dev server with short durations (Temporal's time-skipping server cannot be had
// here): after_seconds, and the grace period of a stateless run's thread (STATELESS_THREAD_GRACE_SECONDS).
// Webhook retry delays are covered in webhooks.test.ts. Assertions are lower bounds, which load cannot break.

const graceMs = 1_500;
let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack({ settings: { timers: { ...testSettings().timers, statelessGraceMs: graceMs } } });
  client = stack.client;
});
afterAll(async () => {
  await stack?.stop();
});

describe('run timers', () => {
  it('starts a run with after_seconds no sooner than that', async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, 'agent', { input: human('later'), afterSeconds: 1 });
    await client.runs.join(thread.thread_id, run.run_id);
    expect((await client.runs.get(thread.thread_id, run.run_id)).status).toBe('success');
    // Every checkpoint of the run, its input's first, is written once the delay is over.
    const history = await client.threads.getHistory(thread.thread_id);
    const ofRun = history.filter((s) => s.metadata?.run_id === run.run_id);
    expect(ofRun.length).toBeGreaterThan(0);
    const first = Math.min(...ofRun.map((s) => Date.parse(s.created_at!)));
    expect(first - Date.parse(run.created_at)).toBeGreaterThanOrEqual(1_000);
  });

  it("keeps a stateless run's thread for the configured grace period, then deletes it", async () => {
    const run = await client.runs.create(null, 'agent', { input: human('fleeting') });
    const threadId = run.thread_id;
    await expect.poll(async () => (await client.threads.get(threadId).catch(() => null))?.thread_id ?? null).toBeNull();
    // The workflow waited out the configured grace, not the one-minute default, before deleting the thread.
    const history = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).fetchHistory();
    const timers = history.events!.flatMap((e) => (e.timerStartedEventAttributes ? [e.timerStartedEventAttributes] : []));
    const durationsMs = timers.map((t) => Number(t.startToFireTimeout!.seconds ?? 0) * 1000 + (t.startToFireTimeout!.nanos ?? 0) / 1e6);
    expect(durationsMs).toContain(graceMs);
    const fired = history.events!.filter((e) => e.timerFiredEventAttributes);
    expect(fired).toHaveLength(timers.length);
  });
});
