import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listGuardrailEvents } from '../db/guardrails.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// summarization on a real stack. The scripted model writes the summary too: asked with no script, it echoes the
// summary prompt, so the summary shows exactly which messages it was given.

type Msg = { id: string; type: string; content: string; tool_calls?: { id: string }[]; tool_call_id?: string };
type Values = { messages: Msg[] };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

const sums = ['1+1', '2+2', '3+3'].map((expression, i) => ({ name: 'calculator', args: { expression }, id: `call_${i}` }));
const middleware = [
  {
    name: 'summarization',
    options: { model: 'scripted', trigger: { messages: 4 }, keep: { messages: 2 }, summaryPrompt: 'SUMMARIZE\n{messages}' },
  },
];

describe('summarization', () => {
  it('replaces older messages with a summary, keeps tool-call pairs whole, and time travel to before it still works', async () => {
    const thread = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('start the sums'),
      config: { configurable: { script: [{ tool_calls: sums }, { content: 'done' }], middleware } },
    });
    const values = (await stack.client.runs.join(thread.thread_id, run.run_id)) as Values;
    // Five messages passed the trigger (4); keeping 2 would cut between the AI message and its three results, so
    // the kept tail starts at the AI message: only the human input is summarized.
    expect(values.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'tool', 'tool', 'ai']);
    const [summary, ai, ...rest] = values.messages;
    expect(summary!.content).toMatch(/^Here is a summary of the conversation to date:\n\nSUMMARIZE\nhuman: start the sums$/);
    expect(ai!.tool_calls!.map((c) => c.id)).toEqual(['call_0', 'call_1', 'call_2']);
    expect(rest.slice(0, 3).map((m) => [m.tool_call_id, m.content])).toEqual([
      ['call_0', '2'],
      ['call_1', '4'],
      ['call_2', '6'],
    ]);
    expect(rest.at(-1)!.content).toBe('done');
    const fired = await listGuardrailEvents(stack.db, run.run_id);
    expect(fired.map((f) => [f.action, f.hook, f.detail])).toEqual([['summarized', 'before_model', { replaced: 1, kept: 4 }]]);

    // The summary is a step of its own; the checkpoint before it still holds the original messages.
    const history = await stack.client.threads.getHistory(thread.thread_id, { limit: 50 });
    const summarized = history.find((s) => (s.metadata as { writes?: Record<string, unknown> }).writes?.['summarization.before_model']);
    expect(summarized).toBeDefined();
    const before = await stack.client.threads.getState(thread.thread_id, summarized!.parent_checkpoint!.checkpoint_id!);
    const old = (before.values as Values).messages;
    expect(old.map((m) => m.content)).toContain('start the sums');
    expect(old.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'tool', 'tool']);

    // And a run from there (a fork, without the middleware) continues the unsummarized history.
    const forked = (await stack.client.runs.wait(thread.thread_id, 'agent', {
      input: human('and now?'),
      checkpointId: summarized!.parent_checkpoint!.checkpoint_id!,
      config: { configurable: { script: [{ content: 'unused' }, { content: 'resumed' }] } },
    })) as Values;
    expect(forked.messages.map((m) => m.content)).toEqual(['start the sums', '', '2', '4', '6', 'and now?', 'resumed']);
  });
});
