import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import { TaskState, type AgentCard, type Message, type SendMessageRequest, type StreamResponse, type Task } from '@a2a-js/sdk';
import {
  ExtendedAgentCardNotConfiguredError,
  PushNotificationNotSupportedError,
  RequestMalformedError,
  TaskNotCancelableError,
  TaskNotFoundError,
  UnsupportedOperationError,
} from '@a2a-js/sdk/errors';
import type { A2ARequestHandler } from '@a2a-js/sdk/server';
import { finalRunStatuses } from '../../core/runs.js';
import type { AssistantRow } from '../../db/assistants.js';
import { END_EVENT, lastEventSeq, readEvents } from '../../db/events.js';
import { getRun, listRuns, type RunRow } from '../../db/runs.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { tailRun, type TailEnd } from '../events/tail.js';
import { cancelRuns } from '../runs/cancel.js';
import { createRun } from '../runs/create.js';
import { mayReadThread } from '../runs/run-auth.js';
import { awaitEnd, runResult } from '../runs/follow.js';
import type { RunCreate } from '../runs/schema.js';
import { agentCard, isUuid, parseTaskId, readUserMessage, taskIdOf, taskOf, terminalStates, textArtifact } from './mapping.js';

// The A2A request handler of one assistant: every task is a run on the thread named by contextId, created through
// the one run service. Both JSON-RPC styles (v0.3 and v1.0) arrive here already translated by @a2a-js/sdk.

export class AssistantA2AHandler implements A2ARequestHandler {
  constructor(
    private readonly deps: AppDeps,
    private readonly assistant: AssistantRow,
    private readonly url: string,
    private readonly headers: IncomingHttpHeaders,
  ) {}

  getAgentCard(): Promise<AgentCard> {
    return Promise.resolve(agentCard(this.assistant, this.url, this.deps.settings.version));
  }

  getAuthenticatedExtendedAgentCard(): Promise<AgentCard> {
    return Promise.reject(new ExtendedAgentCardNotConfiguredError());
  }

  async sendMessage(params: SendMessageRequest): Promise<Message | Task> {
    const { threadId, run } = await this.submit(params);
    if (params.configuration?.returnImmediately) return this.task(threadId, run, null);
    const end = await awaitEnd(this.deps, run.run_id, new AbortController().signal);
    return this.task(threadId, (await getRun(this.deps.db, run.run_id)) ?? run, end, params.configuration?.historyLength);
  }

  /** Submitted, working, the answer's text as it streams (one artifact, appended), then the final state. */
  async *sendMessageStream(params: SendMessageRequest): AsyncGenerator<StreamResponse, void, undefined> {
    const { threadId, run } = await this.submit(params, ['values', 'messages-tuple']);
    const ids = { taskId: taskIdOf(threadId, run.run_id), contextId: threadId, metadata: undefined };
    yield { payload: { $case: 'task', value: await this.task(threadId, run, null) } };
    const status = (state: TaskState): StreamResponse => ({
      payload: { $case: 'statusUpdate', value: { ...ids, status: { state, message: undefined, timestamp: new Date().toISOString() } } },
    });
    yield status(TaskState.TASK_STATE_WORKING);
    let streamed = false;
    let end: TailEnd | null = null;
    for await (const item of tailRun(this.deps, run.run_id, -1, 60_000, new AbortController().signal)) {
      if (item.kind === 'end') {
        end = item.end;
        break;
      }
      const text = item.kind === 'event' ? tokenOf(item.event.event, item.event.data) : '';
      if (!text) continue;
      const artifact = textArtifact(run.run_id, text);
      yield { payload: { $case: 'artifactUpdate', value: { ...ids, artifact, append: streamed, lastChunk: false } } };
      streamed = true;
    }
    const final = await this.task(threadId, (await getRun(this.deps.db, run.run_id)) ?? run, end);
    yield { payload: { $case: 'statusUpdate', value: { ...ids, status: final.status } } };
  }

  async getTask(params: { id: string; historyLength?: number | undefined }): Promise<Task> {
    const { threadId, run } = await this.findTask(params.id);
    const end = finalRunStatuses.includes(run.status) ? await endOf(this.deps, run.run_id) : null;
    return this.task(threadId, run, end, params.historyLength);
  }

  async cancelTask(params: { id: string }): Promise<Task> {
    const { threadId, run } = await this.findTask(params.id);
    if (finalRunStatuses.includes(run.status)) throw new TaskNotCancelableError(`Task ${params.id} has already ended (${run.status})`);
    await cancelRuns(this.deps, threadId, [run.run_id], 'interrupt');
    const end = await awaitEnd(this.deps, run.run_id, new AbortController().signal);
    return this.task(threadId, (await getRun(this.deps.db, run.run_id)) ?? run, end);
  }

  async listTasks(params: { contextId: string; pageSize?: number | undefined }): Promise<{
    tasks: Task[];
    nextPageToken: string;
    pageSize: number;
    totalSize: number;
  }> {
    if (!isUuid(params.contextId)) throw new RequestMalformedError('contextId (a thread id) is required to list tasks');
    const runs = await listRuns(this.deps.db, { threadId: params.contextId.toLowerCase(), limit: params.pageSize || 50, offset: 0 });
    const tasks = await Promise.all(runs.map((r) => this.getTask({ id: taskIdOf(r.thread_id, r.run_id), historyLength: 0 })));
    return { tasks, nextPageToken: '', pageSize: tasks.length, totalSize: tasks.length };
  }

  createTaskPushNotificationConfig(): Promise<never> {
    return Promise.reject(new PushNotificationNotSupportedError());
  }
  getTaskPushNotificationConfig(): Promise<never> {
    return Promise.reject(new PushNotificationNotSupportedError());
  }
  listTaskPushNotificationConfigs(): Promise<never> {
    return Promise.reject(new PushNotificationNotSupportedError());
  }
  deleteTaskPushNotificationConfig(): Promise<never> {
    return Promise.reject(new PushNotificationNotSupportedError());
  }
  async *resubscribe(): AsyncGenerator<StreamResponse, void, undefined> {
    throw new UnsupportedOperationError('Resubscribing to a task is not supported; use tasks/get.');
  }

  /** A new message starts a run on its context's thread; one carrying a taskId answers that task's interrupt. */
  private async submit(params: SendMessageRequest, streamModes?: RunCreate['stream_mode']): Promise<{ threadId: string; run: RunRow }> {
    const m = params.message;
    const { input, resume } = readUserMessage(m);
    if (m!.contextId && !isUuid(m!.contextId)) throw new RequestMalformedError('message.contextId must be a UUID (it names a thread)');
    let threadId = m!.contextId ? m!.contextId.toLowerCase() : randomUUID();
    let body: RunCreate;
    if (m!.taskId) {
      const task = await this.findTask(m!.taskId, m!.contextId);
      threadId = task.threadId;
      const state = (await this.getTask({ id: m!.taskId })).status?.state;
      if (state !== undefined && terminalStates.has(state)) throw new UnsupportedOperationError(`Task ${m!.taskId} has ended`);
      const value = resume?.value ?? (input?.messages as { content: string }[] | undefined)?.[0]?.content;
      if (value === undefined) throw new RequestMalformedError('answer a waiting task with a data part {"resume": ...} or text');
      body = { assistant_id: this.assistant.assistant_id, command: { resume: value } };
    } else {
      if (resume) throw new RequestMalformedError('a resume needs the taskId of the task waiting for input');
      if (!input) throw new RequestMalformedError('the message carries no input');
      body = { assistant_id: this.assistant.assistant_id, input, if_not_exists: 'create' };
    }
    body.metadata = { a2a_message_id: m!.messageId, ...(params.metadata ?? {}) };
    if (streamModes) body.stream_mode = streamModes;
    try {
      const created = await createRun(this.deps, threadId, body, this.headers);
      return { threadId, run: created.run };
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) throw new RequestMalformedError(err.message);
      throw err;
    }
  }

  private async findTask(taskId: string, contextId?: string): Promise<{ threadId: string; run: RunRow }> {
    const ids = parseTaskId(taskId, contextId);
    const run = ids ? await getRun(this.deps.db, ids.runId) : undefined;
    if (!ids || !run || run.thread_id !== ids.threadId || run.assistant_id !== this.assistant.assistant_id)
      throw new TaskNotFoundError(`Task ${taskId} not found`);
    // Another user's task does not exist for this caller.
    if (!(await mayReadThread(this.headers, this.deps.db, run.thread_id))) throw new TaskNotFoundError(`Task ${taskId} not found`);
    return { threadId: ids.threadId, run };
  }

  private async task(threadId: string, run: RunRow, end: TailEnd | null, historyLength?: number): Promise<Task> {
    const values = finalRunStatuses.includes(run.status) ? await runResult(this.deps, threadId, end) : {};
    return taskOf({ threadId, run, end, values, historyLength });
  }
}

/** The end marker of an ended run: the last event of its log. */
async function endOf(deps: AppDeps, runId: string): Promise<TailEnd | null> {
  const last = await lastEventSeq(deps.db, runId);
  if (last === null) return null;
  const [event] = await readEvents(deps.db, runId, last - 1, 1);
  return event?.event === END_EVENT ? (event.data as TailEnd) : null;
}

/** The text of a model token event (messages-tuple deltas carry tool_call_chunks; whole messages do not). */
function tokenOf(event: string, data: unknown): string {
  if (event !== 'messages' || !Array.isArray(data)) return '';
  const chunk = data[0] as { content?: unknown; tool_call_chunks?: unknown };
  return Array.isArray(chunk?.tool_call_chunks) && typeof chunk.content === 'string' ? chunk.content : '';
}
