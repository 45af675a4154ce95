import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './helpers/stack.js';
import { storedText as stored } from './helpers/stored.js';
import { human } from './helpers/input.js';

// Writes that reach a thread's state outside a run's input go through the same input guardrails (PII) before
// anything stores them: POST /threads/{id}/state, thread supersteps and a run's command.update. The operator's
// policies always apply; a state update also gets the middleware of the assistant the thread last ran with.

const ALICE = 'alice@example.com';
const REDACTED = 'I am [REDACTED_EMAIL]';
const piiEntry = (strategy: string) => ({ name: 'pii', options: { piiType: 'email', strategy } });

let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack();
  client = stack.client;
});
afterAll(async () => {
  await stack?.stop();
});

type Values = { messages: { type: string; content: string }[] };

const storedText = (threadId: string) => stored(stack.db, threadId);

/** The thread as the API shows it: the head and its whole history. */
async function shown(threadId: string): Promise<string> {
  const [state, history] = await Promise.all([client.threads.getState(threadId), client.threads.getHistory(threadId, { limit: 100 })]);
  return JSON.stringify([state, history]);
}

const postState = (threadId: string, body: unknown) =>
  fetch(`${stack.url}/threads/${threadId}/state`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function setPolicies(middleware: unknown[]): Promise<void> {
  const res = await fetch(`${stack.url}/policies`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ middleware }),
  });
  expect(res.status).toBe(200);
}

const stateRecords = async (threadId: string) =>
  (
    await stack.db.query<{ hook: string; middleware: string }>(
      'SELECT hook, middleware FROM guardrail_events WHERE thread_id = $1 ORDER BY id',
      [threadId],
    )
  ).rows;

describe('state updates', () => {
  it('an operator policy redacts POST /threads/{id}/state and thread supersteps before they are stored', async () => {
    await setPolicies([{ ...piiEntry('redact'), id: 'operator_pii' }]);
    try {
      const thread = await client.threads.create({ graphId: 'agent' });
      const res = await postState(thread.thread_id, { values: { messages: [{ role: 'user', content: `I am ${ALICE}` }] } });
      expect(res.status).toBe(200);
      const seen = await shown(thread.thread_id);
      expect(seen).toContain(REDACTED);
      expect(seen).not.toContain(ALICE);
      // A run from the updated state streams and stores only the redacted message (the model echoes it).
      const done = (await client.runs.wait(thread.thread_id, 'agent', { input: null })) as Values;
      expect(done.messages.map((m) => m.content)).toEqual([REDACTED, REDACTED]);
      expect(await storedText(thread.thread_id)).not.toContain(ALICE);
      expect(await stateRecords(thread.thread_id)).toEqual([{ hook: 'state_update', middleware: 'operator_pii' }]);

      const created = await client.threads.create({
        graphId: 'agent',
        supersteps: [{ updates: [{ values: { messages: [{ role: 'user', content: `I am ${ALICE}` }] }, asNode: '__start__' }] }],
      });
      const createdSeen = await shown(created.thread_id);
      expect(createdSeen).toContain(REDACTED);
      expect(createdSeen + (await storedText(created.thread_id))).not.toContain(ALICE);
    } finally {
      await setPolicies([]);
    }
  });

  it('the assistant the thread last ran with redacts an update as_node; its block refuses with a 422 and changes nothing', async () => {
    const redacting = await client.assistants.create({ graphId: 'agent', config: { configurable: { middleware: [piiEntry('redact')] } } });
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, redacting.assistant_id, { input: human('hello') });
    const res = await postState(thread.thread_id, {
      values: { messages: [{ role: 'user', content: `I am ${ALICE}` }] },
      as_node: 'agent',
    });
    expect(res.status).toBe(200);
    const seen = await shown(thread.thread_id);
    expect(seen).toContain(REDACTED);
    expect(seen + (await storedText(thread.thread_id))).not.toContain(ALICE);

    const blocking = await client.assistants.create({ graphId: 'agent', config: { configurable: { middleware: [piiEntry('block')] } } });
    const other = await client.threads.create();
    await client.runs.wait(other.thread_id, blocking.assistant_id, { input: human('hello') });
    const before = await shown(other.thread_id);
    const refused = await postState(other.thread_id, { values: { messages: [{ role: 'user', content: `I am ${ALICE}` }] } });
    expect(refused.status).toBe(422);
    const body = (await refused.json()) as { error: string; message: string };
    expect(body.error).toBeTruthy();
    expect(body.message).toContain('email');
    expect(await shown(other.thread_id)).toEqual(before);
    expect(await storedText(other.thread_id)).not.toContain(ALICE);
    // Precondition of "unchanged": the same update without the address is accepted.
    expect((await postState(other.thread_id, { values: { messages: [{ role: 'user', content: 'no address' }] } })).status).toBe(200);
  });
});

describe('command.update', () => {
  it.each([
    ['an object', { messages: [{ role: 'user', content: `I am ${ALICE}` }] }],
    ['[key, value] pairs', [['messages', [{ role: 'user', content: `I am ${ALICE}` }]]]],
  ])('as %s is redacted like input, in stores and streams', async (_form, update) => {
    const assistant = await client.assistants.create({ graphId: 'agent', config: { configurable: { middleware: [piiEntry('redact')] } } });
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, assistant.assistant_id, { input: human('first') });
    const streamed: string[] = [];
    let runId = '';
    for await (const c of client.runs.stream(thread.thread_id, assistant.assistant_id, {
      command: { update: update as Record<string, unknown>, goto: 'agent' },
      streamMode: ['values', 'updates', 'custom', 'debug'],
      onRunCreated: (r) => {
        runId = r.run_id;
      },
    }))
      streamed.push(JSON.stringify(c));
    const run = await client.runs.get(thread.thread_id, runId);
    const everywhere = [...streamed, JSON.stringify(run), await shown(thread.thread_id), await storedText(thread.thread_id)].join('\n');
    expect(everywhere).toContain(REDACTED);
    expect(everywhere).not.toContain(ALICE);
    // What fired streams with the update's checkpoint, as it does for input.
    expect(streamed.some((s) => s.includes('"custom"') && s.includes('"guardrail"') && s.includes('"applied_to":"input"'))).toBe(true);
  });
});
