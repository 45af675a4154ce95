import os from 'node:os';
import type { Client } from '@langchain/langgraph-sdk';
import { createModelResolver } from '../activities/models/index.js';
import { toChatHistory } from '../activities/models/local-chat.js';
import { findOrInstallLocalModel } from '../activities/models/local-files.js';
import { createLocalProvider, type GenerationRecord, type LocalModelProvider } from '../activities/models/local.js';
import { defaultLocalThreads } from '../activities/models/local-host.js';
import { humanMessage } from '../core/messages.js';
import type { Stack } from '../test/helpers/stack.js';
import type { BenchEnv } from './harness.js';
import { ms, printTable } from './harness.js';

// Issue 16: the local model through the whole runtime (API, Temporal, model activity, event log, SSE) against
// node-llama-cpp alone, on the same GGUF, prompt, thread count and token budget (greedy, so both produce the
// same tokens). Decode speed is tokens after the first over the time from the first token to the last, as a
// client sees them: through SSE for the runtime, from the token callback for node-llama-cpp alone.

const SYSTEM = 'You are a helpful assistant.';
const PROMPT = 'Write a story about a lighthouse keeper who finds a message in a bottle.';
const MAX_TOKENS = 128;
const ROUNDS = 5;
const defaultThreads = defaultLocalThreads();

interface Sample {
  ttft: number;
  tokens: number;
  /** Tokens after the first over the time from the first to the last. */
  decode: number;
  /** All tokens over the time from the request to the last token. */
  endToEnd: number;
}

interface Variant {
  threads: number;
  baseline: NodeLlamaCppAlone;
  stack: Stack;
  local: LocalModelProvider;
  generations: GenerationRecord[];
  alone: Sample[];
  runtime: Sample[];
}

export async function localBench(env: BenchEnv): Promise<void> {
  const modelPath = await findOrInstallLocalModel(env.log);
  const cores = os.availableParallelism();
  // The default (a core left for the rest of the worker) and all cores, to show what that core buys.
  const variants: Variant[] = [];
  try {
    for (const threads of [...new Set([defaultThreads, cores])]) variants.push(await variant(env, modelPath, threads));
    // Rounds alternate between paths, so a change in the machine's load falls on all of them alike. The runtime's
    // model is not preloaded: its first run loads it, and the runs after it must find it loaded.
    for (let i = 0; i < ROUNDS; i++) {
      for (const v of variants) {
        v.runtime.push(await throughRuntime(v.stack.client));
        v.alone.push(await v.baseline.generate());
      }
    }
  } finally {
    for (const v of variants) {
      await v.baseline.close();
      await v.stack.stop();
      await v.local.close();
    }
  }
  const med = (xs: Sample[], k: keyof Sample) => median(xs.map((x) => x[k]));
  const row = (name: string, xs: Sample[], reference: Sample[]) => [
    name,
    med(xs, 'tokens'),
    med(xs, 'decode').toFixed(1),
    (med(xs, 'decode') / med(reference, 'decode')).toFixed(2),
    med(xs, 'endToEnd').toFixed(1),
    (med(xs, 'endToEnd') / med(reference, 'endToEnd')).toFixed(2),
    ms(med(xs, 'ttft')),
  ];
  printTable(
    `Local model (${env.db}, SmolLM2-135M-Instruct Q4_1, ${MAX_TOKENS} max tokens, median of ${ROUNDS}; ratio: to node-llama-cpp alone at the same threads)`,
    ['path', 'tokens', 'decode tokens/s', 'ratio', 'end-to-end tokens/s', 'ratio', 'time to first token'],
    variants.flatMap((v) => [
      row(`node-llama-cpp alone, ${v.threads} threads`, v.alone, v.alone),
      row(`runtime through SSE, ${v.threads} threads${v.threads === defaultThreads ? ' (default)' : ''}`, v.runtime, v.alone),
    ]),
  );
  printTable(
    'Local model: waiting for the model to load, per run of the runtime',
    ['threads', 'run', 'load wait', 'queued', 'first token (in the activity)'],
    variants.flatMap((v) => v.generations.map((g, i) => [v.threads, i + 1, ms(g.loadWaitMs), ms(g.queuedMs), ms(g.firstChunkMs ?? NaN)])),
  );
}

async function variant(env: BenchEnv, modelPath: string, threads: number): Promise<Variant> {
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
  const baseline = await NodeLlamaCppAlone.load(modelPath, threads);
  return { threads, baseline, stack, local, generations, alone: [], runtime: [] };
}

/** The model loaded once and its sequence kept across rounds, as the runtime keeps them. */
class NodeLlamaCppAlone {
  private constructor(
    private readonly llama: typeof import('node-llama-cpp'),
    private readonly model: import('node-llama-cpp').LlamaModel,
    private readonly sequence: import('node-llama-cpp').LlamaContextSequence,
  ) {}

  static async load(modelPath: string, threads: number): Promise<NodeLlamaCppAlone> {
    const llama = await import('node-llama-cpp');
    const runtime = await llama.getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: llama.LlamaLogLevel.error });
    const model = await runtime.loadModel({ modelPath });
    const context = await model.createContext({ threads, sequences: 1, contextSize: 2048 });
    return new NodeLlamaCppAlone(llama, model, context.getSequence());
  }

  async generate(): Promise<Sample> {
    const chat = new this.llama.LlamaChat({ contextSequence: this.sequence });
    const times: number[] = [];
    const before = this.sequence.tokenMeter.usedOutputTokens;
    const start = performance.now();
    await chat.generateResponse(toChatHistory(SYSTEM, [humanMessage(PROMPT, 'bench')]), {
      maxTokens: MAX_TOKENS,
      temperature: 0,
      onTextChunk: () => void times.push(performance.now()),
    });
    chat.dispose();
    return sample(start, times, this.sequence.tokenMeter.usedOutputTokens - before);
  }

  close(): Promise<void> {
    return this.model.dispose();
  }
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
  return { ttft: first - start, tokens, decode: ((tokens - 1) / span) * 1000, endToEnd: (tokens / ((times.at(-1) ?? NaN) - start)) * 1000 };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
