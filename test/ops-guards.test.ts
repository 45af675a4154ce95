import { randomBytes } from 'node:crypto';
import type { RunSpec } from '../core/runs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemAssistantId } from '../db/assistants.js';
import { readHead } from '../db/checkpoints.js';
import { insertRunRequest, promoteRunRequest } from '../db/runs.js';
import { threadWorkflowId } from '../core/ids.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// Operator-facing guards: POST /runs/cancel needs an explicit selection and reports every failure instead of
// stopping at the first; the system assistant of a graph cannot be deleted; /ok?check_db=1 checks the database.

let stack: Stack;
beforeAll(async () => {
  // Short, so the thread whose workflow no worker serves fails its cancel quickly.
  stack = await startStack({ settings: { workerTimeoutMs: 8_000 } });
});
afterAll(() => stack?.stop());

const post = (path: string, body: unknown) =>
  fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const slow = { configurable: { script: [{ content: 'a b c d e f g h', delay_ms: 60_000 }] } };

describe('POST /runs/cancel', () => {
  it('refuses an empty selection instead of cancelling every run', async () => {
    const a = (await stack.client.threads.create()).thread_id;
    const run = await stack.client.runs.create(a, 'agent', { input: human('long'), config: slow });
    await expect.poll(async () => (await stack.client.runs.get(a, run.run_id)).status).toBe('running');

    const empty = await post('/runs/cancel', {});
    expect(empty.status).toBe(422);
    expect(((await empty.json()) as { message: string }).message).toContain('thread_id, run_ids or status');
    expect((await stack.client.runs.get(a, run.run_id)).status).toBe('running');
    await stack.client.runs.cancel(a, run.run_id, true);
  });

  it('asks every thread even after one fails, and names each failure', async () => {
    const a = (await stack.client.threads.create()).thread_id;
    const run = await stack.client.runs.create(a, 'agent', { input: human('long'), config: slow });
    await expect.poll(async () => (await stack.client.runs.get(a, run.run_id)).status).toBe('running');

    // Thread B has a pending run whose workflow runs on a task queue no worker polls: its cancel cannot succeed.
    // It is newer than A's run, so the cancel reaches it first.
    const b = (await stack.client.threads.create()).thread_id;
    const stuck = await stack.temporal.workflow.start('threadWorkflow', {
      workflowId: threadWorkflowId(b),
      taskQueue: `nobody-${randomBytes(4).toString('hex')}`,
      args: [{ threadId: b, head: await readHead(stack.db, b), queue: [] }],
    });
    const pendingId = '00000000-0000-4000-8000-00000000000b';
    await insertRunRequest(stack.db, {
      run_id: pendingId,
      thread_id: b,
      assistant_id: systemAssistantId('agent'),
      metadata: {},
      kwargs: {},
      multitask_strategy: 'enqueue',
      // Never read: this thread's workflow polls a task queue no worker serves.
      spec: {} as RunSpec,
    });
    await promoteRunRequest(stack.db, pendingId);
    try {
      const res = await post('/runs/cancel', { status: 'all' });
      const body = (await res.json()) as { message: string; details: { path: string }[] };
      expect(res.status).toBe(503);
      expect(body.message).toContain(`Cancelled the runs of 1 of 2 threads`);
      expect(body.details.map((d) => d.path)).toEqual([`thread_id:${b}`]);
      // A's run was cancelled although B failed first.
      await expect.poll(async () => (await stack.client.runs.get(a, run.run_id)).status).toBe('interrupted');
      expect((await stack.client.runs.get(b, pendingId)).status).toBe('pending');
    } finally {
      await stuck.terminate().catch(() => undefined);
    }
  }, 60_000);
});

describe('system assistants', () => {
  it('answer 409 to delete, by graph id or by id, and runs on them keep working', async () => {
    for (const id of ['agent', systemAssistantId('agent')]) {
      const res = await fetch(`${stack.url}/assistants/${id}`, { method: 'DELETE' });
      expect(res.status).toBe(409);
    }
    const thread = (await stack.client.threads.create()).thread_id;
    const out = (await stack.client.runs.wait(thread, 'agent', { input: human('still there?') })) as { messages: { content: string }[] };
    expect(out.messages.at(-1)!.content).toBe('still there?');
    const mine = await stack.client.assistants.create({ graphId: 'agent' });
    expect((await fetch(`${stack.url}/assistants/${mine.assistant_id}`, { method: 'DELETE' })).status).toBe(204);
  });
});

describe('GET /ok', () => {
  it('checks the database only when asked, as the Python Agent Server does', async () => {
    const get = async (q: string) => {
      const res = await fetch(`${stack.url}/ok${q}`);
      return [res.status, await res.json()];
    };
    expect(await get('')).toEqual([200, { ok: true, services: { database: 'skipped' } }]);
    expect(await get('?check_db=1')).toEqual([200, { ok: true, services: { database: 'healthy' } }]);
    expect((await get('?check_db=yes'))[0]).toBe(422);
  });
});
