import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import type { Client } from '@langchain/langgraph-sdk';
import { spawnWorker } from '../test/helpers/processes.js';
import type { BenchEnv } from './harness.js';
import { ms, percentile, printTable } from './harness.js';

// Issue 4: resume latency (resume request to the first events of the continued run) and the resident memory
// of a worker process with 0, 1,000 and 10,000 threads parked at an interrupt.

const config = {
  configurable: {
    script: [{ tool_calls: [{ name: 'create_ticket', args: { title: 'bench' } }] }, { content: 'Done.' }],
    interrupt_on: { create_ticket: true },
  },
};
const input = { messages: [{ role: 'user', content: 'approve me' }] };

async function park(client: Client, count: number, concurrency = 32): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count - i) }, async () => {
        const t = await client.threads.create();
        await client.runs.wait(t.thread_id, 'agent', { input, config });
        ids.push(t.thread_id);
      }),
    );
  }
  return ids;
}

export async function resumeBench(env: BenchEnv): Promise<void> {
  const stack = await env.stack();
  try {
    const ids = await park(stack.client, 40);
    const toMetadata: number[] = [];
    const toProgress: number[] = [];
    for (const id of ids) {
      const start = performance.now();
      let progressed = false;
      for await (const part of stack.client.runs.stream(id, 'agent', {
        command: { resume: { decisions: [{ type: 'approve' }] } },
        config,
        streamMode: ['updates'],
      })) {
        if (part.event === 'metadata') toMetadata.push(performance.now() - start);
        else if (!progressed) {
          progressed = true;
          toProgress.push(performance.now() - start);
        }
      }
    }
    printTable(
      `Resume latency (${env.db}, ${ids.length} resumes one at a time)`,
      ['to metadata p50', 'p95', 'to first update p50', 'p95'],
      [[ms(percentile(toMetadata, 50)), ms(percentile(toMetadata, 95)), ms(percentile(toProgress, 50)), ms(percentile(toProgress, 95))]],
    );
  } finally {
    await stack.stop();
  }
}

export async function parkedMemoryBench(env: BenchEnv, targets = [0, 1000, 10_000]): Promise<void> {
  const stack = await env.stack({ db: 'postgres', noWorker: true });
  const worker = await spawnWorker({
    DATABASE_URL: stack.dbUrl!,
    TEMPORAL_ADDRESS: env.server.address,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    WORKER_MAX_CACHED_WORKFLOWS: '500',
  });
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${worker.child.pid}/status`, 'utf8'))![1]) / 1024;
  try {
    const rows: (string | number)[][] = [];
    let parked = 0;
    for (const target of targets) {
      const added = target - parked;
      const started = performance.now();
      await park(stack.client, added);
      const rate = added > 0 ? `${(added / ((performance.now() - started) / 1000)).toFixed(0)} threads/s` : '-';
      parked = target;
      await sleep(2000);
      rows.push([parked, `${rss().toFixed(0)} MB`, rate]);
    }
    printTable(
      'Worker process memory with threads parked at an interrupt (cache bound 500 workflows)',
      ['parked threads', 'worker RSS', 'parking rate'],
      rows,
    );
  } finally {
    await worker.stop();
    await stack.stop();
  }
}
