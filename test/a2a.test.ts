import { randomUUID } from 'node:crypto';
import { Role, TaskState, type Message, type Part, type Task } from '@a2a-js/sdk';
import { ClientFactory, type Client as A2AClient } from '@a2a-js/sdk/client';
import type { Assistant } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './helpers/stack.js';

// `/a2a/{assistant_id}` driven by @a2a-js/sdk's own client (A2A v1.0 method names), and by hand in v0.3's names:
// contextId is the thread, a task is one run, and an interrupted run is input-required until a message resumes it.

let stack: Stack;
let echo: Assistant;
let desk: Assistant;
let slow: Assistant;
const clients = new Map<string, A2AClient>();

beforeAll(async () => {
  stack = await startStack();
  const make = (name: string, configurable: Record<string, unknown>) =>
    stack.client.assistants.create({ graphId: 'agent', name, config: { configurable } });
  echo = await make('echo', { script: [{ content: 'the build is green' }] });
  desk = await make('desk', {
    script: [{ tool_calls: [{ name: 'create_ticket', args: { title: 'Replace the badge reader' } }] }, { content: 'The ticket is open.' }],
    interrupt_on: { create_ticket: true },
  });
  slow = await make('slow', { script: [{ content: 'eventually', delay_ms: 60_000 }] });
});
afterAll(async () => {
  await stack?.stop();
});

async function a2a(assistant: Assistant): Promise<A2AClient> {
  const existing = clients.get(assistant.assistant_id);
  if (existing) return existing;
  const client = await new ClientFactory().createFromUrl(`${stack.url}/a2a/${assistant.assistant_id}/`);
  clients.set(assistant.assistant_id, client);
  return client;
}

const text = (value: string): Part => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: '' });
const data = (value: unknown): Part => ({ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: '' });
const message = (parts: Part[], o: { contextId?: string; taskId?: string } = {}): Message => ({
  messageId: randomUUID(),
  contextId: o.contextId ?? '',
  taskId: o.taskId ?? '',
  role: Role.ROLE_USER,
  parts,
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
});
const send = async (client: A2AClient, m: Message, returnImmediately = false) =>
  (await client.sendMessage({
    tenant: '',
    message: m,
    configuration: returnImmediately ? { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately } : undefined,
    metadata: undefined,
  })) as Task;
const textOf = (p: Part | undefined) => (p?.content?.$case === 'text' ? p.content.value : undefined);

describe('A2A endpoint', () => {
  it('serves an agent card per assistant', async () => {
    const card = (await (await fetch(`${stack.url}/a2a/${echo.assistant_id}/.well-known/agent-card.json`)).json()) as Record<
      string,
      unknown
    >;
    expect(card).toMatchObject({
      name: 'echo',
      description: 'echo assistant',
      capabilities: { streaming: true, pushNotifications: false },
      supportedInterfaces: [{ url: `${stack.url}/a2a/${echo.assistant_id}`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }, {}],
      skills: [{ id: `${echo.assistant_id}-main`, name: 'echo Capabilities' }],
    });
    expect((await fetch(`${stack.url}/a2a/${randomUUID()}/.well-known/agent-card.json`)).status).toBe(404);
    expect((await fetch(`${stack.url}/a2a/agent/.well-known/agent-card.json`)).status).toBe(422);
  });

  it('sends a message as a run on the context thread, and gets the task again', async () => {
    const thread = await stack.client.threads.create();
    const task = await send(await a2a(echo), message([text('is the build green?')], { contextId: thread.thread_id }));
    expect(task.contextId).toBe(thread.thread_id);
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(textOf(task.artifacts[0]?.parts[0])).toBe('the build is green');
    const [run] = await stack.client.runs.list(thread.thread_id);
    expect(task.id).toBe(`${thread.thread_id}:${run!.run_id}`);
    const history = await stack.client.threads.getHistory(thread.thread_id);
    expect(history.some((h) => h.metadata?.run_id === run!.run_id)).toBe(true);

    const again = await (await a2a(echo)).getTask({ tenant: '', id: task.id, historyLength: 10 });
    expect(again.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(again.history.map((m) => [m.role, textOf(m.parts[0])])).toEqual([
      [Role.ROLE_USER, 'is the build green?'],
      [Role.ROLE_AGENT, 'the build is green'],
    ]);
    // Without a contextId a new thread is made.
    const fresh = await send(await a2a(echo), message([text('again?')]));
    expect((await stack.client.threads.get(fresh.contextId)).thread_id).toBe(fresh.contextId);
  });

  it('streams a message: the task, working, the answer as it is produced, then completed', async () => {
    const thread = await stack.client.threads.create();
    const abort = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      try {
        for await (const part of stack.client.threads.joinStream(thread.thread_id, {
          streamMode: ['run_modes', 'lifecycle'],
          signal: abort.signal,
        })) {
          seen.push(part.event);
          if (part.event === 'lifecycle' && (part.data as { event: string }).event === 'success') abort.abort();
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    })();
    const events: string[] = [];
    let answer = '';
    let last: TaskState | undefined;
    const stream = (await a2a(echo)).sendMessageStream({
      tenant: '',
      message: message([text('status?')], { contextId: thread.thread_id }),
      configuration: undefined,
      metadata: undefined,
    });
    for await (const e of stream) {
      const p = e.payload;
      if (!p) continue;
      events.push(p.$case);
      if (p.$case === 'artifactUpdate') answer += p.value.artifact?.parts.map(textOf).join('') ?? '';
      if (p.$case === 'statusUpdate') last = p.value.status?.state;
    }
    await following;
    expect(events[0]).toBe('task');
    expect(events).toContain('artifactUpdate');
    expect(answer).toBe('the build is green');
    expect(last).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(seen).toContain('values');
  });

  it('cancels a running task; an ended one cannot be cancelled', async () => {
    const client = await a2a(slow);
    const task = await send(client, message([text('take your time')]), true);
    expect([TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING]).toContain(task.status?.state);
    const cancelled = await client.cancelTask({ tenant: '', id: task.id, metadata: undefined });
    expect(cancelled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    expect((await client.getTask({ tenant: '', id: task.id })).status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    const again = await client.cancelTask({ tenant: '', id: task.id, metadata: undefined }).catch((e: unknown) => e);
    expect((again as Error).name).toBe('TaskNotCancelableError');
  });

  it('reports an interrupted run as input-required, and resumes it with a message carrying the taskId', async () => {
    const client = await a2a(desk);
    const waiting = await send(client, message([text('my badge reader is broken')]));
    expect(waiting.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    const interrupt = waiting.artifacts.find((a) => a.name === 'Interrupt');
    const [first] = interrupt!.parts;
    expect(first?.content?.$case).toBe('data');
    expect((await stack.client.threads.get(waiting.contextId)).status).toBe('interrupted');

    const resumed = await send(
      client,
      message([data({ resume: { decisions: [{ type: 'approve' }] } })], { contextId: waiting.contextId, taskId: waiting.id }),
    );
    expect(resumed.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(resumed.contextId).toBe(waiting.contextId);
    expect(textOf(resumed.status?.message?.parts[0])).toBe('The ticket is open.');
    // A resume needs the task it answers.
    const orphan = await send(client, message([data({ resume: 'yes' })])).catch((e: unknown) => e);
    expect((orphan as Error).name).toBe('RequestMalformedError');
  });
});

describe('A2A v0.3 method names', () => {
  const rpc = async (assistant: Assistant, method: string, params: unknown) =>
    (await (
      await fetch(`${stack.url}/a2a/${assistant.assistant_id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }),
      })
    ).json()) as { id: number; result?: Record<string, unknown>; error?: { code: number } };

  it('answers message/send and tasks/get in v0.3 shapes', async () => {
    const sent = await rpc(echo, 'message/send', {
      message: { kind: 'message', messageId: randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'hello' }] },
    });
    expect(sent.result).toMatchObject({ kind: 'task', status: { state: 'completed' } });
    const got = await rpc(echo, 'tasks/get', { id: sent.result!.id });
    expect(got.result).toMatchObject({ kind: 'task', id: sent.result!.id, status: { state: 'completed' } });
  });

  it('answers bad requests with JSON-RPC errors, and stores nothing for them', async () => {
    const threads = await stack.client.threads.count();
    const noId = await rpc(echo, 'message/send', { message: { kind: 'message', role: 'user', parts: [{ kind: 'text', text: 'x' }] } });
    expect(noId.error?.code).toBe(-32602);
    const noParts = await rpc(echo, 'SendMessage', { message: { messageId: 'm1', role: 'ROLE_USER', parts: [] } });
    expect(noParts.error?.code).toBe(-32602);
    expect((await rpc(echo, 'tasks/get', { id: `${randomUUID()}:${randomUUID()}` })).error?.code).toBe(-32001);
    expect((await rpc(echo, 'GetTask', { id: 'garbage' })).error?.code).toBe(-32001);
    expect((await rpc(echo, 'tasks/frobnicate', {})).error?.code).toBe(-32601);
    const badContext = await rpc(echo, 'message/send', {
      message: { kind: 'message', messageId: 'm2', role: 'user', contextId: 'not-a-thread', parts: [{ kind: 'text', text: 'x' }] },
    });
    expect(badContext.error?.code).toBe(-32602);
    expect((await fetch(`${stack.url}/a2a/${echo.assistant_id}`, { method: 'DELETE' })).status).toBe(405);
    expect(await stack.client.threads.count()).toBe(threads);
  });
});
