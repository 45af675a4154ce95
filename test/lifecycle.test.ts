import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadWorkflowId } from '../core/ids.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// One writer of run lifecycle: the thread workflow. When an operator terminates a thread's workflow, the next
// call that needs one starts it again, and it adopts the pending runs the old one left and ends its running one.
// Cancelling goes through the workflow too, so a cancelled orphan ends and the rest still run.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ db: 'postgres' });
}, 120_000);
afterAll(() => stack?.stop());

const slow = { configurable: { script: [{ content: 'slow answer', delay_ms: 4000 }] } };

/** Run a running, b (due in a minute) and c pending, and then their workflow terminated. */
async function orphanedThread() {
  const threadId = (await stack.client.threads.create()).thread_id;
  const a = await stack.client.runs.create(threadId, 'agent', { input: human('a'), config: slow });
  const b = await stack.client.runs.create(threadId, 'agent', { input: human('b'), multitaskStrategy: 'enqueue', afterSeconds: 60 });
  const c = await stack.client.runs.create(threadId, 'agent', { input: human('c'), multitaskStrategy: 'enqueue' });
  await expect.poll(async () => (await stack.client.runs.get(threadId, a.run_id)).status === 'running').toBe(true);
  await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).terminate('operator stopped it');
  return { threadId, a, b, c };
}

async function cancelAndWait(threadId: string, runId: string): Promise<number> {
  const res = await fetch(`${stack.url}/threads/${threadId}/runs/${runId}/cancel?wait=true`, {
    method: 'POST',
    signal: AbortSignal.timeout(30_000),
  });
  return res.status;
}

describe('a terminated thread workflow', () => {
  it('is restarted by a new run, which adopts the pending runs; cancelling one of them ends it', async () => {
    const { threadId, a, b, c } = await orphanedThread();
    const d = await stack.client.runs.create(threadId, 'agent', { input: human('d'), multitaskStrategy: 'enqueue' });
    expect((await stack.client.runs.get(threadId, b.run_id)).status).toBe('pending');
    expect(await cancelAndWait(threadId, b.run_id)).toBe(204);
    await stack.client.runs.join(threadId, d.run_id);
    const status = async (id: string) => (await stack.client.runs.get(threadId, id)).status;
    expect([await status(a.run_id), await status(b.run_id), await status(c.run_id), await status(d.run_id)]).toEqual([
      'error',
      'interrupted',
      'success',
      'success',
    ]);
    const state = (await stack.client.threads.getState(threadId)).values as { messages: { content: string }[] };
    expect(state.messages.map((m) => m.content)).toEqual(['a', 'c', 'c', 'd', 'd']);
    expect((await stack.client.threads.get(threadId)).status).toBe('idle');
  }, 90_000);

  it('is restarted by a cancel, which ends that run and lets the others run', async () => {
    const { threadId, a, b, c } = await orphanedThread();
    expect(await cancelAndWait(threadId, b.run_id)).toBe(204);
    await stack.client.runs.join(threadId, c.run_id);
    const statuses = await Promise.all([a, b, c].map(async (r) => (await stack.client.runs.get(threadId, r.run_id)).status));
    expect(statuses).toEqual(['error', 'interrupted', 'success']);
    const events = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM run_events WHERE run_id = $1 AND event = '__end__'`,
      [b.run_id],
    );
    expect(events.rows[0]!.n).toBe(1);
  }, 90_000);
});
