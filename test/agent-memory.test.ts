import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './helpers/stack.js';

// Long-term memory used by the built-in agent: a fact saved in one thread is found in another thread of the
// same user (configurable.user_id), and not in a thread of another user. The scripted model decides when to
// call the memory tools; the store and the tools are real.

type Msg = { type: string; content: string; name?: string };

describe.each(['pglite', 'postgres'] as const)('agent memory on %s', (db) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ db });
  });
  afterAll(() => stack?.stop());

  async function turn(userId: string, text: string, step: object): Promise<Msg[]> {
    const thread = await stack.client.threads.create();
    const config = { configurable: { user_id: userId, script: [step, { content: 'ok' }] } };
    const values = (await stack.client.runs.wait(thread.thread_id, 'agent', {
      input: { messages: [{ role: 'user', content: text }] },
      config,
    })) as { messages: Msg[] };
    return values.messages;
  }

  const search = (query: string) => ({ tool_calls: [{ name: 'search_memories', args: { query } }] });

  it('recalls a memory in another thread of the same user only', async () => {
    const alice = `alice-${db}`;
    const saved = await turn(alice, 'I prefer green tea to coffee', {
      tool_calls: [{ name: 'save_memory', args: { content: 'The user prefers green tea to coffee' } }],
    });
    expect(saved[2]).toMatchObject({ type: 'tool', name: 'save_memory' });
    await turn(alice, 'I live in Lyon', { tool_calls: [{ name: 'save_memory', args: { content: 'The user lives in Lyon, France' } }] });

    const recalled = await turn(alice, 'What should I drink?', search('what does the user prefer to drink, tea or coffee'));
    const found = JSON.parse(recalled[2]!.content) as { key: string; content: string; score: number }[];
    expect(found.map((f) => f.content)).toEqual(['The user prefers green tea to coffee', 'The user lives in Lyon, France']);
    expect(found[0]!.score).toBeGreaterThan(found[1]!.score);

    const other = await turn(`bob-${db}`, 'What should I drink?', search('what does the user prefer to drink, tea or coffee'));
    expect(JSON.parse(other[2]!.content)).toEqual([]);

    const items = await stack.client.store.searchItems(['memories', alice]);
    expect(items.items).toHaveLength(2);
    await turn(alice, 'Forget where I live', { tool_calls: [{ name: 'forget_memory', args: { key: found[1]!.key } }] });
    expect((await stack.client.store.searchItems(['memories', alice])).items.map((i) => i.value.content)).toEqual([
      'The user prefers green tea to coffee',
    ]);
  });

  it('tells the model when no user is set', async () => {
    const messages = await turn('', 'remember this', { tool_calls: [{ name: 'save_memory', args: { content: 'x' } }] });
    expect(messages[2]).toMatchObject({ type: 'tool', status: 'error', content: expect.stringContaining('configurable.user_id') });
  });
});
