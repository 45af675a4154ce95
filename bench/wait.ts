import type { BenchEnv } from './harness.js';
import { ms, percentile, printTable } from './harness.js';

// POST /threads/{id}/runs/wait end to end, one run at a time: a 1-step run (one model turn) and a 5-step run
// (model, tools, model, tools, model). The per-step figure is the difference divided by four, so the fixed
// cost of a run (API, admission, workflow start) and the cost of a step can be compared in the same run.

const RUNS = 20;
const oneStep = { configurable: { script: [{ content: 'done' }] } };
const fiveSteps = {
  configurable: {
    script: [
      { tool_calls: [{ name: 'calculator', args: { expression: '1+1' } }] },
      { tool_calls: [{ name: 'calculator', args: { expression: '2*3' } }] },
      { content: 'done' },
    ],
  },
};

export async function waitBench(env: BenchEnv): Promise<void> {
  const stack = await env.stack();
  try {
    const p50: Record<string, number> = {};
    const rows: (string | number)[][] = [];
    for (const [name, config] of [
      ['1 step', oneStep],
      ['5 steps', fiveSteps],
    ] as const) {
      const times: number[] = [];
      for (let i = 0; i < RUNS + 2; i++) {
        const thread = await stack.client.threads.create();
        const start = performance.now();
        await stack.client.runs.wait(thread.thread_id, 'agent', { input: { messages: [{ role: 'user', content: 'go' }] }, config });
        if (i >= 2) times.push(performance.now() - start); // the first two warm the worker up
      }
      p50[name] = percentile(times, 50);
      rows.push([name, RUNS, ms(p50[name]), ms(percentile(times, 95))]);
    }
    printTable(`runs/wait (${env.db})`, ['run', 'runs', 'p50', 'p95'], rows);
    process.stdout.write(`  per extra step (p50): ${ms((p50['5 steps']! - p50['1 step']!) / 4)}\n`);
  } finally {
    await stack.stop();
  }
}
