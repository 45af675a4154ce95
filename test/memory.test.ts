import type { Client, ThreadState } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expiredThreadIds } from '../db/threads.js';
import { startStack, type Stack } from './helpers/stack.js';
import { human } from './helpers/input.js';

// Short-term memory on both engines: every step is a checkpoint with a parent pointer; history, forks (time
// travel), edits of past states, storage that grows linearly with the thread, and thread TTL.

type Msg = { type: string; content: string };
type Values = { messages: Msg[] };

describe.each(['pglite', 'postgres'] as const)('checkpoints and time travel on %s', (db) => {
  let stack: Stack;
  let client: Client;
  beforeAll(async () => {
    stack = await startStack({ db, sweeper: true });
    client = stack.client;
  });
  afterAll(() => stack?.stop());

  async function threeTurns(): Promise<{ threadId: string; history: ThreadState<Values>[] }> {
    const threadId = (await client.threads.create()).thread_id;
    for (const text of ['one', 'two', 'three']) await client.runs.wait(threadId, 'agent', { input: human(text) });
    return { threadId, history: await client.threads.getHistory<Values>(threadId, { limit: 100 }) };
  }

  it('records every step with its parent, next, source and step', async () => {
    const { history } = await threeTurns();
    expect(history).toHaveLength(9);
    const oldestFirst = [...history].reverse();
    expect(oldestFirst.map((h) => h.metadata?.step)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(oldestFirst.map((h) => h.metadata?.source)).toEqual(['input', 'loop', 'loop', 'input', 'loop', 'loop', 'input', 'loop', 'loop']);
    expect(oldestFirst.map((h) => h.next)).toEqual([
      ['__start__'],
      ['agent'],
      [],
      ['__start__'],
      ['agent'],
      [],
      ['__start__'],
      ['agent'],
      [],
    ]);
    expect(oldestFirst[0]!.parent_checkpoint).toBeNull();
    for (let i = 1; i < oldestFirst.length; i++)
      expect(oldestFirst[i]!.parent_checkpoint?.checkpoint_id).toBe(oldestFirst[i - 1]!.checkpoint.checkpoint_id);
    expect(oldestFirst.map((h) => h.values.messages?.length ?? 0)).toEqual([0, 1, 2, 2, 3, 4, 4, 5, 6]);
    expect(oldestFirst[2]!.metadata?.writes).toEqual({ agent: { messages: [expect.objectContaining({ type: 'ai', content: 'one' })] } });
    expect(new Set(oldestFirst.map((h) => h.metadata?.run_id)).size).toBe(3);
  });

  it('forks from turn one with new input, keeping both branches', async () => {
    const { threadId, history } = await threeTurns();
    const original = history[0]!;
    const turnOne = [...history].reverse()[2]!;
    const forked = (await client.runs.wait(threadId, 'agent', {
      input: human('another path'),
      checkpointId: turnOne.checkpoint.checkpoint_id!,
    })) as Values;
    expect(forked.messages.map((m) => m.content)).toEqual(['one', 'one', 'another path', 'another path']);
    const head = await client.threads.getState<Values>(threadId);
    expect(head.values).toEqual(forked);
    const stillThere = await client.threads.getState<Values>(threadId, original.checkpoint.checkpoint_id!);
    expect(stillThere.values.messages.map((m) => m.content)).toEqual(['one', 'one', 'two', 'two', 'three', 'three']);
    // The branch hangs off turn one: walk its parents back and meet the original chain there.
    const all = await client.threads.getHistory<Values>(threadId, { limit: 100 });
    const byId = new Map(all.map((h) => [h.checkpoint.checkpoint_id, h]));
    let cursor: ThreadState<Values> | undefined = byId.get(head.checkpoint.checkpoint_id);
    const branch: string[] = [];
    while (cursor && cursor.checkpoint.checkpoint_id !== turnOne.checkpoint.checkpoint_id) {
      branch.push(cursor.metadata?.source as string);
      cursor = cursor.parent_checkpoint ? byId.get(cursor.parent_checkpoint.checkpoint_id) : undefined;
    }
    expect(cursor?.checkpoint.checkpoint_id).toBe(turnOne.checkpoint.checkpoint_id);
    expect(branch).toEqual(['loop', 'loop', 'input']);
    expect(all).toHaveLength(12);
  });

  it('replays from a checkpoint with a null input, re-running only the steps after it', async () => {
    const { threadId, history } = await threeTurns();
    const beforeTwo = [...history].reverse()[4]!;
    expect(beforeTwo.next).toEqual(['agent']);
    const replayed = (await client.runs.wait(threadId, 'agent', {
      input: null,
      checkpointId: beforeTwo.checkpoint.checkpoint_id!,
    })) as Values;
    expect(replayed.messages.map((m) => m.content)).toEqual(['one', 'one', 'two', 'two']);
    const after = await client.threads.getHistory<Values>(threadId, { limit: 100 });
    const added = after.slice(0, after.length - history.length);
    expect(added.map((h) => h.metadata?.source)).toEqual(['loop', 'fork']);
    expect(added[1]!.parent_checkpoint?.checkpoint_id).toBe(beforeTwo.checkpoint.checkpoint_id);
  });

  it('edits a past state and continues on the new branch, which sees the edit', async () => {
    const { threadId, history } = await threeTurns();
    const turnOne = [...history].reverse()[2]!;
    await client.threads.updateState(threadId, {
      values: { messages: [{ role: 'user', content: 'edited question' }] },
      asNode: '__start__',
      checkpointId: turnOne.checkpoint.checkpoint_id!,
    });
    const edited = await client.threads.getState<Values>(threadId);
    expect(edited.metadata?.source).toBe('update');
    expect(edited.parent_checkpoint?.checkpoint_id).toBe(turnOne.checkpoint.checkpoint_id);
    expect(edited.next).toEqual(['agent']);
    const continued = (await client.runs.wait(threadId, 'agent', { input: null })) as Values;
    expect(continued.messages.map((m) => m.content)).toEqual(['one', 'one', 'edited question', 'edited question']);
  });

  it('stores checkpoints in space linear in the messages of a thread', async () => {
    const threadId = (await client.threads.create({ graphId: 'agent' })).thread_id;
    const perCheckpoint: Record<number, number> = {};
    let messages = 0;
    for (const target of [10, 100, 1000]) {
      while (messages < target) {
        const batch = Array.from({ length: 10 }, (_, i) => ({
          role: i % 2 ? 'assistant' : 'user',
          content: `message number ${messages + i} with some ordinary text in it`,
        }));
        await client.threads.updateState(threadId, { values: { messages: batch }, asNode: 'tools' });
        messages += 10;
      }
      const r = await stack.db.query<{ bytes: number; n: number }>(
        'SELECT sum(pg_column_size(c.*))::int AS bytes, count(*)::int AS n FROM checkpoints c WHERE thread_id = $1',
        [threadId],
      );
      perCheckpoint[target] = r.rows[0]!.bytes / r.rows[0]!.n;
    }
    console.log(
      `${db}: bytes per checkpoint at 10, 100, 1000 messages: ${[10, 100, 1000].map((n) => perCheckpoint[n]!.toFixed(0)).join(', ')}`,
    );
    // Each checkpoint holds its own step's writes only: its size does not grow with the thread.
    expect(perCheckpoint[1000]!).toBeLessThan(perCheckpoint[100]! * 1.25);
    expect(perCheckpoint[100]!).toBeLessThan(perCheckpoint[10]! * 1.25);
    const state = await client.threads.getState<Values>(threadId);
    expect(state.values.messages).toHaveLength(1000);
  });

  it('deletes a thread, its checkpoints and its workflow once its ttl has passed', async () => {
    const doomed = await client.threads.create({ ttl: 0.01 });
    const kept = await client.threads.create();
    await client.runs.wait(doomed.thread_id, 'agent', { input: human('short-lived') });
    await client.runs.wait(kept.thread_id, 'agent', { input: human('long-lived') });
    // The sweep must find the doomed thread expired (its 0.6 s have passed) and the kept one not.
    await expect.poll(() => expiredThreadIds(stack.db, 100)).toEqual([doomed.thread_id]);
    await stack.triggerSweep();
    await expect(client.threads.get(doomed.thread_id)).rejects.toThrow('HTTP 404');
    const left = await stack.db.query('SELECT 1 FROM checkpoints WHERE thread_id = $1', [doomed.thread_id]);
    expect(left.rowCount).toBe(0);
    const workflow = await stack.temporal.workflow.getHandle(`thread-${doomed.thread_id}`).describe();
    expect(workflow.status.name).toBe('TERMINATED');
    expect((await client.threads.get(kept.thread_id)).thread_id).toBe(kept.thread_id);
  });
});
