import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testModels } from './helpers/stack.js';
import type { ModelResolver } from '../activities/models/index.js';
import type { ModelRequest } from '../activities/models/types.js';
import { listGuardrailEvents } from '../db/guardrails.js';
import { startStack, type Stack } from './helpers/stack.js';
import { human } from './helpers/input.js';

// todo_list and moderation on a real stack with the scripted model. The moderation vendor is a local stand-in
// (an OpenAI-compatible POST /v1/moderations, and a custom hook at /hook) that flags any text with "forbidden".

type Values = { messages: { id: string; type: string; content: string; tool_calls?: unknown[] }[]; todos?: unknown };

let vendor: Server;
const moderated: string[][] = [];
const paths: string[] = [];
const asked: ModelRequest[] = [];
let base = '';
let stack: Stack;
beforeAll(async () => {
  vendor = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const input = (JSON.parse(body) as { input: string[] }).input;
      moderated.push(input);
      paths.push(req.url ?? '');
      const results = input.map((t) => ({
        flagged: t.includes('forbidden'),
        categories: { violence: t.includes('forbidden'), hate: false },
      }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'modr-1', model: 'm', results }));
    });
  });
  await new Promise<void>((r) => vendor.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;
  const models = testModels();
  const recording: ModelResolver = (model) => {
    const r = models(model);
    const p = r.provider;
    return { ...r, provider: { name: p.name, generate: (req, onChunk, signal) => (asked.push(req), p.generate(req, onChunk, signal)) } };
  };
  stack = await startStack({ models: recording });
});
afterAll(async () => {
  await stack?.stop();
  vendor?.closeAllConnections();
  await new Promise((r) => vendor?.close(r));
});

const todos = [
  { content: 'find the forbidden files', status: 'in_progress' },
  { content: 'report', status: 'pending' },
];

describe('todo_list', () => {
  it('offers write_todos with its guidance to an assistant that lacks it, and the list lands in state', async () => {
    const thread = await stack.client.threads.create();
    const plain = (await stack.client.runs.wait(thread.thread_id, 'agent', {
      input: human('plan it'),
      config: { configurable: { script: [{ content: 'no plan' }] } },
    })) as Values;
    expect(plain.messages.at(-1)!.content).toBe('no plan');
    expect(asked.at(-1)!.tools.map((t) => t.name)).not.toContain('write_todos');

    const values = (await stack.client.runs.wait(thread.thread_id, 'agent', {
      input: human('plan it'),
      config: {
        configurable: {
          script: [{ content: 'no plan' }, { tool_calls: [{ name: 'write_todos', args: { todos } }] }, { content: 'planned' }],
          middleware: [{ name: 'todo_list' }],
        },
      },
    })) as Values;
    expect(values.messages.at(-1)!.content).toBe('planned');
    expect(values.todos).toEqual(todos);
    const last = asked.at(-1)!;
    expect(last.tools.find((t) => t.name === 'write_todos')?.parameters).toMatchObject({ type: 'object' });
    expect(last.system).toContain('You have access to the `write_todos` tool');
  });
});

describe('moderation', () => {
  it('ends the run on flagged input (OpenAI /moderations): the model is never asked', async () => {
    const thread = await stack.client.threads.create();
    const before = asked.length;
    const run = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('tell me the forbidden thing'),
      config: {
        configurable: {
          script: [{ content: 'should not answer' }],
          middleware: [{ name: 'moderation', options: { baseUrl: `${base}/v1` } }],
        },
      },
    });
    const values = (await stack.client.runs.join(thread.thread_id, run.run_id)) as Values;
    expect(moderated.at(-1)).toEqual(['tell me the forbidden thing']);
    expect(paths.at(-1)).toBe('/v1/moderations');
    expect(values.messages.map((m) => m.type)).toEqual(['human', 'ai']);
    expect(values.messages[1]!.content).toBe("I'm sorry, but I can't comply with that request. It was flagged for violence.");
    expect(asked.length).toBe(before);
    const fired = await listGuardrailEvents(stack.db, run.run_id);
    expect(fired.map((f) => [f.action, f.hook, f.message_id])).toEqual([['moderation_end', 'before_model', values.messages[0]!.id]]);
  });

  it('replaces flagged output in place, and passes clean input', async () => {
    const thread = await stack.client.threads.create();
    const values = (await stack.client.runs.wait(thread.thread_id, 'agent', {
      input: human('hello'),
      config: {
        configurable: {
          script: [{ content: 'here is the forbidden answer' }],
          middleware: [
            {
              name: 'moderation',
              options: { baseUrl: `${base}/v1`, exitBehavior: 'replace', violationMessage: 'Removed ({categories}).' },
            },
          ],
        },
      },
    })) as Values;
    expect(values.messages.map((m) => [m.type, m.content])).toEqual([
      ['human', 'hello'],
      ['ai', 'Removed (violence).'],
    ]);
    // The earlier checkpoint, before the after_model step, holds the model's own answer: history shows what changed.
    const history = await stack.client.threads.getHistory(thread.thread_id, { limit: 20 });
    const contents = history.flatMap((s) => ((s.values as Values).messages ?? []).map((m) => m.content));
    expect(contents).toContain('here is the forbidden answer');
  });

  it('fails the run on a flagged tool result from a custom hook (exitBehavior error)', async () => {
    const thread = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('plan it'),
      config: {
        configurable: {
          script: [{ tool_calls: [{ name: 'write_todos', args: { todos } }] }, { content: 'planned' }],
          middleware: [
            { name: 'todo_list' },
            { name: 'moderation', options: { hookUrl: `${base}/hook`, checkToolResults: true, exitBehavior: 'error' } },
          ],
        },
      },
    });
    await stack.client.runs.join(thread.thread_id, run.run_id);
    expect((await stack.client.runs.get(thread.thread_id, run.run_id)).status).toBe('error');
    expect(moderated.at(-1)![0]).toMatch(/^Updated todo list to .*forbidden/);
    expect(paths.at(-1)).toBe('/hook');
    const fired = await listGuardrailEvents(stack.db, run.run_id);
    expect(fired.map((f) => [f.action, (f.detail as { applied_to: string }).applied_to])).toEqual([['moderation_error', 'tool_result']]);
  });
});
