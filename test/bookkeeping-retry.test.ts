import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadWorkflowId } from '../core/ids.js';
import { threadSnapshot } from '../workflows/messages.js';
import { bundleWithFaults, TaskFaults } from './helpers/faults.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// Durable bookkeeping under workflow-task retries. A test-only hook fails the workflow task right after a
// bookkeeping local activity has committed (as a worker dying at that moment would), so the retried task runs the
// activity again; the model activity, which ends a run whose graph it ends (Patch.finishInModel), fails its
// attempt after its commit instead, so Temporal runs it again. Every write must find its own earlier commit and change nothing: the run completes with one
// checkpoint per step, one `__end__` event and the same event log as a run without faults. Faults are spread so
// that no task fails twice in a row (Temporal backs off from the third attempt of a task).

const faults = new TaskFaults();
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', workflowBundlePath: await bundleWithFaults(), activityInterceptors: [faults.interceptor] });
}, 180_000);
afterAll(() => stack?.stop());

const script = (...steps: object[]) => ({ configurable: { script: steps } });
// The scripted model answers by turn: the first run of a thread gets the greeting, the second calls the tool.
const toolTurn = script(
  { content: 'hello' },
  { tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }] },
  { content: 'It is 42.' },
);

async function events(runId: string): Promise<string[]> {
  const r = await stack.db.query<{ event: string }>('SELECT event FROM run_events WHERE run_id = $1 ORDER BY seq', [runId]);
  return r.rows.map((e) => e.event);
}

async function steps(threadId: string): Promise<number[]> {
  return (await stack.client.threads.getHistory(threadId, { limit: 100 })).map((h) => h.metadata!.step as number);
}

const injected = (threadId: string) => faults.injectedInto(threadWorkflowId(threadId));

/** A thread with one finished run, its workflow at rest, and faults armed after the given activities. */
async function armedThread(types: string[]): Promise<string> {
  const threadId = (await stack.client.threads.create({ graphId: 'agent' })).thread_id;
  await stack.client.runs.wait(threadId, 'agent', { input: human('one'), config: toolTurn });
  // runs.wait answers once the run's end is stored; the workflow takes a moment more to be at rest.
  const handle = stack.temporal.workflow.getHandle(threadWorkflowId(threadId));
  await expect.poll(async () => (await handle.query(threadSnapshot)).activeRunId === null).toBe(true);
  faults.arm(threadWorkflowId(threadId), types);
  return threadId;
}

describe('a workflow task that fails after a bookkeeping write', () => {
  it.each([
    // A run with input on an idle thread is recorded, started and given its input in one local activity (Patch.admitBegin);
    // its last model turn ends it.
    ['claimAndBeginRun', 'callModel'],
    ['claimAndBeginRun', 'commitTools'],
  ])('leaves the run complete after faults at %s and %s, with one checkpoint per step and one end event', async (...types) => {
    const baseline = await armedThread([]);
    const clean = await stack.client.runs.create(baseline, 'agent', { input: human('6*7?'), config: toolTurn });
    await stack.client.runs.join(baseline, clean.run_id);

    const threadId = await armedThread(types);
    const run = await stack.client.runs.create(threadId, 'agent', { input: human('6*7?'), config: toolTurn });
    const done = (await stack.client.runs.join(threadId, run.run_id)) as { messages: { type: string; content: string }[] };

    // The hook notes a fault just after the write it follows, which the run may outpace.
    await expect.poll(async () => injected(threadId).length === types.length).toBe(true);
    expect(injected(threadId).sort()).toEqual([...types].sort());
    expect((await stack.client.runs.get(threadId, run.run_id)).status).toBe('success');
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai', 'human', 'ai', 'tool', 'ai']);
    // The first run (input, loop, model), then this one: input, loop, model, tools, model.
    expect(await steps(threadId)).toEqual([6, 5, 4, 3, 2, 1, 0, -1]);
    const log = await events(run.run_id);
    expect(log.filter((e) => e === '__end__')).toHaveLength(1);
    expect(log).toEqual(await events(clean.run_id));
    expect((await stack.client.threads.get(threadId)).status).toBe('idle');
    const next = (await stack.client.runs.wait(threadId, 'agent', { input: human('and now?') })) as { messages: unknown[] };
    expect(next.messages).toHaveLength(8);
  });

  it('starts and ends once a run whose start and end share one workflow task', async () => {
    const threadId = await armedThread(['finishRun']);
    // A breakpoint before the model: admission, start, input and end are all local, in one task.
    const run = await stack.client.runs.create(threadId, 'agent', { input: human('stop early'), interruptBefore: ['agent'] });
    await stack.client.runs.join(threadId, run.run_id);
    await expect.poll(async () => injected(threadId).length === 1).toBe(true);
    expect((await stack.client.runs.get(threadId, run.run_id)).status).toBe('success');
    expect((await events(run.run_id)).filter((e) => e === '__end__')).toHaveLength(1);
    expect(await steps(threadId)).toEqual([3, 2, 1, 0, -1]);
    expect((await stack.client.threads.get(threadId)).status).toBe('interrupted');
  });

  it('keeps a state update to one checkpoint', async () => {
    const threadId = await armedThread(['commitUpdate']);
    await stack.client.threads.updateState(threadId, { values: { note: 'edited' }, asNode: 'agent' });
    expect(injected(threadId)).toEqual(['commitUpdate']);
    expect(await steps(threadId)).toEqual([2, 1, 0, -1]);
    expect((await stack.client.threads.getState(threadId)).values).toMatchObject({ note: 'edited' });
  });

  it('keeps a command.update to one checkpoint', async () => {
    const threadId = await armedThread(['commitUpdate', 'callModel']);
    // A command takes the place of input (as in the production Agent Server), so goto makes the model answer again.
    const run = await stack.client.runs.create(threadId, 'agent', { command: { update: { note: 'again' }, goto: 'agent' } });
    await stack.client.runs.join(threadId, run.run_id);
    await expect.poll(async () => injected(threadId).length === 2).toBe(true);
    expect(injected(threadId).sort()).toEqual(['callModel', 'commitUpdate']);
    expect((await stack.client.runs.get(threadId, run.run_id)).status).toBe('success');
    // The update (step 2), then the model turn (3).
    expect(await steps(threadId)).toEqual([3, 2, 1, 0, -1]);
    expect((await events(run.run_id)).filter((e) => e === '__end__')).toHaveLength(1);
  });

  it('keeps a fork to one checkpoint', async () => {
    const threadId = await armedThread(['forkFrom']);
    const first = (await stack.client.threads.getHistory(threadId)).find((h) => h.metadata!.step === 0)!;
    const fork = await stack.client.runs.create(threadId, 'agent', { input: null, checkpointId: first.checkpoint.checkpoint_id! });
    await stack.client.runs.join(threadId, fork.run_id);
    expect(injected(threadId)).toEqual(['forkFrom']);
    expect((await stack.client.runs.get(threadId, fork.run_id)).status).toBe('success');
    // One fork checkpoint copying step 0 (so step 1), then one model turn.
    const history = await stack.client.threads.getHistory(threadId, { limit: 3 });
    expect(history.map((h) => [h.metadata!.source, h.metadata!.step])).toEqual([
      ['loop', 2],
      ['fork', 1],
      ['loop', 1],
    ]);
    expect((await events(fork.run_id)).filter((e) => e === '__end__')).toHaveLength(1);
  });
});
