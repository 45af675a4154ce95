import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTool } from '../activities/tools/types.js';
import type { RunSpec } from '../core/runs.js';
import { listEffects } from '../db/effects.js';
import { threadWorkflowId } from '../core/ids.js';
import { submitRun } from '../workflows/messages.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// Races and keys: a cancelled queued run, a thread deleted while a run is created on it, a preempting run whose
// request is gone, a tool-call id a model reuses, and user-chosen names that match Object.prototype.

const named = (name: string) => defineTool({ name, description: `A tool named ${name}.`, schema: z.object({}), run: () => `${name} ran` });

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', tools: [named('constructor'), named('__proto__')] });
}, 120_000);
afterAll(() => stack?.stop());

type Values = { messages: { type: string; content: string; name?: string }[]; __interrupt__?: { value: unknown }[] };
const script = (...steps: object[]) => ({ configurable: { script: steps } });
const slow = script({ content: 'slow answer', delay_ms: 2500 });

async function threadStatusAttribute(threadId: string): Promise<unknown> {
  const d = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).describe();
  return d.searchAttributes.ThreadStatus?.[0];
}

async function workflowRunning(threadId: string): Promise<boolean> {
  try {
    return (await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).describe()).status.name === 'RUNNING';
  } catch {
    return false;
  }
}

describe('thread status', () => {
  it('returns to idle when the only queued run was cancelled before the active one ended', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const a = await stack.client.runs.create(threadId, 'agent', { input: human('a'), config: slow });
    const b = await stack.client.runs.create(threadId, 'agent', { input: human('b'), multitaskStrategy: 'enqueue' });
    await expect.poll(async () => (await stack.client.runs.get(threadId, a.run_id)).status === 'running').toBe(true);
    await stack.client.runs.cancel(threadId, b.run_id);
    await stack.client.runs.join(threadId, a.run_id);
    await expect.poll(async () => (await stack.client.runs.get(threadId, b.run_id)).status === 'interrupted').toBe(true);
    await expect.poll(async () => (await stack.client.threads.get(threadId)).status === 'idle').toBe(true);
    await expect.poll(async () => (await threadStatusAttribute(threadId)) === 'idle').toBe(true);
  });
});

describe('deleting a thread while a run is created on it', () => {
  it('leaves no workflow behind, and the same thread id works again', async () => {
    for (let i = 0; i < 10; i++) {
      const threadId = (await stack.client.threads.create()).thread_id;
      const [created, deleted] = await Promise.all([
        fetch(`${stack.url}/threads/${threadId}/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ assistant_id: 'agent', input: human('racing') }),
        }),
        fetch(`${stack.url}/threads/${threadId}`, { method: 'DELETE' }),
      ]);
      expect([200, 404]).toContain(created.status);
      expect([204, 200, 404]).toContain(deleted.status);
      await expect
        .poll(
          async () =>
            !(await workflowRunning(threadId)) ||
            (await stack.client.threads.get(threadId).then(
              () => true,
              () => false,
            )),
        )
        .toBe(true);
      if (
        !(await stack.client.threads.get(threadId).then(
          () => true,
          () => false,
        ))
      ) {
        await expect.poll(async () => !(await workflowRunning(threadId))).toBe(true);
        await stack.client.threads.create({ threadId });
      }
      const again = (await stack.client.runs.wait(threadId, 'agent', { input: human('again') })) as Values;
      expect(again.messages.at(-1)!.content).toBe('again');
    }
  }, 180_000);
});

describe('interrupt and rollback', () => {
  it('leave the active run alone when the preempting run was never recorded', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const a = await stack.client.runs.create(threadId, 'agent', { input: human('a'), config: slow });
    await expect.poll(async () => (await stack.client.runs.get(threadId, a.run_id)).status === 'running').toBe(true);
    // What the API sends, for a request it has already given up on (its row is gone).
    const spec: RunSpec = {
      runId: randomUUID(),
      threadId,
      assistantId: a.assistant_id,
      graphId: 'agent',
      multitaskStrategy: 'interrupt',
      hasInput: true,
      command: null,
      checkpointId: null,
      interruptBefore: [],
      interruptAfter: [],
      streamModes: ['values'],
      afterSeconds: 0,
      strictResume: false,
      onCompletion: 'keep',
      agent: { model: 'scripted', systemPrompt: 'x', tools: [], maxSteps: 25, interruptOn: {} },
    };
    await stack.temporal.workflow
      .getHandle(threadWorkflowId(threadId))
      .executeUpdate(submitRun, { args: [spec] })
      .catch(() => undefined);
    await stack.client.runs.join(threadId, a.run_id);
    expect((await stack.client.runs.get(threadId, a.run_id)).status).toBe('success');
    expect((await stack.client.runs.list(threadId)).map((r) => r.run_id)).toEqual([a.run_id]);
  });
});

describe('tool idempotency keys', () => {
  it('tell apart two turns that reuse a tool-call id', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const config = script(
      { tool_calls: [{ name: 'create_ticket', args: { title: 'first' }, id: 'call_0' }] },
      { tool_calls: [{ name: 'create_ticket', args: { title: 'second' }, id: 'call_0' }] },
      { content: 'two tickets' },
    );
    const done = (await stack.client.runs.wait(threadId, 'agent', { input: human('two tickets'), config })) as Values;
    const results = done.messages
      .filter((m) => m.type === 'tool')
      .map((m) => JSON.parse(m.content) as { ticket_id: string; title: string });
    expect(results.map((r) => r.title)).toEqual(['first', 'second']);
    expect(results[0]!.ticket_id).not.toBe(results[1]!.ticket_id);
    const effects = await listEffects(stack.db, threadId);
    expect(effects.map((e) => e.args.title)).toEqual(['first', 'second']);
  });
});

describe('user-chosen names', () => {
  it('never match inherited properties', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const config = script({ tool_calls: [{ name: 'constructor' }, { name: 'toString' }, { name: 'hasOwnProperty' }] }, { content: 'ok' });
    const done = (await stack.client.runs.wait(threadId, 'agent', { input: human('names'), config })) as Values;
    expect(done.__interrupt__ ?? []).toEqual([]);
    expect(done.messages.filter((m) => m.type === 'tool').map((m) => m.content)).toEqual([
      'constructor ran',
      'Error: the tool "toString" is not available.',
      'Error: the tool "hasOwnProperty" is not available.',
    ]);
    expect((await stack.client.threads.get(threadId)).status).toBe('idle');
  });

  it('review a tool named __proto__ when interrupt_on names it, and run it once approved', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const config = {
      configurable: {
        script: [{ tool_calls: [{ name: '__proto__' }, { name: 'constructor' }] }, { content: 'ok' }],
        interrupt_on: JSON.parse('{"__proto__": true}') as Record<string, boolean>,
      },
    };
    const paused = (await stack.client.runs.wait(threadId, 'agent', { input: human('proto'), config })) as Values;
    expect(paused.__interrupt__).toHaveLength(1);
    expect(JSON.stringify(paused.__interrupt__![0]!.value)).toContain('"action_name":"__proto__"');
    const done = (await stack.client.runs.wait(threadId, 'agent', {
      command: { resume: { decisions: [{ type: 'approve' }] } },
      config,
    })) as Values;
    expect(done.messages.filter((m) => m.type === 'tool').map((m) => m.content)).toEqual(['__proto__ ran', 'constructor ran']);
  });

  it('answer 404 for an assistant named after an Object.prototype property', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    for (const name of ['constructor', 'toString', '__proto__']) {
      const res = await fetch(`${stack.url}/threads/${threadId}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ assistant_id: name, input: human('hi') }),
      });
      expect(res.status).toBe(404);
    }
  });
});
