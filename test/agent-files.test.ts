import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './helpers/stack.js';

// The filesystem tools of a package (agents/shop: /memories/ in the store, the rest in thread state): state files
// follow forks and time travel, store files are shared by a user's threads and hidden from other users, and the
// package's AGENTS.md and skills are there to read but not to change.

const agentsDir = fileURLToPath(new URL('./fixtures/agents', import.meta.url));
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agentsDir });
});
afterAll(() => stack?.stop());

type Call = { name: string; args: Record<string, unknown> };
type Values = { messages: { type: string; content: string }[]; files?: Record<string, { content: string }>; todos?: unknown };

/** One run of the shop agent that makes the given calls in one turn each, then answers; returns the tool results. */
async function run(threadId: string, calls: Call[], o: { userId?: string; checkpointId?: string } = {}) {
  const before = ((await stack.client.threads.getState(threadId, o.checkpointId)).values as Values).messages ?? [];
  const aiSoFar = before.filter((m) => m.type === 'ai').length;
  const script = [
    ...Array.from({ length: aiSoFar }, () => ({ content: 'earlier' })),
    ...calls.map((c) => ({ tool_calls: [c] })),
    { content: 'done' },
  ];
  const values = (await stack.client.runs.wait(threadId, 'shop', {
    input: { messages: [{ role: 'user', content: 'go' }] },
    config: { configurable: { script, ...(o.userId ? { user_id: o.userId } : {}) } },
    ...(o.checkpointId ? { checkpointId: o.checkpointId } : {}),
  })) as Values;
  const tools = values.messages.filter((m) => m.type === 'tool').slice(-calls.length);
  return { values, results: tools.map((m) => m.content) };
}

describe('filesystem tools', () => {
  it('writes, reads, edits, lists, globs and greps files kept in thread state', async () => {
    const { thread_id } = await stack.client.threads.create();
    const { values, results } = await run(thread_id, [
      { name: 'write_file', args: { file_path: '/notes/a.md', content: 'one\ntwo apples\nthree' } },
      { name: 'read_file', args: { file_path: '/notes/a.md', offset: 1, limit: 1 } },
      { name: 'edit_file', args: { file_path: '/notes/a.md', old_string: 'two', new_string: 'TWO' } },
      { name: 'edit_file', args: { file_path: '/notes/a.md', old_string: 'e', new_string: 'E' } },
      { name: 'ls', args: { path: '/' } },
      { name: 'glob', args: { pattern: '**/*.md' } },
      { name: 'grep', args: { pattern: 'apples' } },
      { name: 'read_file', args: { file_path: '/missing.md' } },
    ]);
    expect(results).toEqual([
      'Updated file /notes/a.md',
      '     2\ttwo apples',
      "Successfully replaced 1 instance(s) of the string in '/notes/a.md'",
      "Error: String 'e' appears 4 times in file. Use replace_all=true or give more context.",
      '/AGENTS.md\n/notes/\n/skills/',
      '/AGENTS.md\n/notes/a.md\n/skills/pricing/SKILL.md\n/skills/pricing/table.md\n/skills/returns/SKILL.md',
      '/notes/a.md:2: TWO apples',
      "Error: File '/missing.md' not found",
    ]);
    expect(values.files!['/notes/a.md']!.content).toBe('one\nTWO apples\nthree');
  });

  it('serves the package files read-only, and keeps todos in state', async () => {
    const { thread_id } = await stack.client.threads.create();
    const todos = [{ content: 'price the order', status: 'in_progress' }];
    const { values, results } = await run(thread_id, [
      { name: 'read_file', args: { file_path: '/skills/pricing/SKILL.md' } },
      { name: 'write_file', args: { file_path: '/AGENTS.md', content: 'new prompt' } },
      { name: 'write_todos', args: { todos } },
    ]);
    expect(results[0]).toContain('description: How to price an order with discounts.');
    expect(results[1]).toBe('Error: permission_denied: /AGENTS.md is part of the agent package and read-only');
    expect(values.todos).toEqual(todos);
    expect(values.files ?? {}).toEqual({});
  });

  it('gives a fork and a time travel the files of their checkpoint', async () => {
    const { thread_id } = await stack.client.threads.create();
    await run(thread_id, [{ name: 'write_file', args: { file_path: '/v.txt', content: 'first' } }]);
    const afterFirst = (await stack.client.threads.getState(thread_id)).checkpoint.checkpoint_id!;
    await run(thread_id, [{ name: 'write_file', args: { file_path: '/v.txt', content: 'second' } }]);
    expect(((await stack.client.threads.getState(thread_id)).values as Values).files!['/v.txt']!.content).toBe('second');
    // Running again from the checkpoint after the first write sees the first content, and the head moves there.
    const travelled = await run(thread_id, [{ name: 'read_file', args: { file_path: '/v.txt' } }], { checkpointId: afterFirst });
    expect(travelled.results).toEqual(['     1\tfirst']);
    expect(travelled.values.files!['/v.txt']!.content).toBe('first');
    const old = await stack.client.threads.getState(thread_id, afterFirst);
    expect((old.values as Values).files!['/v.txt']!.content).toBe('first');
  });

  it("shares /memories/ across a user's threads through the store, and not with other users", async () => {
    const a = await stack.client.threads.create();
    const b = await stack.client.threads.create();
    const c = await stack.client.threads.create();
    await run(a.thread_id, [{ name: 'write_file', args: { file_path: '/memories/prefs.md', content: 'likes tea' } }], { userId: 'ann' });
    expect(((await stack.client.threads.getState(a.thread_id)).values as Values).files ?? {}).toEqual({});
    const same = await run(b.thread_id, [{ name: 'read_file', args: { file_path: '/memories/prefs.md' } }], { userId: 'ann' });
    expect(same.results).toEqual(['     1\tlikes tea']);
    const other = await run(c.thread_id, [{ name: 'read_file', args: { file_path: '/memories/prefs.md' } }], { userId: 'bob' });
    expect(other.results).toEqual(["Error: File '/memories/prefs.md' not found"]);
  });
});
