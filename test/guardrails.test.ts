import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@langchain/langgraph-sdk';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTool } from '../activities/tools/types.js';
import { listGuardrailEvents } from '../db/guardrails.js';
import type { ModelResolver } from '../activities/models/index.js';
import { startStack, testModels, type Stack } from './helpers/stack.js';
import { storedText as stored } from './helpers/stored.js';
import { human, patience } from './helpers/input.js';
import { vi } from 'vitest';

// The built-in guardrails on a real stack (scripted model; the webhook receiver is a local stand-in): PII never
// reaches a store or a stream, limits count as LangChain counts them (also across an interrupt and resume), and
// an operator policy holds whatever an assistant configures.

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.org';

const whois = defineTool({
  name: 'whois',
  description: 'Finds the owner of a thing',
  schema: z.object({ q: z.string() }),
  run: () => `owner: ${BOB}`,
});

/**
 * The scripted model, but it writes `{at}` as `@`: its script lives in the run's config, so an address written
 * there literally would be stored with the config, while this one exists only in what the model answers.
 */
const spelledOut: ModelResolver = (model) => {
  const { provider, modelName } = testModels()(model);
  const at = (s: string | undefined) => s?.replaceAll('{at}', '@');
  return {
    modelName,
    provider: {
      name: provider.name,
      async generate(req, onChunk, signal) {
        const res = await provider.generate(req, (c) => onChunk({ ...c, content: at(c.content) }), signal);
        return { ...res, content: typeof res.content === 'string' ? at(res.content)! : res.content };
      },
    },
  };
};

/** A local stand-in for the user's webhook endpoint: it keeps every body it gets. */
const bodies: string[] = [];
let receiver: Server;
let hookUrl = '';

let stack: Stack;
let client: Client;
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      bodies.push(raw);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  stack = await startStack({ tools: [whois], models: spelledOut });
  client = stack.client;
});
afterAll(async () => {
  await stack?.stop();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

const pii = (strategy: string) => ({
  name: 'pii',
  options: { piiType: 'email', strategy, applyToInput: true, applyToOutput: true, applyToToolResults: true },
});
const piiScript = [{ tool_calls: [{ name: 'whois', args: { q: 'printer' } }] }, { content: `Write to ${CAROL.replace('@', '{at}')}` }];

const storedText = (threadId: string) => stored(stack.db, threadId);

describe('pii', () => {
  it.each([
    ['redact', '[REDACTED_EMAIL]'],
    ['mask', 'a****@example.com'],
    ['hash', '<email_hash:'],
  ])('%s: the value reaches no checkpoint, run event, stream or webhook', async (strategy, marker) => {
    const thread = await client.threads.create();
    const streamed: string[] = [];
    let runId = '';
    for await (const c of client.runs.stream(thread.thread_id, 'agent', {
      input: human(`I am ${ALICE}`),
      config: { configurable: { middleware: [pii(strategy)], script: piiScript } },
      streamMode: ['values', 'updates', 'messages-tuple', 'custom', 'debug', 'events'],
      webhook: hookUrl,
      onRunCreated: (r) => {
        runId = r.run_id;
      },
    }))
      streamed.push(JSON.stringify(c));
    await vi.waitFor(() => expect(bodies.some((b) => b.includes(runId))).toBe(true), patience);
    const everywhere = [...streamed, await storedText(thread.thread_id), ...bodies.filter((b) => b.includes(runId))].join('\n');
    // Preconditions: the run did what the test means, and the stores hold the redacted forms.
    expect(everywhere).toContain(marker);
    expect(everywhere).toContain('owner: ');
    for (const value of [ALICE, BOB, CAROL]) expect(everywhere).not.toContain(value);
    const fired = await listGuardrailEvents(stack.db, runId);
    expect(fired.map((f) => f.detail.applied_to).sort()).toEqual(['input', 'output', 'tool_result']);
    expect(streamed.some((s) => s.includes('"custom"') && s.includes('"guardrail"'))).toBe(true);
    // Input was redacted by the API before the run had an event log; that too reaches the stream.
    expect(streamed.some((s) => s.includes('"custom"') && s.includes('"applied_to":"input"'))).toBe(true);
    expect(streamed.some((s) => s.includes('"debug"') && s.includes('"guardrail"'))).toBe(true);
  });

  it('block refuses the run before anything is stored', async () => {
    const thread = await client.threads.create();
    const res = await fetch(`${stack.url}/threads/${thread.thread_id}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        assistant_id: 'agent',
        input: human(`I am ${ALICE}`),
        config: { configurable: { middleware: [pii('block')] } },
      }),
    });
    expect(res.status).toBe(422);
    expect(await storedText(thread.thread_id)).not.toContain(ALICE);
  });

  it('finds credit cards by their Luhn checksum only', async () => {
    const thread = await client.threads.create();
    const card = { name: 'pii', options: { piiType: 'credit_card', strategy: 'mask' } };
    const state = (await client.runs.wait(thread.thread_id, 'agent', {
      input: human('card 4111 1111 1111 1111, order 1234 5678 9012 3456'),
      config: { configurable: { middleware: [card], script: [{ content: 'ok' }] } },
    })) as { messages: { content: string }[] };
    expect(state.messages[0]!.content).toContain('order 1234 5678 9012 3456');
    expect(state.messages[0]!.content).not.toContain('4111 1111 1111 1111');
    expect(state.messages[0]!.content).toMatch(/\*+1111/);
  });
});

type Msg = { type: string; content: string; status?: string };
type Values = { messages: Msg[]; runModelCallCount?: number; threadModelCallCount?: number };
const lookupTurn = (q: string) => ({ tool_calls: [{ name: 'whois', args: { q } }] });

describe('call limits', () => {
  it('model_call_limit ends a run at runLimit and a thread at threadLimit', async () => {
    const thread = await client.threads.create();
    const limit = { name: 'model_call_limit', options: { runLimit: 2, threadLimit: 3 } };
    // The scripted model answers by position (AI messages so far), so the second run goes on with turn d.
    const turns = ['a', 'b', 'c', 'd', 'e'].map(lookupTurn);
    const config = { configurable: { middleware: [limit], script: [...turns, { content: 'done' }] } };
    const first = (await client.runs.wait(thread.thread_id, 'agent', { input: human('go'), config })) as Values;
    expect(first.messages.at(-1)!.content).toContain('Model call limits exceeded: run limit (2/2 calls)');
    expect(first.messages.filter((m) => m.type === 'ai')).toHaveLength(3);
    // The run ended: its counter went back to 0, the thread's stays.
    expect(first.runModelCallCount).toBe(0);
    expect(first.threadModelCallCount).toBe(2);
    const second = (await client.runs.wait(thread.thread_id, 'agent', { input: human('again'), config })) as Values;
    expect(second.threadModelCallCount).toBe(3);
    expect(second.messages.at(-1)!.content).toContain('thread limit (3/3 calls)');
    // The thread's last step is model_call_limit.after_agent: a state update after it goes where that step went.
    const history = await client.threads.getHistory(thread.thread_id, { limit: 1 });
    expect(Object.keys(history[0]!.metadata!.writes as object)).toEqual(['model_call_limit.after_agent']);
    await client.threads.updateState(thread.thread_id, { values: { threadModelCallCount: 0 } });
    expect((await client.threads.getState(thread.thread_id)).next).toEqual([]);
  });

  it('counts an interrupt and its resume as one run', async () => {
    const thread = await client.threads.create();
    const config = {
      configurable: {
        middleware: [
          { name: 'model_call_limit', options: { runLimit: 2 } },
          { name: 'human_in_the_loop', options: { interruptOn: { whois: true } } },
        ],
        script: [lookupTurn('a'), lookupTurn('b'), { content: 'done' }],
      },
    };
    const parked = (await client.runs.wait(thread.thread_id, 'agent', { input: human('go'), config })) as Values & {
      __interrupt__?: unknown[];
    };
    expect(parked.__interrupt__).toHaveLength(1);
    expect(parked.runModelCallCount).toBe(1);
    const approve = { decisions: [{ type: 'approve' }] };
    const second = (await client.runs.wait(thread.thread_id, 'agent', { command: { resume: approve }, config })) as Values & {
      __interrupt__?: unknown[];
    };
    expect(second.__interrupt__).toHaveLength(1);
    const last = (await client.runs.wait(thread.thread_id, 'agent', { command: { resume: approve }, config })) as Values;
    // Two calls in the resumed invocation already: the third is refused, although each server run made fewer.
    expect(last.messages.at(-1)!.content).toContain('run limit (2/2 calls)');
  });

  it('tool_call_limit tells the model about blocked calls (continue) and fails the run (error)', async () => {
    const thread = await client.threads.create();
    const two = {
      tool_calls: [
        { name: 'whois', args: { q: 'a' } },
        { name: 'whois', args: { q: 'b' } },
      ],
    };
    const cont = { name: 'tool_call_limit', options: { toolName: 'whois', runLimit: 1 } };
    const state = (await client.runs.wait(thread.thread_id, 'agent', {
      input: human('go'),
      config: { configurable: { middleware: [cont], script: [two, { content: 'done' }] } },
    })) as Values;
    const results = state.messages.filter((m) => m.type === 'tool');
    expect(results.map((r) => r.status)).toEqual(['error', 'success']);
    expect(results[0]!.content).toContain("Tool call limit exceeded. Do not call 'whois' again.");
    const failing = await client.threads.create();
    const run = await client.runs.create(failing.thread_id, 'agent', {
      input: human('go'),
      config: { configurable: { middleware: [{ ...cont, options: { ...cont.options, exitBehavior: 'error' } }], script: [two] } },
    });
    await client.runs.join(failing.thread_id, run.run_id);
    const ended = await client.runs.get(failing.thread_id, run.run_id);
    expect(ended.status).toBe('error');
  });
});

describe('operator policies', () => {
  it('apply to every run, and no assistant removes them', async () => {
    const put = await fetch(`${stack.url}/policies`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ middleware: [{ name: 'pii', id: 'mandatory_pii', options: { piiType: 'email' } }] }),
    });
    expect(put.status).toBe(200);
    try {
      expect(await (await fetch(`${stack.url}/policies`)).json()).toEqual({
        middleware: [{ name: 'pii', id: 'mandatory_pii', options: { piiType: 'email' } }],
      });
      const assistant = await client.assistants.create({ graphId: 'agent', config: { configurable: { middleware: [] } } });
      const thread = await client.threads.create();
      const state = (await client.runs.wait(thread.thread_id, assistant.assistant_id, {
        input: human(`I am ${ALICE}`),
        config: { configurable: { middleware: [], script: [{ content: 'hi' }] } },
      })) as Values;
      expect(state.messages[0]!.content).toBe('I am [REDACTED_EMAIL]');
      // Taking the policy's id to replace it is refused.
      const res = await fetch(`${stack.url}/threads/${thread.thread_id}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          assistant_id: 'agent',
          input: human('x'),
          config: { configurable: { middleware: [{ name: 'pii', id: 'mandatory_pii', options: { piiType: 'url' } }] } },
        }),
      });
      expect(res.status).toBe(422);
      const bad = await fetch(`${stack.url}/policies`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ middleware: [{ name: 'pii', options: { piiType: 'shoe_size' } }] }),
      });
      expect(bad.status).toBe(422);
    } finally {
      await fetch(`${stack.url}/policies`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"middleware":[]}' });
    }
  });
});

describe('every mode', () => {
  it('wraps stream, wait, background, resume and stateless runs in the same policy', async () => {
    const policy = { name: 'pii', id: 'all_modes', options: { piiType: 'email', applyToOutput: true } };
    const put = await fetch(`${stack.url}/policies`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ middleware: [policy] }),
    });
    expect(put.status).toBe(200);
    const answer = { content: `Mail ${CAROL.replace('@', '{at}')}` };
    const config = { configurable: { script: [answer] } };
    const lastAi = (v: unknown) => (v as Values).messages.filter((m) => m.type === 'ai').at(-1)!.content;
    try {
      const outputs: Record<string, string> = {};
      const t1 = await client.threads.create();
      for await (const _ of client.runs.stream(t1.thread_id, 'agent', { input: human(`I am ${ALICE}`), config }));
      outputs.stream = lastAi((await client.threads.getState(t1.thread_id)).values);
      const t2 = await client.threads.create();
      outputs.wait = lastAi(await client.runs.wait(t2.thread_id, 'agent', { input: human(`I am ${ALICE}`), config }));
      const t3 = await client.threads.create();
      const bg = await client.runs.create(t3.thread_id, 'agent', { input: human(`I am ${ALICE}`), config });
      await client.runs.join(t3.thread_id, bg.run_id);
      outputs.background = lastAi((await client.threads.getState(t3.thread_id)).values);
      outputs.stateless = lastAi(await client.runs.wait(null, 'agent', { input: human(`I am ${ALICE}`), config }));
      const t4 = await client.threads.create();
      const reviewed = {
        configurable: { interrupt_on: { whois: true }, script: [{ tool_calls: [{ name: 'whois', args: { q: 'x' } }] }, answer] },
      };
      const parked = (await client.runs.wait(t4.thread_id, 'agent', { input: human('go'), config: reviewed })) as {
        __interrupt__?: unknown[];
      };
      expect(parked.__interrupt__).toHaveLength(1);
      outputs.resume = lastAi(
        await client.runs.wait(t4.thread_id, 'agent', { command: { resume: { decisions: [{ type: 'approve' }] } }, config: reviewed }),
      );
      // Every mode ends in the model's answer, redacted by the operator's policy.
      expect(outputs).toEqual(Object.fromEntries(Object.keys(outputs).map((k) => [k, 'Mail [REDACTED_EMAIL]'])));
      expect(Object.keys(outputs)).toHaveLength(5);
      // Input is redacted in every mode that carries input (resume carries a decision).
      for (const t of [t1, t2, t3]) expect(await storedText(t.thread_id)).not.toContain(ALICE);
    } finally {
      await fetch(`${stack.url}/policies`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"middleware":[]}' });
    }
  });
});
