import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/temporal-cli.js';
import { spawnWorker, type RuntimeProcess } from './helpers/processes.js';
import { startStack, type Stack } from './helpers/stack.js';

// 1,000 threads parked at an interrupt hold no worker: no activity is pending for any of them, and the worker
// keeps at most its bounded cache of workflows in memory (Temporal's own sticky-cache gauge, read from the
// worker's Prometheus endpoint). Resident memory is recorded; it follows garbage collection more than the
// cache at this scale, so only a ceiling that would catch memory held per parked thread is asserted. Resuming
// any of them still works. The worker is a real process, so its figures are its own.

const PARKED = 1000;
const CACHE = 100;
let stack: Stack;
let worker: RuntimeProcess;
let metricsUrl: string;
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', noWorker: true });
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  worker = await spawnWorker({
    DATABASE_URL: stack.dbUrl!,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    WORKER_MAX_CACHED_WORKFLOWS: String(CACHE),
    METRICS_PORT: String(metricsPort),
  });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const config = {
  configurable: {
    script: [{ tool_calls: [{ name: 'create_ticket', args: { title: 'Waiting for approval' } }] }, { content: 'Done.' }],
    interrupt_on: { create_ticket: true },
  },
};

/** Workflows the worker holds in memory, by its own gauge. */
async function cachedWorkflows(): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith('temporal_sticky_cache_size'));
  return Number(line!.trim().split(/\s+/).at(-1));
}

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
        await stack.client.runs.create(thread.thread_id, 'agent', {
          input: { messages: [{ role: 'user', content: 'please approve' }] },
          config,
        });
        ids.push(thread.thread_id);
      }),
    );
  }
  parked += ids.length;
  const want = parked;
  // Memory is read once they are all parked, so the figures are taken at the counts they claim.
  const parkedNow = async () =>
    (await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM threads WHERE status = 'interrupted'`)).rows[0]!.n;
  await expect.poll(parkedNow, { timeout: 300_000, interval: 250 }).toBeGreaterThanOrEqual(want);
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
    const cached = await cachedWorkflows();
    console.log(
      `worker RSS: ${rssWarm.toFixed(0)} MB at 20 parked, ${rss200.toFixed(0)} MB at 200, ${rss1000.toFixed(0)} MB at ${PARKED}; ${cached} workflows cached`,
    );

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
    expect(cached).toBeGreaterThan(0);
    expect(cached).toBeLessThanOrEqual(CACHE);
    // A ceiling, not a measurement: memory held per parked thread (say an activity with its buffers) would exceed it.
    expect(rss1000 - rss200).toBeLessThan(300);

    const chosen = all[Math.floor(all.length / 2)]!;
    const done = (await stack.client.runs.wait(chosen, 'agent', { command: { resume: { decisions: [{ type: 'approve' }] } }, config })) as {
      messages: { content: string }[];
    };
    expect(done.messages.at(-1)!.content).toBe('Done.');
  }, 600_000);
});
