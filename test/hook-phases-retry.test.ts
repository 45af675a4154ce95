import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadWorkflowId } from '../core/ids.js';
import { defineMiddleware } from '../core/middleware/define.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// The model activity runs a step's hook phases (Patch.hooksInModel). A hook that fails once, before, between or
// after the step's commits, makes Temporal retry the whole activity: the retry must go on from the first phase
// that has not committed, so the model is not asked again once its answer is stored and no counter counts twice.

type FailAt = 'before_model' | 'after_model' | 'after_agent';
/** `runId/hook` of every failure thrown: each run's hook fails on its first call only. */
const failed = new Set<string>();
const failOnce = (runId: string, hook: FailAt, at: FailAt) => {
  if (hook !== at || failed.has(`${runId}/${hook}`)) return;
  failed.add(`${runId}/${hook}`);
  throw new Error(`flaky ${hook}`); // retryable: the activity runs again
};
const flaky = defineMiddleware<{ failAt: FailAt }>({
  name: 'flaky',
  beforeModel: (ctx) => failOnce(ctx.run.runId, 'before_model', ctx.options.failAt),
  afterModel: (ctx) => failOnce(ctx.run.runId, 'after_model', ctx.options.failAt),
  afterAgent: (ctx) => failOnce(ctx.run.runId, 'after_agent', ctx.options.failAt),
});

/** Model calls per run: a call's stream starts at chunk 0. */
const calls = new Map<string, number>();
const onModelChunk = (runId: string, index: number) => void (index === 0 && calls.set(runId, (calls.get(runId) ?? 0) + 1));

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ middleware: [flaky], hooks: { onModelChunk } });
});
afterAll(() => stack?.stop());

interface Values {
  messages: { type: string; content: string }[];
  threadModelCallCount?: number;
  runModelCallCount?: number;
}

describe('hook phases in the model activity, retried', () => {
  it.each(['before_model', 'after_model', 'after_agent'] as const)(
    'after a failure in %s: one answer per turn, each call counted once',
    async (failAt) => {
      const threadId = (await stack.client.threads.create()).thread_id;
      const middleware = [
        { name: 'model_call_limit', options: { threadLimit: 10 } },
        { name: 'flaky', options: { failAt } },
      ];
      const script = [{ tool_calls: [{ name: 'calculator', args: { expression: '1+1' } }] }, { content: 'done' }];
      const run = await stack.client.runs.create(threadId, 'agent', {
        input: human('go'),
        config: { configurable: { middleware, script } },
      });
      await stack.client.runs.join(threadId, run.run_id);

      // Preconditions: the hook failed, and Temporal ran the model activity again.
      expect(failed.has(`${run.run_id}/${failAt}`)).toBe(true);
      const history = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).fetchHistory();
      const attempts = (history.events ?? []).flatMap((e) =>
        e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : [],
      );
      expect(Math.max(...attempts.map(Number))).toBe(2);

      expect(calls.get(run.run_id)).toBe(2); // an answer already stored is not asked for again
      const values = (await stack.client.threads.getState(threadId)).values as unknown as Values;
      expect(values.messages.filter((m) => m.type === 'ai').map((m) => m.content)).toEqual(['', 'done']);
      expect(values.threadModelCallCount).toBe(2);
      expect(values.runModelCallCount).toBe(0); // after_agent closed the run
      const nodes = (await stack.client.threads.getHistory(threadId, { limit: 50 })).flatMap((h) => Object.keys(h.metadata?.writes ?? {}));
      const count = (node: string) => nodes.filter((n) => n === node).length;
      expect([count('agent'), count('model_call_limit.after_model'), count('model_call_limit.after_agent')]).toEqual([2, 2, 1]);
    },
  );
});
