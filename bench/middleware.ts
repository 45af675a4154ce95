import type { BenchEnv } from './harness.js';
import { ms, percentile, printTable } from './harness.js';

// The cost of guardrails on a 5-step run (model, tools, model, tools, model) through runs/wait: no middleware,
// an empty middleware list, and PII (input, output, tool results) with model and tool call limits and a spend cap
// on every scope (run, thread, user-day; priced, never reached), the stack issue #12 names. Figures are p50s and
// their ratio to no middleware. The three kinds take turns, so drift on a shared machine hits all alike.

const RUNS = 20;
const script = [
  { tool_calls: [{ name: 'calculator', args: { expression: '1+1' } }] },
  { tool_calls: [{ name: 'calculator', args: { expression: '2*3' } }] },
  { content: 'done' },
];
const guarded = [
  { name: 'pii', options: { piiType: 'email', applyToInput: true, applyToOutput: true, applyToToolResults: true } },
  { name: 'model_call_limit', options: { runLimit: 50, threadLimit: 500 } },
  { name: 'tool_call_limit', options: { runLimit: 50 } },
  { name: 'spend_cap', options: { runUsd: 1000, threadUsd: 1000, userDailyUsd: 1_000_000 } },
];
// The scripted model reports a word as a token: a price makes every call a charge on each counter.
const modelPrices = { scripted: { input_per_mtok: 1, output_per_mtok: 2 } };
const kinds = [
  ['no middleware', { script }],
  ['empty list', { script, middleware: [] }],
  ['pii + limits + spend cap', { script, middleware: guarded, user_id: 'bench-user' }],
] as const;

export async function middlewareBench(env: BenchEnv): Promise<void> {
  const stack = await env.stack({ modelPrices });
  try {
    const times = new Map<string, number[]>(kinds.map(([name]) => [name, []]));
    for (let i = 0; i < RUNS + 2; i++) {
      for (const [name, configurable] of kinds) {
        const thread = await stack.client.threads.create();
        const start = performance.now();
        await stack.client.runs.wait(thread.thread_id, 'agent', {
          input: { messages: [{ role: 'user', content: 'go' }] },
          config: { configurable },
        });
        if (i >= 2) times.get(name)!.push(performance.now() - start); // the first two rounds warm up
      }
    }
    const base = percentile(times.get('no middleware')!, 50);
    const rows = kinds.map(([name]) => {
      const t = times.get(name)!;
      return [name, RUNS, ms(percentile(t, 50)), ms(percentile(t, 95)), `${(percentile(t, 50) / base).toFixed(2)}x`];
    });
    printTable(`middleware, 5-step runs/wait (${env.db})`, ['stack', 'runs', 'p50', 'p95', 'p50 ratio'], rows);
  } finally {
    await stack.stop();
  }
}
