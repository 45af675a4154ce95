import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWorker, type ProcessEnv, type RuntimeProcess } from './helpers/processes.js';
import { startStack, type Stack } from './helpers/stack.js';

// A limit survives a worker crash: its counters are state channels written by checkpointed hook steps, so a
// worker killed (SIGKILL) during a model turn neither forgets the calls counted before nor counts one twice.

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

describe('model_call_limit across a worker crash', () => {
  it('counts each call once, and still ends the run at its limit', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const calc = (e: string) => ({ name: 'calculator', args: { expression: e } });
    const words = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');
    const config = {
      configurable: {
        middleware: [{ name: 'model_call_limit', options: { runLimit: 2 } }],
        // The second turn streams for 8 s: the kill lands in it, after the first call was counted.
        script: [
          { tool_calls: [calc('1+1')] },
          { content: words, tool_calls: [calc('2+2')], delay_ms: 8_000 },
          { content: 'over the limit' },
        ],
      },
    };
    const run = await stack.client.runs.create(threadId, 'agent', {
      input: { messages: [{ role: 'user', content: 'count' }] },
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
    await expect.poll(tokens).toBeGreaterThanOrEqual(2);
    await workers[0]!.kill();
    workers.shift();
    // Precondition, while no worker runs: the first call is counted in a checkpoint, the second is mid-stream.
    const mid = (await stack.client.threads.getState(threadId)).values as { runModelCallCount?: number };
    expect(mid.runModelCallCount).toBe(1);
    expect(await tokens()).toBeLessThan(20);
    workers.push(await spawnWorker(env));

    const done = (await stack.client.runs.join(threadId, run.run_id)) as {
      messages: { type: string; content: string }[];
      threadModelCallCount: number;
    };
    // Two calls counted, not one (forgotten) or three (counted twice): the third call is refused.
    expect(done.messages.at(-1)!.content).toContain('run limit (2/2 calls)');
    expect(done.threadModelCallCount).toBe(2);
    expect((await stack.client.runs.get(threadId, run.run_id)).status).toBe('success');
  });
});
