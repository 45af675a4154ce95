import type { BenchEnv } from './harness.js';
import { ms, percentile, printTable } from './harness.js';

// Issue 5: reading history and state of a thread with 1,000 checkpoints. Checkpoints store deltas, so a read
// folds writes along the chain; this shows what that costs at the head, deep in the past, and per page.

const CHECKPOINTS = 1000;

export async function historyBench(env: BenchEnv): Promise<void> {
  const stack = await env.stack();
  try {
    const threadId = (await stack.client.threads.create({ graphId: 'agent' })).thread_id;
    for (let i = 0; i < CHECKPOINTS; i++) {
      await stack.client.threads.updateState(threadId, {
        values: { messages: [{ role: i % 2 ? 'assistant' : 'user', content: `message ${i} of a long conversation` }] },
        asNode: 'tools',
      });
    }
    const oldest = (await stack.client.threads.getHistory(threadId, { limit: CHECKPOINTS })).at(-1)!.checkpoint.checkpoint_id!;
    const time = async (fn: () => Promise<unknown>, n = 30) => {
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await fn();
        samples.push(performance.now() - t);
      }
      return [ms(percentile(samples, 50)), ms(percentile(samples, 95))];
    };
    const rows = [
      ['state at the head', ...(await time(() => stack.client.threads.getState(threadId)))],
      ['state at the oldest checkpoint', ...(await time(() => stack.client.threads.getState(threadId, oldest)))],
      ['history, newest 10', ...(await time(() => stack.client.threads.getHistory(threadId, { limit: 10 })))],
      ['history, newest 100', ...(await time(() => stack.client.threads.getHistory(threadId, { limit: 100 }), 10))],
      [`history, all ${CHECKPOINTS}`, ...(await time(() => stack.client.threads.getHistory(threadId, { limit: CHECKPOINTS }), 3))],
    ];
    printTable(`History reads, thread with ${CHECKPOINTS} checkpoints (${env.db})`, ['read', 'p50', 'p95'], rows);
  } finally {
    await stack.stop();
  }
}
