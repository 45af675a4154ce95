import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineTool, type ToolContext } from './types.js';

// Long-term memory for the built-in agent: items in the store under ["memories", <user id>], so every thread of
// a user shares them and no other user sees them. The user is `configurable.user_id` of the run.

export const memoryNamespace = (userId: string) => ['memories', userId];

function namespaceOf(ctx: ToolContext): string[] {
  if (!ctx.userId) throw new Error('No user is set for this thread: pass configurable.user_id to use memories.');
  return memoryNamespace(ctx.userId);
}

function store(ctx: ToolContext) {
  if (!ctx.store) throw new Error('This worker has no long-term store configured.');
  return ctx.store;
}

export const saveMemory = defineTool({
  name: 'save_memory',
  description: 'Remember a fact about the user for later conversations.',
  schema: z.object({ content: z.string().min(1).describe('The fact to remember, in one sentence') }),
  async run({ content }, ctx) {
    // The key comes from the call's idempotency key, so a retried call overwrites rather than duplicates.
    const key = `memory-${createHash('sha256').update(ctx.idempotencyKey).digest('hex').slice(0, 16)}`;
    await store(ctx).put(namespaceOf(ctx), key, { content });
    return { saved: key };
  },
});

export const searchMemories = defineTool({
  name: 'search_memories',
  description: 'Search what you remember about the user.',
  schema: z.object({ query: z.string().min(1), limit: z.number().int().min(1).max(20).default(5) }),
  async run({ query, limit }, ctx) {
    const items = await store(ctx).search(namespaceOf(ctx), { query, limit });
    return items.map((i) => ({ key: i.key, content: i.value.content, score: i.score }));
  },
});

export const forgetMemory = defineTool({
  name: 'forget_memory',
  description: 'Forget a remembered fact, by the key search_memories returned.',
  schema: z.object({ key: z.string().min(1) }),
  async run({ key }, ctx) {
    await store(ctx).delete(namespaceOf(ctx), key);
    return { forgotten: key };
  },
});

export const memoryTools = [saveMemory, searchMemories, forgetMemory];
