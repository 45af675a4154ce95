import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../config/logger.js';
import { findOrInstallLocalModel } from '../activities/models/local-files.js';
import { threadWorkflowId } from '../core/ids.js';
import { human } from './helpers/input.js';
import { spawnWorker, type ProcessEnv, type RuntimeProcess } from './helpers/processes.js';
import { startStack, type Stack } from './helpers/stack.js';

// A worker dies (SIGKILL) while the REAL local model (SmolLM2-135M through node-llama-cpp, nothing faked) is
// streaming, with a second worker running. The model turn resumes on the other worker, and a client that
// followed the stream and concatenates each message's deltas ends with exactly the final message (issue 9's
// definition of "no duplicated text").

type Msg = { type: string; id: string; content: string };

let stack: Stack;
let env: ProcessEnv;
const workers: RuntimeProcess[] = [];
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', noWorker: true });
  env = {
    DATABASE_URL: stack.dbUrl!,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    // The workers load the model before they poll; one thread each, as two of them share two cores.
    MODEL_PROVIDER: 'local',
    LOCAL_MODEL_PATH: await findOrInstallLocalModel(createLogger('warn')),
    LOCAL_MODEL_THREADS: '1',
    LOCAL_MODEL_CONTEXT_SIZE: '2048',
  };
  workers.push(...(await Promise.all([spawnWorker(env), spawnWorker(env)])));
}, 180_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await stack?.stop();
});

describe('a worker crash mid-generation on the local model', () => {
  it('resumes on the other worker, and no client sees duplicated text', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const config = { configurable: { model: 'local', tools: [], temperature: 0, max_tokens: 80 } };
    const deltas: Msg[] = [];
    const stream = (async () => {
      for await (const part of stack.client.runs.stream(threadId, 'agent', {
        input: human('Write a short story about a lighthouse keeper.'),
        config,
        streamMode: ['messages-tuple'],
      })) {
        if (part.event === 'messages') deltas.push((part.data as [Msg, unknown])[0]);
      }
    })();

    // Kill the worker that runs the model turn once it has streamed a few tokens.
    const handle = stack.temporal.workflow.getHandle(threadWorkflowId(threadId));
    await vi.waitFor(() => expect(deltas.length).toBeGreaterThanOrEqual(3), { timeout: 60_000, interval: 20 });
    const identity = (await handle.describe()).raw.pendingActivities?.[0]?.lastWorkerIdentity ?? '';
    const victim = workers.find((w) => identity.startsWith(`${w.child.pid}@`));
    expect(victim, `no spawned worker runs the activity (identity ${identity})`).toBeDefined();
    const streamedBeforeKill = deltas.length;
    await victim!.kill();
    workers.splice(workers.indexOf(victim!), 1);
    await stream;

    const [run] = await stack.client.runs.list(threadId);
    expect(run!.status).toBe('success');
    const messages = ((await stack.client.threads.getState(threadId)).values as { messages: Msg[] }).messages;
    expect(messages.map((m) => m.type)).toEqual(['human', 'ai']);
    const answer = messages[1]!;
    expect(answer.content.length).toBeGreaterThan(0);
    // The model turn was started again, by the surviving worker.
    const history = await handle.fetchHistory();
    const starts = (history.events ?? []).flatMap((e) =>
      e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes] : [],
    );
    expect(starts.at(-1)!.attempt).toBeGreaterThan(1);
    expect(starts.at(-1)!.identity).toBe(workers[0]!.child.pid + identity.slice(identity.indexOf('@')));
    expect(streamedBeforeKill).toBeGreaterThanOrEqual(3);

    const seen = deltas
      .filter((d) => d.id === answer.id)
      .map((d) => d.content)
      .join('');
    expect(seen).toBe(answer.content);
  }, 240_000);
});
