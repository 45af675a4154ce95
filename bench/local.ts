import os from 'node:os';
import type { Client } from '@langchain/langgraph-sdk';
import { createModelResolver } from '../activities/models/index.js';
import { toChatHistory } from '../activities/models/local-chat.js';
import { findOrInstallLocalModel } from '../activities/models/local-files.js';
import { createLocalProvider, type GenerationRecord } from '../activities/models/local.js';
import { humanMessage } from '../core/messages.js';
import type { BenchEnv } from './harness.js';
import { ms, printTable } from './harness.js';

// Issue 16: the local model through the whole runtime (API, Temporal, model activity, event log, SSE) against
// node-llama-cpp alone, on the same GGUF, prompt, thread count and token budget (greedy, so both produce the
// same tokens). Decode speed is tokens after the first over the time from the first token to the last, as a
// client sees them: through SSE for the runtime, from the token callback for node-llama-cpp alone.

const SYSTEM = 'You are a helpful assistant.';
const PROMPT = 'Write a story about a lighthouse keeper who finds a message in a bottle.';
const MAX_TOKENS = 128;
const ROUNDS = 3;

interface Sample {
  ttft: number;
  tokens: number;
  tokensPerSecond: number;
}

export async function localBench(env: BenchEnv): Promise<void> {
  const modelPath = await findOrInstallLocalModel(env.log);
  const threads = os.availableParallelism();
  const alone = await nodeLlamaCppAlone(modelPath, threads);

  const generations: GenerationRecord[] = [];
  const local = createLocalProvider({
    modelPath,
    threads,
    sequences: 1,
    contextSize: 2048,
    log: env.log,
    onGeneration: (g) => generations.push(g),
  });
  const stack = await env.stack({
    models: createModelResolver({ openaiBaseUrl: 'http://127.0.0.1:9/v1', anthropicBaseUrl: 'http://127.0.0.1:9', local }),
  });
  const runtime: Sample[] = [];
  try {
    // Not preloaded: the first run loads the model, the ones after it must find it loaded.
    for (let i = 0; i < ROUNDS; i++) runtime.push(await throughRuntime(stack.client));
  } finally {
    await stack.stop();
    await local.close();
  }
  const med = (xs: Sample[], k: keyof Sample) => median(xs.map((x) => x[k]));
  printTable(
    `Local model (${env.db}, SmolLM2-135M-Instruct Q4_1, ${threads} threads, ${MAX_TOKENS} max tokens, median of ${ROUNDS})`,
    ['path', 'tokens', 'tokens/s', 'ratio', 'time to first token'],
    [
      ['node-llama-cpp alone', med(alone, 'tokens'), med(alone, 'tokensPerSecond').toFixed(1), '1.00', ms(med(alone, 'ttft'))],
      [
        'runtime, through SSE',
        med(runtime, 'tokens'),
        med(runtime, 'tokensPerSecond').toFixed(1),
        (med(runtime, 'tokensPerSecond') / med(alone, 'tokensPerSecond')).toFixed(2),
        ms(med(runtime, 'ttft')),
      ],
    ],
  );
  printTable(
    'Local model: waiting for the model to load, per run',
    ['run', 'load wait', 'queued', 'first token (in the activity)'],
    generations.map((g, i) => [i + 1, ms(g.loadWaitMs), ms(g.queuedMs), ms(g.firstChunkMs ?? NaN)]),
  );
}

/** The model loaded once and its sequence kept across rounds, as the runtime keeps them. */
async function nodeLlamaCppAlone(modelPath: string, threads: number): Promise<Sample[]> {
  const { getLlama, LlamaChat, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ threads, sequences: 1, contextSize: 2048 });
  const sequence = context.getSequence();
  const samples: Sample[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const chat = new LlamaChat({ contextSequence: sequence });
    const times: number[] = [];
    const before = sequence.tokenMeter.usedOutputTokens;
    const start = performance.now();
    await chat.generateResponse(toChatHistory(SYSTEM, [humanMessage(PROMPT, 'bench')]), {
      maxTokens: MAX_TOKENS,
      temperature: 0,
      onTextChunk: () => void times.push(performance.now()),
    });
    samples.push(sample(start, times, sequence.tokenMeter.usedOutputTokens - before));
    chat.dispose();
  }
  await model.dispose();
  return samples;
}

async function throughRuntime(client: Client): Promise<Sample> {
  const thread = await client.threads.create();
  const times: number[] = [];
  const start = performance.now();
  for await (const part of client.runs.stream(thread.thread_id, 'agent', {
    input: { messages: [{ role: 'user', content: PROMPT }] },
    config: { configurable: { model: 'local', system_prompt: SYSTEM, tools: [], temperature: 0, max_tokens: MAX_TOKENS } },
    streamMode: ['messages-tuple'],
  })) {
    if (part.event === 'messages') times.push(performance.now());
  }
  const state = (await client.threads.getState(thread.thread_id)).values as { messages: { usage_metadata?: { output_tokens: number } }[] };
  return sample(start, times, state.messages.at(-1)?.usage_metadata?.output_tokens ?? 0);
}

function sample(start: number, times: number[], tokens: number): Sample {
  const first = times[0] ?? NaN;
  const span = (times.at(-1) ?? NaN) - first;
  return { ttft: first - start, tokens, tokensPerSecond: ((tokens - 1) / span) * 1000 };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
