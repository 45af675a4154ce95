import type { Client } from '@langchain/langgraph-sdk';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTool } from '../activities/tools/types.js';
import { defineMiddleware } from '../core/middleware/define.js';
import { startStack, type Stack } from './helpers/stack.js';
import { human } from './helpers/input.js';

// The middleware engine on a real stack (scripted model): LangChain's hook order, hooks as checkpointed steps
// visible in history, `updates` and the assistant's graph, wrap hooks nesting inside the model activity, and the
// 422 that names a bad middleware entry.

const tracer = defineMiddleware<Record<string, unknown>>({
  name: 'tracer',
  beforeAgent: (ctx) => ({ update: { trace: [...trace(ctx.state), `${ctx.id}.before_agent`] } }),
  beforeModel: (ctx) => ({ update: { trace: [...trace(ctx.state), `${ctx.id}.before_model`] } }),
  afterModel: (ctx) => ({ update: { trace: [...trace(ctx.state), `${ctx.id}.after_model`] } }),
  afterAgent: (ctx) => ({ update: { trace: [...trace(ctx.state), `${ctx.id}.after_agent`] } }),
  async wrapModelCall(req, handler, ctx) {
    const res = await handler({ ...req, system: `${req.system}|${ctx.id}` });
    return { ...res, content: `${typeof res.content === 'string' ? res.content : ''}<${ctx.id}` };
  },
});
const trace = (state: Record<string, unknown>) => (Array.isArray(state.trace) ? (state.trace as string[]) : []);

const lookup = defineTool({ name: 'lookup', description: 'Looks up', schema: z.object({ q: z.string() }), run: ({ q }) => `found ${q}` });

let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack({ tools: [lookup], middleware: [tracer] });
  client = stack.client;
});
afterAll(() => stack?.stop());

const three = [
  { name: 'tracer', id: 'A' },
  { name: 'tracer', id: 'B' },
  { name: 'tracer', id: 'C' },
];

type Values = { messages: { type: string; content: string }[]; trace?: string[] };

describe('hook order', () => {
  it('runs before* first to last, after* last to first, and nests wrap* with the first outermost', async () => {
    const thread = await client.threads.create();
    const chunks: { event: string; data: unknown }[] = [];
    for await (const c of client.runs.stream(thread.thread_id, 'agent', {
      input: human('hi'),
      config: { configurable: { middleware: three, script: [{ content: 'answer' }] } },
      streamMode: ['updates', 'values'],
    }))
      chunks.push(c);
    const state = (await client.threads.getState(thread.thread_id)).values as Values;
    expect(state.trace).toEqual([
      'A.before_agent',
      'B.before_agent',
      'C.before_agent',
      'A.before_model',
      'B.before_model',
      'C.before_model',
      'C.after_model',
      'B.after_model',
      'A.after_model',
      'C.after_agent',
      'B.after_agent',
      'A.after_agent',
    ]);
    // The model's response passed C first and A last on its way out: A is the outermost wrapper.
    expect(state.messages.at(-1)!.content).toBe('answer<C<B<A');
    const updated = chunks.filter((c) => c.event === 'updates').map((c) => Object.keys(c.data as object)[0]);
    expect(updated).toEqual([
      'A.before_agent',
      'B.before_agent',
      'C.before_agent',
      'A.before_model',
      'B.before_model',
      'C.before_model',
      'agent',
      'C.after_model',
      'B.after_model',
      'A.after_model',
      'C.after_agent',
      'B.after_agent',
      'A.after_agent',
    ]);
    // Each hook is a checkpoint of its own in the thread's history, named as LangChain names its nodes.
    const history = await client.threads.getHistory(thread.thread_id, { limit: 50 });
    const writers = history.map((h) => Object.keys((h.metadata?.writes as object | null) ?? {})[0]).filter(Boolean);
    expect(writers).toContain('B.after_model');
    expect(writers).toContain('A.before_agent');
  });

  it('shows the hook steps in the assistant graph', async () => {
    const assistant = await client.assistants.create({ graphId: 'agent', config: { configurable: { middleware: three.slice(0, 2) } } });
    const graph = (await client.assistants.getGraph(assistant.assistant_id)) as unknown as {
      nodes: { id: string }[];
      edges: { source: string; target: string }[];
    };
    const ids = graph.nodes.map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining(['A.before_agent', 'B.before_model', 'A.after_model', 'B.after_agent', 'agent', 'tools']));
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { source: 'B.before_model', target: 'agent' },
        { source: 'agent', target: 'B.after_model' },
        { source: 'B.after_model', target: 'A.after_model' },
        { source: 'tools', target: 'A.before_model' },
      ]),
    );
  });

  it('refuses an unknown middleware or bad options with a 422 that names it', async () => {
    const thread = await client.threads.create();
    const post = (middleware: unknown) =>
      fetch(`${stack.url}/threads/${thread.thread_id}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ assistant_id: 'agent', input: human('x'), config: { configurable: { middleware } } }),
      });
    const unknown = await post([{ name: 'nope' }]);
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as { message: string }).message).toContain('unknown middleware "nope"');
    const bad = await post([{ name: 'model_call_limit', options: { runLimit: 'two' } }]);
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('runLimit');
    const twice = await post([{ name: 'tracer' }, { name: 'tracer' }]);
    expect(twice.status).toBe(422);
  });
});
