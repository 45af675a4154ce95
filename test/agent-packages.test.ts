import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphIdKey } from '../workflows/search-attributes.js';
import { threadWorkflowId } from '../core/ids.js';
import { startStack, type Stack } from './helpers/stack.js';

// Agent packages end to end: AGENTS_DIR is read at start, each good package is a graph with its system assistant,
// its own tools run in the worker, and the bad ones are reported at /info while the good ones serve.

const agentsDir = fileURLToPath(new URL('./fixtures/agents', import.meta.url));
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agentsDir });
});
afterAll(() => stack?.stop());

describe('agent packages', () => {
  it('registers a package as a graph that runs with its prompt, model and own tools', async () => {
    const assistants = await stack.client.assistants.search({ graphId: 'shop' });
    expect(assistants.map((a) => [a.name, a.description])).toEqual([['shop', 'A shop assistant that prices orders.']]);
    const thread = await stack.client.threads.create();
    const script = [{ tool_calls: [{ name: 'discount', args: { price: 80, percent: 25 } }] }, { content: 'That is 60.' }];
    const values = (await stack.client.runs.wait(thread.thread_id, 'shop', {
      input: { messages: [{ role: 'user', content: 'price 80 with 25% off' }] },
      config: { configurable: { script } },
    })) as { messages: { type: string; content: string }[] };
    expect(values.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(JSON.parse(values.messages[2]!.content)).toEqual({ price: 60 });
    // The package's middleware reaches the run as configurable.middleware, the guardrails format.
    const [run] = await stack.client.runs.list(thread.thread_id);
    expect(
      (run as unknown as { kwargs: { config: { configurable: Record<string, unknown> } } }).kwargs.config.configurable.middleware,
    ).toEqual([{ name: 'model_call_limit', options: { runLimit: 20 } }]);
    const described = await stack.temporal.workflow.getHandle(threadWorkflowId(thread.thread_id)).describe();
    expect(described.typedSearchAttributes.get(GraphIdKey)).toBe('shop');
  });

  it('applies the package interrupt_on to its own tool', async () => {
    const thread = await stack.client.threads.create();
    await stack.client.runs.wait(thread.thread_id, 'shop', {
      input: { messages: [{ role: 'user', content: 'refund order 7' }] },
      config: { configurable: { script: [{ tool_calls: [{ name: 'refund', args: { order_id: '7' } }] }, { content: 'Refunded.' }] } },
    });
    const state = await stack.client.threads.getState(thread.thread_id);
    expect(state.next).toEqual(['tools']);
    expect(state.tasks[0]!.interrupts).toHaveLength(1);
  });

  it('describes the package graph and its schemas', async () => {
    const graph = (await stack.client.assistants.getGraph('shop')) as { nodes: { id: string }[] };
    // The package's own middleware (model_call_limit) is part of its graph, as createAgent draws it.
    expect(graph.nodes.map((n) => n.id)).toEqual([
      '__start__',
      'model_call_limit.before_model',
      'agent',
      'model_call_limit.after_model',
      'tools',
      'model_call_limit.after_agent',
      '__end__',
    ]);
    const schemas = await stack.client.assistants.getSchemas('shop');
    expect(schemas.graph_id).toBe('shop');
  });

  it('reports the packages that failed at /info, and the built-in agent is not among this folder', async () => {
    const info = (await (await fetch(`${stack.url}/info`)).json()) as {
      agents: { graphs: string[]; errors: { agent: string; error: string }[] };
    };
    expect(info.agents.graphs).toEqual(['shop']);
    expect(info.agents.errors.map((e) => e.agent)).toEqual(['bad-json', 'collides', 'no-frontmatter', 'no-prompt']);
    expect(info.agents.errors.find((e) => e.agent === 'no-prompt')!.error).toBe('AGENTS.md is missing (it holds the system prompt)');
    const res = await fetch(`${stack.url}/assistants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ graph_id: 'no-prompt' }),
    });
    expect(res.status).toBe(422);
  });
});
