import { Role, TaskState, type AgentCard, type Artifact, type Message, type Part, type Task } from '@a2a-js/sdk';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import type { AssistantRow } from '../../db/assistants.js';
import type { RunRow } from '../../db/runs.js';
import type { TailEnd } from '../events/tail.js';

// A2A ↔ Agent Server (reference §3.2): contextId is the thread, a task is one run (`"{contextId}:{runId}"`), and
// a run that stopped at an interrupt is `input-required`, with an "Interrupt" artifact holding the interrupts.

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const taskIdOf = (threadId: string, runId: string) => `${threadId}:${runId}`;

/** Splits a task id into thread and run; a bare run id needs the caller's contextId. */
export function parseTaskId(taskId: string, contextId?: string): { threadId: string; runId: string } | null {
  const [a, b] = taskId.split(':');
  const ids = b === undefined ? { threadId: contextId ?? '', runId: a ?? '' } : { threadId: a ?? '', runId: b };
  return uuidPattern.test(ids.threadId) && uuidPattern.test(ids.runId)
    ? { threadId: ids.threadId.toLowerCase(), runId: ids.runId.toLowerCase() }
    : null;
}

export const isUuid = (s: string) => uuidPattern.test(s);

export function agentCard(a: AssistantRow, url: string, version: string): AgentCard {
  const modes = ['text/plain', 'application/json'];
  const description = a.description || `${a.name} assistant`;
  return {
    name: a.name,
    description,
    // One endpoint answers both protocol versions, each in its own style (chosen by the method's name).
    supportedInterfaces: [
      { url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' },
      { url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '0.3' },
    ],
    provider: undefined,
    version,
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: modes,
    defaultOutputModes: modes,
    skills: [
      {
        id: `${a.assistant_id}-main`,
        name: `${a.name} Capabilities`,
        description,
        tags: ['assistant', 'langgraph'],
        examples: [],
        inputModes: modes,
        outputModes: modes,
        securityRequirements: [],
      },
    ],
    signatures: [],
  };
}

/** v0.3 clients read `url`, `protocolVersion` and `preferredTransport` from the card; v1.0 ones ignore them. */
export function legacyCardFields(url: string) {
  return { url, protocolVersion: '0.3.0', preferredTransport: 'JSONRPC' };
}

const textPart = (text: string): Part => ({ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: '' });
const dataPart = (value: unknown): Part => ({ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: '' });

export function agentMessage(text: string, ids: { messageId: string; contextId: string; taskId: string }): Message {
  return { ...ids, role: Role.ROLE_AGENT, parts: [textPart(text)], metadata: undefined, extensions: [], referenceTaskIds: [] };
}

export function textArtifact(runId: string, text: string): Artifact {
  return {
    artifactId: `${runId}-response`,
    name: 'Assistant Response',
    description: '',
    parts: [textPart(text)],
    metadata: undefined,
    extensions: [],
  };
}

export interface UserInput {
  /** The run's input: text parts as one user message, data parts merged in. */
  input: Record<string, unknown> | null;
  /** A data part `{"resume": ...}` (or, for a task waiting on input, the text): answers an interrupt. */
  resume: { value: unknown } | null;
}

/** Reads a user message; refuses what the protocol requires and what this agent cannot take. */
export function readUserMessage(m: Message | undefined): UserInput {
  if (!m) throw new RequestMalformedError('params.message is required');
  if (!m.messageId) throw new RequestMalformedError('message.messageId is required');
  if (m.role !== Role.ROLE_USER) throw new RequestMalformedError('message.role must be user');
  if (!m.parts.length) throw new RequestMalformedError('message.parts must not be empty');
  const texts: string[] = [];
  let data: Record<string, unknown> = {};
  let resume: { value: unknown } | null = null;
  for (const p of m.parts) {
    const c = p.content;
    if (c?.$case === 'text') texts.push(c.value);
    else if (c?.$case === 'data' && isObject(c.value) && 'resume' in c.value) resume = { value: c.value.resume };
    else if (c?.$case === 'data' && isObject(c.value)) data = { ...data, ...c.value };
    else throw new RequestMalformedError('only text and data parts are supported');
  }
  const text = texts.join('\n');
  const input = text || Object.keys(data).length ? { ...data, ...(text ? { messages: [{ role: 'user', content: text }] } : {}) } : null;
  return { input, resume };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** success at an interrupt is input-required; a cancelled run (interrupted status) is canceled. */
export function taskState(status: RunRow['status'], end: TailEnd | null): TaskState {
  if (status === 'pending') return TaskState.TASK_STATE_SUBMITTED;
  if (status === 'running') return TaskState.TASK_STATE_WORKING;
  if (status === 'interrupted') return TaskState.TASK_STATE_CANCELED;
  if (status === 'success') return end?.interrupts?.length ? TaskState.TASK_STATE_INPUT_REQUIRED : TaskState.TASK_STATE_COMPLETED;
  return TaskState.TASK_STATE_FAILED;
}

export const terminalStates = new Set([TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_FAILED]);

type StoredMessage = { id?: string; type?: string; content?: unknown };

const textOf = (m: StoredMessage): string =>
  typeof m.content === 'string'
    ? m.content
    : Array.isArray(m.content)
      ? m.content.map((b) => (isObject(b) && typeof b.text === 'string' ? b.text : '')).join('')
      : '';

/** A run as a task: its state, the agent's last answer as status message and artifact, interrupts, history. */
export function taskOf(o: {
  threadId: string;
  run: RunRow;
  end: TailEnd | null;
  values: Record<string, unknown>;
  historyLength?: number | undefined;
}): Task {
  const taskId = taskIdOf(o.threadId, o.run.run_id);
  const state = taskState(o.run.status, o.end);
  const messages = (Array.isArray(o.values.messages) ? o.values.messages : []) as StoredMessage[];
  const last = [...messages].reverse().find((m) => m.type === 'ai' && textOf(m));
  const answer = terminalStates.has(state) || state === TaskState.TASK_STATE_INPUT_REQUIRED ? last : undefined;
  const artifacts: Artifact[] = [];
  if (answer && state === TaskState.TASK_STATE_COMPLETED) artifacts.push(textArtifact(o.run.run_id, textOf(answer)));
  if (state === TaskState.TASK_STATE_INPUT_REQUIRED) {
    const interrupts = (o.end?.interrupts ?? []) as { id?: string; value?: unknown }[];
    artifacts.push({
      artifactId: `${o.run.run_id}-interrupt`,
      name: 'Interrupt',
      description: 'The run waits for input: answer with a message carrying this taskId and a data part {"resume": ...}.',
      parts: interrupts.map((i) => dataPart({ id: i.id, value: i.value })),
      metadata: undefined,
      extensions: [],
    });
  }
  if (o.end?.error) artifacts.push(textArtifact(o.run.run_id, `${o.end.error.error}: ${o.end.error.message}`));
  const ids = { contextId: o.threadId, taskId };
  const history = messages
    .filter((m) => (m.type === 'human' || m.type === 'ai') && textOf(m))
    .map((m) => ({
      ...agentMessage(textOf(m), { ...ids, messageId: m.id ?? '' }),
      role: m.type === 'human' ? Role.ROLE_USER : Role.ROLE_AGENT,
    }));
  return {
    id: taskId,
    contextId: o.threadId,
    status: {
      state,
      message: answer ? agentMessage(textOf(answer), { ...ids, messageId: answer.id ?? `${o.run.run_id}-answer` }) : undefined,
      timestamp: o.run.updated_at,
    },
    artifacts,
    history: o.historyLength === undefined ? history : o.historyLength > 0 ? history.slice(-o.historyLength) : [],
    metadata: { run_id: o.run.run_id, thread_id: o.threadId, assistant_id: o.run.assistant_id },
  };
}
