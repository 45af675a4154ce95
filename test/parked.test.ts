import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnWorker, type RuntimeProcess } from './helpers/processes.js';
import { startStack, type Stack } from './helpers/stack.js';

// 1,000 threads parked at an interrupt hold no worker: no activity runs for them, and a worker process's memory
// stays flat once its bounded workflow cache is full. Resuming any of them still works. The worker is a real
// process, so its memory is measured apart from the API and the test.

const PARKED = 1000;
let stack: Stack;
let worker: RuntimeProcess;
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', noWorker: true });
  worker = await spawnWorker({
    DATABASE_URL: stack.dbUrl!,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    WORKER_MAX_CACHED_WORKFLOWS: '100',
  });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const config = {
  configurable: { script: [{ tool_calls: [{ name: 'create_ticket', args: { title: 'Waiting for approval' } }] }, { content: 'Done.' }], interrupt_on: { create_ticket: true } },
};

/** Resident memory of the worker process, in MB. */
function workerRss(): number {
  const status = readFileSync(`/proc/${worker.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

let parked = 0;
async function parkThreads(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, count - i) }, async () => {
        const thread = await stack.client.threads.create();
        await stack.client.runs.create(thread.thread_id, 'agent', { input: { messages: [{ role: 'user', content: 'please approve' }] }, config });
        ids.push(thread.thread_id);
      }),
    );
  }
  parked += ids.length;
  const want = parked;
  for (let i = 0; i < 1200; i++) {
    const r = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM threads WHERE status = 'interrupted'`);
    if (r.rows[0]!.n >= want) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  return ids;
}

describe('threads parked at an interrupt', () => {
  it('hold no activity and no growing worker memory, and any of them resumes', async () => {
    const warm = await parkThreads(20);
    const rssWarm = workerRss();
    const first = await parkThreads(200 - 20);
    const rss200 = workerRss();
    const rest = await parkThreads(PARKED - 200);
    const rss1000 = workerRss();
    const all = [...warm, ...first, ...rest];
    console.log(`worker RSS: ${rssWarm.toFixed(0)} MB at 20 parked, ${rss200.toFixed(0)} MB at 200, ${rss1000.toFixed(0)} MB at ${PARKED}`);

    const interrupted = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM threads WHERE status = 'interrupted'`);
    expect(interrupted.rows[0]!.n).toBe(PARKED);
    const active = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE status IN ('pending', 'running')`);
    expect(active.rows[0]!.n).toBe(0);
    // Every parked thread's workflow is open and waiting, with no activity scheduled or running.
    const pending: number[] = [];
    for (let i = 0; i < all.length; i += 50) {
      const batch = await Promise.all(all.slice(i, i + 50).map((id) => stack.temporal.workflow.getHandle(`thread-${id}`).describe()));
      for (const d of batch) {
        expect(d.status.name).toBe('RUNNING');
        pending.push(d.raw.pendingActivities?.length ?? 0);
      }
    }
    expect(pending.filter((n) => n > 0)).toEqual([]);
    // With the cache bounded at 100 workflows, 800 more parked threads must not cost the worker memory per thread.
    expect(rss1000 - rss200).toBeLessThan(64);

    const chosen = all[Math.floor(all.length / 2)]!;
    const done = (await stack.client.runs.wait(chosen, 'agent', { command: { resume: { decisions: [{ type: 'approve' }] } }, config })) as { messages: { content: string }[] };
    expect(done.messages.at(-1)!.content).toBe('Done.');
  }, 600_000);
});
