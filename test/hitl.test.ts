import type { Client } from '@langchain/langgraph-sdk';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTool } from '../activities/tools/types.js';
import { listEffects } from '../db/effects.js';
import { startStack, type Stack } from './helpers/stack.js';
import { human } from './helpers/input.js';

// Human in the loop through the official SDK on a real stack: reviewed tool calls, parallel interrupts,
// dynamic interrupts, static breakpoints, commands, and bad resumes. The scripted model stands in for a model.

const invocations: string[] = [];
const lookup = defineTool({
  name: 'lookup',
  description: 'Looks something up (no review needed).',
  schema: z.object({ q: z.string() }),
  run: ({ q }) => {
    invocations.push(q);
    return `found ${q}`;
  },
});

let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack({ tools: [lookup] });
  client = stack.client;
});
afterAll(() => stack?.stop());

type Msg = { type: string; content: string; status?: string; tool_calls?: { name: string; args: Record<string, unknown> }[] };
type Values = {
  messages: Msg[];
  __interrupt__?: { id: string; value: { action_requests: { name: string; args: unknown }[]; review_configs: unknown[] } }[];
};
const ticket = (title: string) => ({ name: 'create_ticket', args: { title, priority: 'high' } });
const reviewed = (calls: object[], extra: Record<string, unknown> = {}) => ({
  configurable: { script: [{ tool_calls: calls }, { content: 'Ticket handled.' }], interrupt_on: { create_ticket: true }, ...extra },
});

async function parkOnReview(config: object): Promise<{ threadId: string; first: Values }> {
  const threadId = (await client.threads.create()).thread_id;
  const first = (await client.runs.wait(threadId, 'agent', { input: human('open a ticket'), config })) as Values;
  return { threadId, first };
}

function postRun(threadId: string, body: object): Promise<Response> {
  return fetch(`${stack.url}/threads/${threadId}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ assistant_id: 'agent', ...body }),
  });
}

describe('tool-call review', () => {
  it('approve runs the tool with the proposed arguments, once', async () => {
    const config = reviewed([ticket('Printer on fire')]);
    const { threadId, first } = await parkOnReview(config);
    expect(first.__interrupt__).toHaveLength(1);
    expect(first.__interrupt__![0]!.value).toEqual({
      action_requests: [
        {
          name: 'create_ticket',
          args: { title: 'Printer on fire', priority: 'high' },
          description: 'Tool execution pending approval: create_ticket',
        },
      ],
      review_configs: [{ action_name: 'create_ticket', allowed_decisions: ['approve', 'edit', 'reject', 'respond'] }],
    });
    const paused = await client.threads.get(threadId);
    expect(paused.status).toBe('interrupted');
    const state = await client.threads.getState(threadId);
    expect(state.next).toEqual(['tools']);
    expect(state.tasks[0]!.interrupts[0]!.id).toBe(first.__interrupt__![0]!.id);
    expect(await listEffects(stack.db, threadId)).toEqual([]);

    const done = (await client.runs.wait(threadId, 'agent', {
      command: { resume: { decisions: [{ type: 'approve' }] } },
      config,
    })) as Values;
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(done.__interrupt__).toBeUndefined();
    const effects = await listEffects(stack.db, threadId);
    expect(effects.map((e) => e.args)).toEqual([{ title: 'Printer on fire', priority: 'high' }]);
    expect(JSON.parse(done.messages[2]!.content)).toMatchObject({ title: 'Printer on fire', status: 'open' });
    expect((await client.threads.get(threadId)).status).toBe('idle');
  });

  it('edit runs the tool with the edited arguments and shows them to the model', async () => {
    const config = reviewed([ticket('Printer on fire')]);
    const { threadId } = await parkOnReview(config);
    const edited = { name: 'create_ticket', args: { title: 'Printer smoking', priority: 'low' } };
    const done = (await client.runs.wait(threadId, 'agent', {
      command: { resume: { decisions: [{ type: 'edit', edited_action: edited }] } },
      config,
    })) as Values;
    expect((await listEffects(stack.db, threadId)).map((e) => e.args)).toEqual([edited.args]);
    expect(done.messages[1]!.tool_calls![0]!.args).toEqual(edited.args);
  });

  it('reject returns the message to the model and never runs the tool', async () => {
    const config = reviewed([ticket('Printer on fire')]);
    const { threadId } = await parkOnReview(config);
    const done = (await client.runs.wait(threadId, 'agent', {
      command: { resume: { decisions: [{ type: 'reject', message: 'Not a real fire.' }] } },
      config,
    })) as Values;
    expect(await listEffects(stack.db, threadId)).toEqual([]);
    expect(done.messages[2]).toMatchObject({ type: 'tool', content: 'Not a real fire.', status: 'error' });
    expect(done.messages[3]!.content).toBe('Ticket handled.');
  });

  it('respond answers in place of the tool, which never runs', async () => {
    const config = reviewed([ticket('Printer on fire')]);
    const { threadId } = await parkOnReview(config);
    const done = (await client.runs.wait(threadId, 'agent', {
      command: { resume: { decisions: [{ type: 'respond', message: 'Ticket T-7 already covers this.' }] } },
      config,
    })) as Values;
    expect(await listEffects(stack.db, threadId)).toEqual([]);
    expect(done.messages[2]).toMatchObject({ type: 'tool', content: 'Ticket T-7 already covers this.', status: 'success' });
  });
});

describe('several reviewed calls in one turn', () => {
  it('raise one interrupt listing every call; decisions apply in call order; the unreviewed call ran once', async () => {
    invocations.length = 0;
    const config = reviewed([ticket('A'), { name: 'lookup', args: { q: 'manual' } }, ticket('B')]);
    const { threadId, first } = await parkOnReview(config);
    // LangChain's human-in-the-loop middleware: one interrupt per model turn, one request per reviewed call.
    expect(first.__interrupt__).toHaveLength(1);
    const pending = first.__interrupt__![0]!;
    expect(pending.value.action_requests.map((r) => r.args)).toEqual([
      { title: 'A', priority: 'high' },
      { title: 'B', priority: 'high' },
    ]);
    expect(pending.value.review_configs).toEqual([
      { action_name: 'create_ticket', allowed_decisions: ['approve', 'edit', 'reject', 'respond'] },
      { action_name: 'create_ticket', allowed_decisions: ['approve', 'edit', 'reject', 'respond'] },
    ]);
    expect(invocations).toEqual(['manual']);
    const state = await client.threads.getState(threadId);
    expect(state.tasks.flatMap((t) => t.interrupts.map((i) => i.id))).toEqual([pending.id]);

    const done = (await client.runs.wait(threadId, 'agent', {
      command: { resume: { decisions: [{ type: 'approve' }, { type: 'reject', message: 'No.' }] } },
      config,
    })) as Values;
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'tool', 'tool', 'ai']);
    expect(done.messages.slice(2, 5).map((m) => m.content.slice(0, 14))).toEqual([
      expect.stringContaining('"ticket_id"'),
      'found manual',
      'No.',
    ]);
    expect(invocations).toEqual(['manual']);
    expect((await listEffects(stack.db, threadId)).map((e) => e.args.title)).toEqual(['A']);
  });

  it('refuse a resume whose decisions do not match the calls, and change nothing', async () => {
    const config = reviewed([ticket('C'), ticket('D')]);
    const { threadId, first } = await parkOnReview(config);
    const before = await client.threads.getState(threadId);
    for (const decisions of [
      [{ type: 'reject', message: 'meant for D' }],
      [{ type: 'approve' }, { type: 'approve' }, { type: 'approve' }],
    ]) {
      const res = await postRun(threadId, { input: {}, command: { resume: { decisions } }, config });
      expect(res.status).toBe(422);
      expect(((await res.json()) as { message: string }).message).toContain('Expected 2 decisions');
    }
    expect(await client.threads.getState(threadId)).toEqual(before);
    expect(await listEffects(stack.db, threadId)).toEqual([]);

    // Answered by its id, the same interrupt resumes.
    const resume = { [first.__interrupt__![0]!.id]: { decisions: [{ type: 'approve' }, { type: 'edit', edited_action: ticket('D2') }] } };
    const done = (await client.runs.wait(threadId, 'agent', { command: { resume }, config })) as Values;
    expect(done.messages.at(-1)!.content).toBe('Ticket handled.');
    expect((await listEffects(stack.db, threadId)).map((e) => e.args.title)).toEqual(['C', 'D2']);
  });

  it('refuse a value that could answer either of two pending interrupts', async () => {
    const config = reviewed([ticket('E'), { name: 'ask_human', args: { question: 'Which queue?' } }]);
    const { threadId, first } = await parkOnReview(config);
    const [review, question] = first.__interrupt__!;
    expect([review!.value.action_requests.length, question!.value]).toEqual([1, { question: 'Which queue?' }]);
    const before = await client.threads.getState(threadId);
    const res = await postRun(threadId, { command: { resume: 'support' }, config });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toContain('answer them by id');
    expect(await client.threads.getState(threadId)).toEqual(before);

    const done = (await client.runs.wait(threadId, 'agent', {
      command: { resume: { [review!.id]: { decisions: [{ type: 'approve' }] }, [question!.id]: 'support' } },
      config,
    })) as Values;
    expect(done.messages.slice(2, 4).map((m) => m.content.slice(0, 14))).toEqual([expect.stringContaining('"ticket_id"'), 'support']);
  });
});

describe('agent-chat-ui requests', () => {
  it('an empty input next to a command is no input: the decision reaches the call', async () => {
    const config = reviewed([ticket('F')]);
    const { threadId } = await parkOnReview(config);
    const head = (await client.threads.getState(threadId)).checkpoint;
    const res = await postRun(threadId, {
      input: {},
      command: { resume: { decisions: [{ type: 'edit', edited_action: ticket('F, edited') }] } },
      checkpoint: head,
      on_disconnect: 'cancel',
      config,
    });
    expect(res.status).toBe(200);
    const done = (await client.runs.join(threadId, ((await res.json()) as { run_id: string }).run_id)) as Values;
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    expect((await listEffects(stack.db, threadId)).map((e) => e.args.title)).toEqual(['F, edited']);
  });

  it('goto __end__ is accepted and, as in LangGraph, leaves the reviewed call waiting', async () => {
    const config = reviewed([ticket('G')]);
    const { threadId, first } = await parkOnReview(config);
    const res = await postRun(threadId, { input: {}, command: { goto: '__end__' }, config });
    expect(res.status).toBe(200);
    const after = (await client.runs.join(threadId, ((await res.json()) as { run_id: string }).run_id)) as Values;
    expect(after.__interrupt__!.map((i) => i.id)).toEqual([first.__interrupt__![0]!.id]);
    expect((await client.threads.get(threadId)).status).toBe('interrupted');
    expect(await listEffects(stack.db, threadId)).toEqual([]);
    const done = (await client.runs.wait(threadId, 'agent', {
      input: {},
      command: { resume: { decisions: [{ type: 'approve' }] } },
      config,
    })) as Values;
    expect(done.messages.at(-1)!.content).toBe('Ticket handled.');
  });
});

describe('other pauses', () => {
  it('pauses on a dynamic interrupt from a tool and resumes with the answer', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const config = {
      configurable: { script: [{ tool_calls: [{ name: 'ask_human', args: { question: 'Which colour?' } }] }, { content: 'Noted.' }] },
    };
    const first = (await client.runs.wait(threadId, 'agent', { input: human('paint it'), config })) as Values;
    expect(first.__interrupt__!.map((i) => i.value)).toEqual([{ question: 'Which colour?' }]);
    const done = (await client.runs.wait(threadId, 'agent', { command: { resume: 'blue' }, config })) as Values;
    expect(done.messages[2]).toMatchObject({ type: 'tool', content: 'blue' });
  });

  it('stops at static breakpoints and resumes with a null input', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const config = {
      configurable: { script: [{ tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }] }, { content: '42.' }] },
    };
    const paused = (await client.runs.wait(threadId, 'agent', { input: human('6*7?'), config, interruptBefore: ['tools'] })) as Values;
    expect(paused.__interrupt__).toEqual([]);
    const state = await client.threads.getState(threadId);
    expect(state.next).toEqual(['tools']);
    expect(state.tasks.map((t) => [t.name, t.interrupts])).toEqual([['tools', []]]);
    expect((await client.threads.get(threadId)).status).toBe('interrupted');

    const afterTools = (await client.runs.wait(threadId, 'agent', { input: null, config, interruptAfter: ['tools'] })) as Values;
    expect(afterTools.messages.at(-1)).toMatchObject({ type: 'tool', content: '42' });
    const done = (await client.runs.wait(threadId, 'agent', { input: null, config })) as Values;
    expect(done.messages.at(-1)!.content).toBe('42.');
  });

  it('applies command.update and command.goto', async () => {
    const threadId = (await client.threads.create()).thread_id;
    await client.runs.wait(threadId, 'agent', { input: human('first') });
    const done = (await client.runs.wait(threadId, 'agent', {
      command: { update: { messages: [{ role: 'user', content: 'injected' }] }, goto: 'agent' },
    })) as Values;
    expect(done.messages.map((m) => m.content)).toEqual(['first', 'first', 'injected', 'injected']);
  });

  it('continues from a state edited while paused', async () => {
    const config = reviewed([ticket('E')]);
    const { threadId } = await parkOnReview(config);
    const state = await client.threads.getState<Values>(threadId);
    const ai = state.values.messages[1] as unknown as Record<string, unknown>;
    const edited = { ...ai, tool_calls: [{ ...ticket('Edited E'), id: (ai.tool_calls as { id: string }[])[0]!.id, type: 'tool_call' }] };
    await client.threads.updateState(threadId, { values: { messages: [edited] }, asNode: 'agent' });
    const history = await client.threads.getHistory(threadId, { limit: 1 });
    expect(history[0]!.metadata?.source).toBe('update');
    // The edit is a new `agent` step, so its tool call is reviewed afresh, showing the edited arguments.
    const again = (await client.runs.wait(threadId, 'agent', { input: null, config })) as Values;
    expect(again.__interrupt__!.map((i) => i.value.action_requests[0]!.args)).toEqual([{ title: 'Edited E', priority: 'high' }]);
    const done = (await client.runs.wait(threadId, 'agent', {
      command: { resume: { decisions: [{ type: 'approve' }] } },
      config,
    })) as Values;
    expect(done.messages.at(-1)!.content).toBe('Ticket handled.');
    expect((await listEffects(stack.db, threadId)).map((e) => e.args.title)).toEqual(['Edited E']);
  });
});

describe('bad resumes', () => {
  it('answers 4xx and changes nothing', async () => {
    const idle = (await client.threads.create()).thread_id;
    await client.runs.wait(idle, 'agent', { input: human('hello') });
    const config = reviewed([ticket('F')], { interrupt_on: { create_ticket: { allowed_decisions: ['approve', 'reject'] } } });
    const { threadId, first } = await parkOnReview(config);
    const snapshot = async (id: string) => {
      const s = await client.threads.getState(id);
      return { checkpoint: s.checkpoint, tasks: s.tasks, runs: (await client.runs.list(id)).length };
    };
    const cases: [string, string, object, number][] = [
      ['resume a thread that is not interrupted', idle, { command: { resume: { decisions: [{ type: 'approve' }] } } }, 409],
      ['unknown decision type', threadId, { command: { resume: { decisions: [{ type: 'maybe' }] } } }, 422],
      ['edit without the edited action', threadId, { command: { resume: { decisions: [{ type: 'edit' }] } } }, 422],
      ['decision the tool does not allow', threadId, { command: { resume: { decisions: [{ type: 'respond', message: 'x' }] } } }, 422],
      [
        'strict resume of an unknown interrupt',
        threadId,
        { command: { resume: { '0b0e2ff1-7fa1-4c5e-9b1f-d0a9f1b9b0c1': 'x' } }, strict_resume: true },
        422,
      ],
      ['goto an unknown node', threadId, { command: { goto: 'nowhere' } }, 422],
    ];
    for (const [name, id, body, status] of cases) {
      const before = await snapshot(id);
      const res = await postRun(id, { config, ...body });
      expect([name, res.status]).toEqual([name, status]);
      expect((await res.json()) as object).toMatchObject({ message: expect.any(String) });
      expect(await snapshot(id)).toEqual(before);
    }
    expect(first.__interrupt__).toHaveLength(1);
  });
});
