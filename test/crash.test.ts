import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEffects } from '../db/effects.js';
import { spawnWorker, type ProcessEnv, type RuntimeProcess } from './helpers/processes.js';
import { startStack, type Stack } from './helpers/stack.js';

// The promise of the runtime: a worker dies mid-run (SIGKILL, no cleanup) after a tool with a side effect has
// finished and while the model is streaming its next turn. Another worker resumes at the last finished call:
// the run completes, and the side effect happened exactly once.

let stack: Stack;
let env: ProcessEnv;
const workers: RuntimeProcess[] = [];
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', noWorker: true });
  env = { DATABASE_URL: stack.dbUrl!, TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_TASK_QUEUE: stack.taskQueue };
  workers.push(await spawnWorker(env));
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await stack?.stop();
});

describe('a worker crash mid-run', () => {
  it('resumes at the last finished call without repeating the side effect', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const answer = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    // A third of a second a word: the kill lands early in a 10 s turn, and the checks after it prove that it did.
    const config = {
      configurable: {
        script: [{ tool_calls: [{ name: 'create_ticket', args: { title: 'Server room is hot' } }] }, { content: answer, delay_ms: 10_000 }],
      },
    };
    const run = await stack.client.runs.create(threadId, 'agent', {
      input: { messages: [{ role: 'user', content: 'open a ticket' }] },
      config,
      streamMode: ['messages-tuple'],
    });
    const tokens = async () =>
      (
        await stack.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM run_events WHERE run_id = $1 AND event = 'messages' AND data->0->>'content' LIKE 'word%'`,
          [run.run_id],
        )
      ).rows[0]!.n;

    // Wait until the tool has run and the second model turn is streaming.
    await expect.poll(async () => (await listEffects(stack.db, threadId)).length).toBe(1);
    await expect.poll(tokens).toBeGreaterThanOrEqual(3);
    await workers[0]!.kill();
    workers.shift();
    // The precondition, checked while no worker runs: the kill came mid-turn, so the answer is not in yet.
    expect(await tokens()).toBeLessThan(30);
    expect((await stack.client.runs.get(threadId, run.run_id)).status).toBe('running');
    expect((await stack.client.threads.getHistory(threadId, { limit: 20 })).map((h) => h.metadata?.step)).toEqual([2, 1, 0, -1]);
    workers.push(await spawnWorker(env));

    const done = (await stack.client.runs.join(threadId, run.run_id)) as { messages: { type: string; content: string }[] };
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(done.messages[3]!.content).toBe(answer);
    expect((await stack.client.runs.get(threadId, run.run_id)).status).toBe('success');
    const effects = await listEffects(stack.db, threadId);
    expect(effects.map((e) => e.args)).toEqual([{ title: 'Server room is hot', priority: 'normal' }]);
    const history = await stack.client.threads.getHistory(threadId, { limit: 20 });
    expect(history.map((h) => h.metadata?.step)).toEqual([3, 2, 1, 0, -1]);
  }, 180_000);
});
