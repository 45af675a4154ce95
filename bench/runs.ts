import { randomBytes } from 'node:crypto';
import { Client } from '@langchain/langgraph-sdk';
import { spawnApi, spawnWorker } from '../test/helpers/processes.js';
import { openTestDb, type Stack } from '../test/helpers/stack.js';
import { startFloor, type Floor } from './floor/index.js';
import type { FloorStep } from './floor/activities.js';
import type { BenchEnv } from './harness.js';
import { ms, percentile, printTable } from './harness.js';

// Issue 14: runs/wait latency of a 1-step and a 5-step run, and runs per second at 1, 8 and 32 concurrent
// threads, each beside the floor: the same model and tool work as a bare Temporal workflow on the same dev server.
// Ours and the floor alternate in one process and one run, so the machine's load weighs on both alike.

const LATENCY_RUNS = 20;
const THROUGHPUT: [concurrency: number, runs: number][] = [
  [1, 15],
  [8, 64],
  [32, 160],
];

export const oneStep: FloorStep[] = [{ content: 'done' }];
/** Four calculator rounds, then an answer: five model turns and four tool calls. */
export const fiveSteps: FloorStep[] = [
  ...['1+1', '2*3', '3-1', '8/2'].map((expression) => ({ tool_calls: [{ name: 'calculator', args: { expression } }] })),
  { content: 'done' },
];

type Runner = (script: FloorStep[]) => Promise<void>;

export interface RunsOptions {
  /** PostgreSQL only: ours as deployed, an API process and a worker process, not both in this process. */
  split?: boolean;
}

export async function runsBench(env: BenchEnv, o: RunsOptions = {}): Promise<void> {
  if (o.split && env.db !== 'postgres') throw new Error('--split needs --db=postgres: PGlite cannot be shared by processes');
  const stack = o.split ? await splitStack(env) : await env.stack();
  const floor = await startFloor(env.server.address);
  try {
    const ours = oursRunner(stack);
    const bare = floorRunner(floor);
    for (let i = 0; i < 3; i++) await Promise.all([ours(fiveSteps), bare(fiveSteps)]); // warm both workers up
    const rows: (string | number)[][] = [];
    for (const [name, script] of [
      ['1-step', oneStep],
      ['5-step', fiveSteps],
    ] as const) {
      const [a, b] = [[] as number[], [] as number[]];
      for (let i = 0; i < LATENCY_RUNS; i++) {
        a.push(await timed(() => ours(script)));
        b.push(await timed(() => bare(script)));
      }
      for (const p of [50, 95])
        rows.push([`${name} wait p${p}`, ms(percentile(a, p)), ms(percentile(b, p)), ratio(percentile(a, p), percentile(b, p))]);
    }
    let rss = 0;
    for (const [concurrency, runs] of THROUGHPUT) {
      const sampler = concurrency === 32 ? setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 100) : undefined;
      const a = await throughput(() => ours(oneStep), concurrency, runs);
      clearInterval(sampler);
      const b = await throughput(() => bare(oneStep), concurrency, runs);
      rows.push([`runs/s c${concurrency}`, a.toFixed(1), b.toFixed(1), ratio(a, b)]);
    }
    const where = o.split ? 'an API and a worker process' : 'API + worker in this process';
    printTable(`runs (${env.db}; ours = ${where})`, ['figure', 'ours', 'floor', 'ours/floor'], rows);
    if (!o.split)
      process.stdout.write(
        `  resident memory at 32 concurrent (API + worker + bench client, one process): ${(rss / 2 ** 20).toFixed(0)} MiB\n`,
      );
  } finally {
    await floor.stop();
    await stack.stop();
  }
}

/** The `npm run api` and `npm run worker` entrypoints on the bench's dev server and a database of their own. */
async function splitStack(env: BenchEnv): Promise<Pick<Stack, 'client' | 'stop'>> {
  const db = await openTestDb('postgres', env.log);
  const penv = {
    DATABASE_URL: db.url!,
    TEMPORAL_ADDRESS: env.server.address,
    TEMPORAL_TASK_QUEUE: `bench-${randomBytes(4).toString('hex')}`,
  };
  const [worker, api] = await Promise.all([spawnWorker(penv), spawnApi(penv)]);
  return {
    client: new Client({ apiUrl: api.url, apiKey: null }),
    async stop() {
      await Promise.all([api.stop(), worker.stop()]);
      await db.drop();
    },
  };
}

/** A new thread per run (its creation counts), as the floor starts a new workflow per run. */
function oursRunner(stack: Pick<Stack, 'client'>): Runner {
  return async (script) => {
    const thread = await stack.client.threads.create();
    const values = (await stack.client.runs.wait(thread.thread_id, 'agent', {
      input: { messages: [{ role: 'user', content: 'go' }] },
      config: { configurable: { script } },
    })) as { messages?: { content: unknown }[]; __error__?: unknown };
    if (values.__error__ || values.messages?.at(-1)?.content !== 'done') throw new Error(`run went wrong: ${JSON.stringify(values)}`);
  };
}

function floorRunner(floor: Floor): Runner {
  return async (script) => {
    if ((await floor.run(script)) !== 'done') throw new Error('floor run went wrong');
  };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** `runs` runs, `concurrency` at a time; runs per second of wall time. */
export async function throughput(fn: () => Promise<void>, concurrency: number, runs: number): Promise<number> {
  let left = runs;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await fn();
    }),
  );
  return runs / ((performance.now() - start) / 1000);
}

export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
