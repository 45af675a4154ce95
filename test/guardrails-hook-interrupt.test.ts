import type { Client } from '@langchain/langgraph-sdk';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadWorkflowId } from '../core/ids.js';
import { defineMiddleware } from '../core/middleware/define.js';
import { askPerson } from './helpers/ask-middleware.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// Issue #12: a middleware's step hook pauses the thread for a person (ctx.interrupt), as a tool can. The thread
// waits on the hook's node with a dynamic interrupt; a resume runs that hook again, ctx.interrupt answers, and the
// graph goes on. before_model and after_model run inside the model activity (Patch.hooksInModel, the default);
// before_agent runs as a phase of its own.

/** Notes each before_model it runs, so a test sees what an earlier hook of the phase committed (and that it ran once). */
const noter = defineMiddleware<Record<string, unknown>>({
  name: 'noter',
  beforeModel: (ctx) => ({ update: { notes: [...(Array.isArray(ctx.state.notes) ? ctx.state.notes : []), ctx.id] } }),
});

/** Model calls per run: a call's stream starts at chunk 0. */
const calls = new Map<string, number>();
const onModelChunk = (runId: string, index: number) => void (index === 0 && calls.set(runId, (calls.get(runId) ?? 0) + 1));

/**
 * `workflowId/activityType` armed to fail once right after the activity finished (its commits landed), as when a
 * worker dies before reporting: Temporal runs the activity again.
 */
const armed = new Set<string>();
const injected = new Set<string>();
const failAfterCommit: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    execute: async (input, next) => {
      const result: unknown = await next(input);
      const key = `${ctx.info.workflowExecution?.workflowId}/${ctx.info.activityType}`;
      if (!armed.has(key) || injected.has(key)) return result;
      injected.add(key);
      throw new Error(`injected: ${key} lost its result after committing`);
    },
  },
});

let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack({ middleware: [askPerson, noter], hooks: { onModelChunk }, activityInterceptors: [failAfterCommit] });
  client = stack.client;
});
afterAll(() => stack?.stop());

interface Values {
  messages: { type: string; content: string }[];
  notes?: string[];
  answers_Q?: unknown[];
  __interrupt__?: { id: string; value: { question: string; hook: string } }[];
}

/** Runs on the thread until the run ends; answers its final values (with `__interrupt__` when it paused). */
const runTo = async (threadId: string, body: Parameters<Client['runs']['wait']>[2]) =>
  (await client.runs.wait(threadId, 'agent', body)) as unknown as Values;

const config = (middleware: object[]) => ({ configurable: { middleware, script: [{ content: 'done' }] } });

/** Runs on a new thread until the run ends; the caller expects it to stop at the hook's interrupt. */
async function park(cfg: object): Promise<{ threadId: string; first: Values }> {
  const threadId = (await client.threads.create()).thread_id;
  const first = await runTo(threadId, { input: human('hi'), config: cfg });
  return { threadId, first };
}

async function expectWaitingOn(threadId: string, node: string, question: string): Promise<string> {
  expect((await client.threads.get(threadId)).status).toBe('interrupted');
  const state = await client.threads.getState(threadId);
  expect(state.next).toEqual([node]);
  expect(state.tasks).toHaveLength(1);
  expect(state.tasks[0]!.name).toBe(node);
  const interrupt = state.tasks[0]!.interrupts[0]!;
  expect(interrupt.value).toEqual({ question, hook: node.slice(node.indexOf('.') + 1) });
  const [run] = await client.runs.list(threadId, { limit: 1 });
  // As with any interrupt, the run ended well; it is the thread that waits.
  expect(run!.status).toBe('success');
  return interrupt.id!;
}

describe('a before_model hook', () => {
  it('pauses after the earlier hooks of its phase commit, and goes on with the answer', async () => {
    const cfg = config([
      { name: 'noter', id: 'N' },
      { name: 'ask_person', id: 'Q', options: { at: 'before_model' } },
    ]);
    const { threadId, first } = await park(cfg);
    expect(first.__interrupt__).toHaveLength(1);
    const id = await expectWaitingOn(threadId, 'Q.before_model', 'Q asks 1');
    expect(first.__interrupt__![0]!.id).toBe(id);
    // N's write landed before Q asked; the model has not run.
    expect(first.notes).toEqual(['N']);
    expect(first.messages.map((m) => m.type)).toEqual(['human']);

    const done = await runTo(threadId, { command: { resume: 'yes' }, config: cfg });
    expect(done.__interrupt__).toBeUndefined();
    expect(done.answers_Q).toEqual(['yes']);
    // The phase went on from Q: N did not run again, and the model answered once.
    expect(done.notes).toEqual(['N']);
    expect(done.messages.map((m) => [m.type, m.content])).toEqual([
      ['human', 'hi'],
      ['ai', 'done'],
    ]);
    expect((await client.threads.get(threadId)).status).toBe('idle');
    const state = await client.threads.getState(threadId);
    expect(state.next).toEqual([]);
    // Q's answered step is a checkpoint of its own, as any hook's is.
    const history = await client.threads.getHistory(threadId, { limit: 20 });
    expect(history.map((h) => Object.keys(h.metadata?.writes ?? {})[0]).filter(Boolean)).toContain('Q.before_model');
  });
});

describe('an after_model hook (inside the model activity)', () => {
  it('pauses after the turn and finishes the run once answered', async () => {
    const cfg = config([{ name: 'ask_person', id: 'Q', options: { at: 'after_model' } }]);
    const { threadId, first } = await park(cfg);
    await expectWaitingOn(threadId, 'Q.after_model', 'Q asks 1');
    expect(first.messages.map((m) => m.type)).toEqual(['human', 'ai']);

    const done = await runTo(threadId, { command: { resume: { ok: true } }, config: cfg });
    expect(done.answers_Q).toEqual([{ ok: true }]);
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai']);
    expect((await client.threads.get(threadId)).status).toBe('idle');
  });
});

describe('a hook that asks twice', () => {
  it('raises a second interrupt after the first answer, and gets both answers in order (before_agent)', async () => {
    const cfg = config([{ name: 'ask_person', id: 'Q', options: { at: 'before_agent', questions: 2 } }]);
    const { threadId } = await park(cfg);
    const firstId = await expectWaitingOn(threadId, 'Q.before_agent', 'Q asks 1');

    const second = await runTo(threadId, { command: { resume: 'a1' }, config: cfg });
    expect(second.__interrupt__).toHaveLength(1);
    const secondId = await expectWaitingOn(threadId, 'Q.before_agent', 'Q asks 2');
    expect(secondId).not.toBe(firstId);
    expect(second.answers_Q).toBeUndefined();

    const done = await runTo(threadId, { command: { resume: 'a2' }, config: cfg });
    expect(done.answers_Q).toEqual(['a1', 'a2']);
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai']);
    expect((await client.threads.get(threadId)).status).toBe('idle');
  });
});

describe('an after_agent hook', () => {
  it('pauses the end of the invocation and closes it once answered', async () => {
    const cfg = config([{ name: 'ask_person', id: 'Q', options: { at: 'after_agent' } }]);
    const { threadId } = await park(cfg);
    await expectWaitingOn(threadId, 'Q.after_agent', 'Q asks 1');
    const done = await runTo(threadId, { command: { resume: 'bye' }, config: cfg });
    expect(done.answers_Q).toEqual(['bye']);
    expect((await client.threads.getState(threadId)).next).toEqual([]);
    expect((await client.threads.get(threadId)).status).toBe('idle');
  });
});

describe('a before_model phase run by the workflow (a run that pauses after the model)', () => {
  it('pauses, and a resume goes on to the model without running the phase again', async () => {
    const cfg = config([
      { name: 'noter', id: 'N' },
      { name: 'ask_person', id: 'Q', options: { at: 'before_model' } },
    ]);
    const threadId = (await client.threads.create()).thread_id;
    const first = await runTo(threadId, { input: human('hi'), config: cfg, interruptAfter: ['agent'] });
    expect(first.notes).toEqual(['N']);
    await expectWaitingOn(threadId, 'Q.before_model', 'Q asks 1');
    const done = await runTo(threadId, { command: { resume: 'go' }, config: cfg, interruptAfter: ['agent'] });
    expect(done.answers_Q).toEqual(['go']);
    expect(done.notes).toEqual(['N']);
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai']);
    expect((await client.threads.get(threadId)).status).toBe('idle');
  });
});

describe('a before_model hook under interrupt_before the model', () => {
  it('goes on to the model after the answer, without pausing again or rerunning the phase', async () => {
    const cfg = config([
      { name: 'noter', id: 'N' },
      { name: 'ask_person', id: 'Q', options: { at: 'before_model' } },
    ]);
    const body = { config: cfg, interruptBefore: ['agent'] };
    const threadId = (await client.threads.create()).thread_id;
    await runTo(threadId, { input: human('hi'), ...body });
    // Precondition: the breakpoint stopped the run before the agent step (its before_model phase included).
    expect((await client.threads.getState(threadId)).next).toEqual(['agent']);
    const asked = await runTo(threadId, { input: null, ...body });
    expect(asked.notes).toEqual(['N']);
    await expectWaitingOn(threadId, 'Q.before_model', 'Q asks 1');
    const done = await runTo(threadId, { command: { resume: 'go' }, ...body });
    expect(done.answers_Q).toEqual(['go']);
    expect(done.notes).toEqual(['N']);
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai']);
  });
});

describe('an answer that makes the hook jump', () => {
  it('ends the run along the jump: no model call', async () => {
    const cfg = config([{ name: 'ask_person', id: 'Q', options: { at: 'before_model' } }]);
    const { threadId } = await park(cfg);
    await expectWaitingOn(threadId, 'Q.before_model', 'Q asks 1');
    const done = await runTo(threadId, { command: { resume: 'stop' }, config: cfg });
    expect(done.answers_Q).toEqual(['stop']);
    expect(done.messages.map((m) => m.type)).toEqual(['human']);
    expect((await client.threads.getState(threadId)).next).toEqual([]);
    expect((await client.threads.get(threadId)).status).toBe('idle');
  });
});

describe('a phase that paused, retried after its commit', () => {
  it.each([
    ['callModel', 'after_model'],
    ['runHooks', 'before_agent'],
  ] as const)('%s: the retry finds the interrupt it committed and asks nothing again', async (activity, at) => {
    const cfg = config([{ name: 'ask_person', id: 'Q', options: { at } }]);
    const threadId = (await client.threads.create()).thread_id;
    armed.add(`${threadWorkflowId(threadId)}/${activity}`);
    const run = await client.runs.create(threadId, 'agent', { input: human('hi'), config: cfg });
    await client.runs.join(threadId, run.run_id);
    // Precondition: the activity's first attempt committed, then failed.
    expect(injected.has(`${threadWorkflowId(threadId)}/${activity}`)).toBe(true);
    const id = await expectWaitingOn(threadId, `Q.${at}`, 'Q asks 1');
    expect(calls.get(run.run_id) ?? 0).toBe(at === 'after_model' ? 1 : 0);
    // One interrupt checkpoint: the retry committed nothing more.
    const history = await client.threads.getHistory(threadId, { limit: 20 });
    expect(history.filter((h) => h.next.includes(`Q.${at}`)).map((h) => h.tasks[0]!.interrupts[0]!.id)).toEqual([id]);
    const done = await runTo(threadId, { command: { resume: 'fine' }, config: cfg });
    expect(done.answers_Q).toEqual(['fine']);
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai']);
  });
});

describe('a state update while a hook waits', () => {
  it('keeps the thread waiting on the hook, which asks again on the next run', async () => {
    const cfg = config([{ name: 'ask_person', id: 'Q', options: { at: 'before_model' } }]);
    const { threadId } = await park(cfg);
    const firstId = await expectWaitingOn(threadId, 'Q.before_model', 'Q asks 1');
    await client.threads.updateState(threadId, { values: { notes: ['edited'] } });
    const state = await client.threads.getState(threadId);
    expect(state.next).toEqual(['Q.before_model']);
    expect((state.values as unknown as Values).notes).toEqual(['edited']);

    const again = await runTo(threadId, { input: null, config: cfg });
    expect(again.__interrupt__).toHaveLength(1);
    expect(await expectWaitingOn(threadId, 'Q.before_model', 'Q asks 1')).not.toBe(firstId);
    const done = await runTo(threadId, { command: { resume: 'ok' }, config: cfg });
    expect(done.answers_Q).toEqual(['ok']);
    expect(done.notes).toEqual(['edited']);
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai']);
  });
});
