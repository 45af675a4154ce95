import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { freePort, startDevServer, type DevServer } from '../scripts/temporal-cli.js';
import { threadWorkflowId } from '../core/ids.js';
import { threadSnapshot } from '../workflows/messages.js';
import { ModelGate } from './helpers/gate.js';
import { startStack, testModels, type Stack } from './helpers/stack.js';
import { human } from './helpers/input.js';

// Long-lived threads continue as new when Temporal suggests it, so no history grows without bound. A dev server
// of its own suggests it after 40 events; the thread keeps its state, its queue of runs and its pending
// interrupts across the boundary, and a long run continues as new between two of its steps.

const gate = new ModelGate();
let server: DevServer;
let stack: Stack;
beforeAll(async () => {
  server = await startDevServer({
    binary: inject('temporalBinary'),
    port: await freePort(),
    uiPort: null,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
    log: createLogger('warn'),
  });
  stack = await startStack({ temporalAddress: server.address, models: gate.wrap(testModels()) });
}, 120_000);
afterEach(() => gate.releaseAll());
afterAll(async () => {
  await stack?.stop();
  await server?.stop();
});

type Values = { messages: { type: string; content: string }[]; __interrupt__?: unknown[] };

async function runsOfWorkflow(threadId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const w of stack.temporal.workflow.list({ query: `WorkflowId = '${threadWorkflowId(threadId)}'` })) runs.push(w.runId);
  return runs;
}

describe('continue-as-new', () => {
  it('carries state, queued runs and pending interrupts into the new run', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const slow = { configurable: { script: Array.from({ length: 12 }, (_, i) => ({ content: `answer ${i}`, delay_ms: 50 })) } };
    // The first answer waits until the other four are queued behind it.
    const first = gate.hold('q1');
    const queued = [];
    for (const text of ['q1', 'q2', 'q3', 'q4', 'q5']) {
      queued.push(await stack.client.runs.create(threadId, 'agent', { input: human(text), config: slow, multitaskStrategy: 'enqueue' }));
      if (text === 'q1') await expect.poll(() => first.entered).toBeGreaterThan(0);
    }
    const snapshot = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).query(threadSnapshot);
    expect(snapshot.queuedRunIds).toEqual(queued.slice(1).map((r) => r.run_id));
    first.release();
    const last = (await stack.client.runs.join(threadId, queued.at(-1)!.run_id)) as Values;
    expect(last.messages.filter((m) => m.type === 'human').map((m) => m.content)).toEqual(['q1', 'q2', 'q3', 'q4', 'q5']);
    expect(last.messages.filter((m) => m.type === 'ai').map((m) => m.content)).toEqual([
      'answer 0',
      'answer 1',
      'answer 2',
      'answer 3',
      'answer 4',
    ]);
    // All five were queued at once and each run takes more than 20 events, so the workflow continued as new
    // while runs were still waiting: they crossed the boundary in the carried queue.
    expect((await runsOfWorkflow(threadId)).length).toBeGreaterThanOrEqual(2);

    const review = {
      configurable: {
        script: [
          ...slow.configurable.script.slice(0, 5),
          { tool_calls: [{ name: 'create_ticket', args: { title: 'after many runs' } }] },
          { content: 'ticket made' },
        ],
        interrupt_on: { create_ticket: true },
      },
    };
    const paused = (await stack.client.runs.wait(threadId, 'agent', { input: human('make a ticket'), config: review })) as Values;
    expect(paused.__interrupt__).toHaveLength(1);
    // Wait for the now idle thread to act on the suggestion: a third execution, with the interrupt still pending.
    await expect.poll(async () => (await runsOfWorkflow(threadId)).length).toBeGreaterThanOrEqual(3);

    const done = (await stack.client.runs.wait(threadId, 'agent', {
      command: { resume: { decisions: [{ type: 'approve' }] } },
      config: review,
    })) as Values;
    expect(done.messages.at(-1)!.content).toBe('ticket made');
    const history = await stack.client.threads.getHistory(threadId, { limit: 100 });
    expect(history[0]!.parent_checkpoint?.checkpoint_id).toBe(history[1]!.checkpoint.checkpoint_id);
    const latest = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).describe();
    expect(latest.historyLength).toBeLessThan(120);
  });

  it('continues as new inside a 500-step run, so no history of it grows without bound', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const turns = 249;
    const script = [
      ...Array.from({ length: turns }, (_, i) => ({ tool_calls: [{ name: 'calculator', args: { expression: `${i}+1` } }] })),
      { content: 'counted' },
    ];
    const config = { configurable: { script }, recursion_limit: 600 };
    const done = (await stack.client.runs.wait(threadId, 'agent', { input: human('count'), config })) as Values;
    // Each turn is a model step and a tools step: 499 steps in one run.
    expect(done.messages).toHaveLength(2 + 2 * turns);
    expect(done.messages.at(-1)!.content).toBe('counted');
    const runs = await stack.client.runs.list(threadId);
    expect(runs.map((r) => r.status)).toEqual(['success']);
    expect(await stack.client.threads.getHistory(threadId, { limit: 1000 })).toHaveLength(2 + 2 * turns + 1);
    // The run crossed many workflow runs, none of which holds much more history than the suggestion threshold.
    const workflowRuns = await runsOfWorkflow(threadId);
    expect(workflowRuns.length).toBeGreaterThan(20);
    for (const runId of workflowRuns) {
      const d = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId), runId).describe();
      expect(d.historyLength).toBeLessThan(120);
    }
  }, 300_000);
});
