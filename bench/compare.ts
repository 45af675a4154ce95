import { readFileSync } from 'node:fs';
import { Client } from '@langchain/langgraph-sdk';
import type { FloorStep } from './floor/activities.js';
import type { BenchEnv } from './harness.js';
import { ms, percentile, printTable } from './harness.js';
import { startPeer } from './peer/index.js';
import { fiveSteps, oneStep, ratio, throughput } from './runs.js';

// Issue 14: this runtime against `@langchain/langgraph-api`'s in-memory dev server (not durable), both driven by the
// same @langchain/langgraph-sdk code: runs/wait latency of a 1-step and a 5-step run, and runs per second at 1, 8
// and 32 concurrent threads. The two alternate in one run, so the machine's load weighs on both alike.

const LATENCY_RUNS = 12;
const THROUGHPUT: [concurrency: number, runs: number][] = [
  [1, 10],
  [8, 64],
  [32, 160],
];

/** The client code both servers get: a new thread, then runs.wait on the `agent` graph with the script. */
async function runOnce(client: Client, script: FloorStep[]): Promise<void> {
  const thread = await client.threads.create();
  const values = (await client.runs.wait(thread.thread_id, 'agent', {
    input: { messages: [{ role: 'user', content: 'go' }] },
    config: { configurable: { script } },
  })) as { messages?: { content: unknown }[]; __error__?: unknown };
  if (values.__error__ || values.messages?.at(-1)?.content !== 'done') throw new Error(`run went wrong: ${JSON.stringify(values)}`);
}

export async function compareBench(env: BenchEnv): Promise<void> {
  const stack = await env.stack();
  const peer = await startPeer();
  try {
    const ours = new Client({ apiUrl: stack.url, apiKey: null });
    const theirs = new Client({ apiUrl: peer.url, apiKey: null });
    for (let i = 0; i < 2; i++) await Promise.all([runOnce(ours, fiveSteps), runOnce(theirs, fiveSteps)]);
    const rows: (string | number)[][] = [];
    for (const [name, script] of [
      ['1-step', oneStep],
      ['5-step', fiveSteps],
    ] as const) {
      const [a, b] = [[] as number[], [] as number[]];
      for (let i = 0; i < LATENCY_RUNS; i++) {
        a.push(await timed(() => runOnce(ours, script)));
        b.push(await timed(() => runOnce(theirs, script)));
      }
      for (const p of [50, 95])
        rows.push([`${name} wait p${p}`, ms(percentile(a, p)), ms(percentile(b, p)), ratio(percentile(a, p), percentile(b, p))]);
    }
    let peerRss = 0;
    for (const [concurrency, runs] of THROUGHPUT) {
      const a = await throughput(() => runOnce(ours, oneStep), concurrency, runs);
      const sampler = concurrency === 32 ? setInterval(() => (peerRss = Math.max(peerRss, rssOf(peer.pid))), 100) : undefined;
      const b = await throughput(() => runOnce(theirs, oneStep), concurrency, runs);
      clearInterval(sampler);
      rows.push([`runs/s c${concurrency}`, a.toFixed(1), b.toFixed(1), ratio(a, b)]);
    }
    printTable(`compare (${env.db}) against @langchain/langgraph-api in memory`, ['figure', 'ours', 'langgraph-api', 'ours/peer'], rows);
    process.stdout.write(`  langgraph-api resident memory at 32 concurrent: ${(peerRss / 2 ** 20).toFixed(0)} MiB\n`);
  } finally {
    await peer.stop();
    await stack.stop();
  }
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Resident memory of another process (Linux), 0 where /proc is not there. */
function rssOf(pid: number): number {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  } catch {
    return 0;
  }
}
