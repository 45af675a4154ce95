import type { Message } from '@langchain/langgraph-sdk';
import { MessageTupleManager, StreamManager } from '@langchain/langgraph-sdk/ui';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { threadWorkflowId } from '../core/ids.js';
import { human, isAiChunk } from './helpers/input.js';
import { spawnWorker, type ProcessEnv, type RuntimeProcess } from './helpers/processes.js';
import { startStack, type Stack } from './helpers/stack.js';

// A worker is SIGKILLed while the model streams, with a second worker running; the second one retries the model
// call from the start. The stream is folded by the official SDK's own StreamManager (what useStream renders),
// following only messages-tuple, so no later `values` event can paper over a wrong fold: the client must end
// with exactly the final messages, not the first attempt's partial text followed by the retry's text.

let stack: Stack;
let env: ProcessEnv;
const workers: RuntimeProcess[] = [];
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', noWorker: true });
  env = { DATABASE_URL: stack.dbUrl!, TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_TASK_QUEUE: stack.taskQueue };
  workers.push(...(await Promise.all([spawnWorker(env), spawnWorker(env)])));
}, 180_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await stack?.stop();
});

type Msg = { id: string; type: string; content: string };

/** The SDK's stream manager, as useStream drives it, with values kept in a plain object. */
function sdkFold() {
  const manager = new StreamManager(new MessageTupleManager(), { throttle: false });
  const errors: unknown[] = [];
  const messages = () => ((manager.values as { messages?: Message[] } | null)?.messages ?? []) as unknown as Msg[];
  const follow = (stream: AsyncGenerator<{ event: string; data: unknown }>) =>
    manager.start((async () => stream) as never, {
      getMessages: (values: Record<string, unknown>) => (values.messages as Message[] | undefined) ?? [],
      setMessages: (values: Record<string, unknown>, list: Message[]) => ({ ...values, messages: list }),
      initialValues: {},
      callbacks: {},
      onSuccess: () => undefined,
      onError: (err: unknown) => void errors.push(err),
    });
  return { follow, messages, errors };
}

async function runningOn(threadId: string): Promise<RuntimeProcess | undefined> {
  const desc = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId)).describe();
  const identity = desc.raw.pendingActivities?.find((a) => a.activityType?.name === 'callModel')?.lastWorkerIdentity ?? '';
  return workers.find((w) => identity.startsWith(`${w.child.pid}@`));
}

describe('a model call retried after a worker crash', () => {
  it('leaves a client that folds the deltas with exactly the final message', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const answer = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const deltas: [Msg, unknown][] = [];
    const fold = sdkFold();
    let runId = '';
    const stream = stack.client.runs.stream(threadId, 'agent', {
      input: human('tell me'),
      config: { configurable: { script: [{ content: answer, delay_ms: 8000 }] } },
      streamMode: ['messages-tuple'],
      streamResumable: true,
      onRunCreated: (r) => void (runId = r.run_id),
    });
    const tap = async function* () {
      for await (const part of stream) {
        if (part.event === 'messages') deltas.push(part.data as [Msg, unknown]);
        yield part as { event: string; data: unknown };
      }
    };
    const following = fold.follow(tap());

    // Kill the worker running the model call once it has streamed a few words.
    const victim = await vi.waitFor(
      async () => {
        expect(deltas.filter(([m]) => m.type !== 'human').length).toBeGreaterThanOrEqual(4);
        const worker = await runningOn(threadId);
        expect(worker, 'the worker running the model call').toBeDefined();
        return worker!;
      },
      { timeout: 30_000, interval: 50 },
    );
    await victim.kill();
    workers.splice(workers.indexOf(victim), 1);
    const partial = deltas.filter(([m]) => isAiChunk(m.type)).length;
    expect(partial).toBeGreaterThanOrEqual(4);
    expect(partial).toBeLessThan(40);

    await following;
    expect(fold.errors).toEqual([]);
    expect((await stack.client.runs.get(threadId, runId)).status).toBe('success');
    const final = (await stack.client.threads.getState<{ messages: Msg[] }>(threadId)).values.messages;
    expect(final.map((m) => m.type)).toEqual(['human', 'ai']);
    expect(final[1]!.content).toBe(answer);

    // What useStream shows at the end (messages-tuple streams model output, not the input): the final AI
    // message, once, with its final text; the first attempt's partial message is gone.
    const ai = final.filter((m) => m.type === 'ai');
    expect(fold.messages().map((m) => [m.id, m.type, m.content])).toEqual(ai.map((m) => [m.id, m.type, m.content]));
    // The first attempt's text really reached the client before the retry streamed again, under another id.
    const ids = [...new Set(deltas.filter(([m]) => isAiChunk(m.type)).map(([m]) => m.id))];
    expect(ids.length).toBeGreaterThan(1);
    // And a client that concatenates the deltas of the final message gets exactly its content.
    const finalId = final[1]!.id;
    expect(
      deltas
        .filter(([m]) => m.id === finalId)
        .map(([m]) => m.content)
        .join(''),
    ).toBe(answer);
  }, 180_000);
});
