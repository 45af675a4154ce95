import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertThread } from '../db/threads.js';
import { startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

const script = [
  { content: 'Let me compute.', tool_calls: [{ name: 'calculator', args: { expression: '2+3*4' } }] },
  { content: 'The answer is 14.' },
];

describe('runs smoke', () => {
  it('waits for a tool-calling run and streams another', async () => {
    const threadId = crypto.randomUUID();
    await insertThread(stack.db, { thread_id: threadId, metadata: {} });
    const values = (await stack.client.runs.wait(threadId, 'agent', {
      input: { messages: [{ role: 'user', content: 'what is 2+3*4?' }] },
      config: { configurable: { script } },
    })) as { messages: { type: string; content: string }[] };
    expect(values.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(values.messages[3]!.content).toBe('The answer is 14.');

    const events: { event: string; data: unknown }[] = [];
    for await (const e of stack.client.runs.stream(threadId, 'agent', {
      input: { messages: [{ role: 'user', content: 'hi again' }] },
      streamMode: ['values', 'messages-tuple'],
    })) {
      events.push(e);
    }
    expect(events[0]!.event).toBe('metadata');
    const last = events.filter((e) => e.event === 'values').at(-1)!.data as { messages: { content: string }[] };
    expect(last.messages.at(-1)!.content).toBe('hi again');
  });
});
