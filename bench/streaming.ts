import { Client } from '@langchain/langgraph-sdk';
import type { BenchEnv } from './harness.js';
import { ms, percentile, printTable } from './harness.js';

// Issue 3: time to the first `metadata` event, and token latency from the moment the model activity produces
// a chunk to the moment the SSE client receives it, at 1 and 32 concurrent streams.

const WORDS = 40;
const script = { configurable: { script: [{ content: Array.from({ length: WORDS }, (_, i) => `token${i}`).join(' '), delay_ms: 800 }] } };

export async function streamingBench(env: BenchEnv): Promise<void> {
  const produced = new Map<string, number[]>();
  const stack = await env.stack({
    hooks: { onModelChunk: (runId, i, at) => void ((produced.get(runId) ?? produced.set(runId, []).get(runId)!)[i] = at) },
  });
  try {
    const rows: (string | number)[][] = [];
    for (const concurrency of [1, 32]) {
      const rounds = concurrency === 1 ? 10 : 2;
      const firstEvent: number[] = [];
      const latency: number[] = [];
      for (let round = 0; round < rounds; round++) {
        await Promise.all(Array.from({ length: concurrency }, () => oneStream(stack.url, produced, firstEvent, latency)));
      }
      rows.push([
        concurrency,
        rounds * concurrency,
        ms(percentile(firstEvent, 50)),
        ms(percentile(firstEvent, 95)),
        latency.length,
        ms(percentile(latency, 50)),
        ms(percentile(latency, 95)),
      ]);
    }
    printTable(
      `Streaming (${env.db})`,
      ['streams', 'runs', 'first event p50', 'first event p95', 'tokens', 'token latency p50', 'token latency p95'],
      rows,
    );
  } finally {
    await stack.stop();
  }
}

async function oneStream(apiUrl: string, produced: Map<string, number[]>, firstEvent: number[], latency: number[]): Promise<void> {
  // One client per stream, as separate users have: an SDK client runs at most 4 requests at once.
  const client = new Client({ apiUrl, apiKey: null });
  const thread = await client.threads.create();
  const start = performance.timeOrigin + performance.now();
  let runId = '';
  let index = 0;
  for await (const part of client.runs.stream(thread.thread_id, 'agent', {
    input: { messages: [{ role: 'user', content: 'go' }] },
    config: script,
    streamMode: ['messages-tuple'],
  })) {
    const now = performance.timeOrigin + performance.now();
    if (part.event === 'metadata') {
      firstEvent.push(now - start);
      runId = (part.data as { run_id: string }).run_id;
    } else if (part.event === 'messages') {
      const at = produced.get(runId)?.[index++];
      if (at !== undefined) latency.push(now - at);
    }
  }
}
