import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import { listRuns } from '../../db/runs.js';
import { getThread, type ThreadRow } from '../../db/threads.js';
import type { AppDeps } from '../deps.js';
import { ApiError, ErrorCode, fromZod } from '../errors.js';
import { createRun } from '../runs/create.js';
import { runCreate, type RunCreate } from '../runs/schema.js';
import { inputRespondParams, runStartParams, stateGetParams, type CommandEnvelope, type ProtocolErrorCode } from './schema.js';

// POST /threads/{id}/commands: one protocol command per request, answered with a success or error envelope.
// The answer is always HTTP 200 because the SDK reads the envelope, not the status.

export type CommandResponse =
  | { type: 'success'; id: number; result: Record<string, unknown>; meta: { thread_id: string } }
  | { type: 'error'; id: number; error: ProtocolErrorCode; message: string };

type Handler = (deps: AppDeps, threadId: string, params: unknown, headers: IncomingHttpHeaders) => Promise<Record<string, unknown>>;

/** The event channels a protocol stream can serve need these modes in the run's log. */
const runStreamModes: RunCreate['stream_mode'] = ['values', 'updates', 'messages-tuple', 'custom', 'tools'];

/** Protocol methods this server knows but does not implement (SSE subscriptions need no commands). */
const unsupported = new Set([
  'subscription.subscribe',
  'subscription.unsubscribe',
  'subscription.reconnect',
  'agent.getTree',
  'input.inject',
  'state.listCheckpoints',
  'state.fork',
]);

class CommandError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const handlers: Record<string, Handler> = {
  'run.start': runStart,
  'input.respond': inputRespond,
  'state.get': stateGet,
};

export async function runCommand(
  deps: AppDeps,
  threadId: string,
  cmd: CommandEnvelope,
  headers: IncomingHttpHeaders,
): Promise<CommandResponse> {
  const handler = Object.hasOwn(handlers, cmd.method) ? handlers[cmd.method] : undefined;
  if (!handler) {
    const code = unsupported.has(cmd.method) ? 'not_supported' : 'unknown_command';
    return {
      type: 'error',
      id: cmd.id,
      error: code,
      message: `${cmd.method} is not ${code === 'not_supported' ? 'supported by this server' : 'a protocol command'}`,
    };
  }
  try {
    const result = await handler(deps, threadId, cmd.params ?? {}, headers);
    return { type: 'success', id: cmd.id, result, meta: { thread_id: threadId } };
  } catch (err) {
    const [error, message] = toProtocolError(deps, err);
    return { type: 'error', id: cmd.id, error, message };
  }
}

function toProtocolError(deps: AppDeps, err: unknown): [ProtocolErrorCode, string] {
  if (err instanceof CommandError) return [err.code, err.message];
  if (err instanceof ApiError && err.code === ErrorCode.unavailable) return ['unknown_error', err.message];
  // Everything else the run path refuses (unknown assistant, bad input, busy thread, bad resume) is the caller's.
  if (err instanceof ApiError && err.code !== ErrorCode.internal) return ['invalid_argument', err.message];
  deps.log.error('protocol command failed', { err });
  return ['unknown_error', 'Internal server error'];
}

function parse<S extends z.ZodType>(schema: S, params: unknown): z.infer<S> {
  const r = schema.safeParse(params);
  if (!r.success) throw new CommandError('invalid_argument', fromZod('params', r.error).message);
  return r.data;
}

/** Builds a run request the way POST /runs would validate it, so both paths refuse the same things. */
function runRequest(fields: Record<string, unknown>): RunCreate {
  const r = runCreate.safeParse({ stream_mode: runStreamModes, if_not_exists: 'create', ...fields });
  if (!r.success) throw new CommandError('invalid_argument', fromZod('params', r.error).message);
  return r.data;
}

/**
 * A new run; on a thread waiting for input, the input answers the interrupt instead (as the reference server
 * does). The thread is created when missing, stamped with the assistant and graph by createRun.
 */
async function runStart(deps: AppDeps, threadId: string, raw: unknown, headers: IncomingHttpHeaders) {
  const p = parse(runStartParams, raw);
  const thread = await getThread(deps.db, threadId);
  const resume = p.input != null && thread !== undefined && pendingInterruptIds(thread).size > 0;
  const configurable = p.config?.configurable as Record<string, unknown> | undefined;
  const body = runRequest({
    assistant_id: p.assistant_id,
    input: resume ? null : (p.input ?? null),
    ...(resume ? { command: { resume: p.input } } : {}),
    config: p.config ?? null,
    metadata: p.metadata ?? null,
    // The SDK folds its `forkFrom` into configurable.checkpoint_id; our runs take the fork point here.
    checkpoint_id: typeof configurable?.checkpoint_id === 'string' ? configurable.checkpoint_id : null,
    multitask_strategy: p.multitask_strategy ?? p.multitaskStrategy ?? 'enqueue',
  });
  const { run } = await createRun(deps, threadId, body, headers);
  return { run_id: run.run_id };
}

/** Answers pending interrupts by id: a resume run with `command.resume` = {interrupt_id: response}. */
async function inputRespond(deps: AppDeps, threadId: string, raw: unknown, headers: IncomingHttpHeaders) {
  const p = parse(inputRespondParams, raw);
  const entries = p.responses ?? [{ interrupt_id: p.interrupt_id!, response: p.response }];
  const answers = Object.fromEntries(entries.map((e) => [e.interrupt_id, e.response ?? null]));
  const thread = await getThread(deps.db, threadId);
  const pending = thread ? pendingInterruptIds(thread) : new Set<string>();
  if (!thread || pending.size === 0) throw new CommandError('no_such_run', `Thread ${threadId} has no run waiting for input`);
  const unknown = Object.keys(answers).filter((id) => !pending.has(id));
  if (p.strict_resume && unknown.length) throw new CommandError('no_such_interrupt', `No pending interrupt with id ${unknown.join(', ')}`);
  const assistantId = await assistantOf(deps, thread);
  if (!assistantId) throw new CommandError('no_such_run', `Thread ${threadId} has no assistant to resume`);
  const body = runRequest({
    assistant_id: assistantId,
    command: { resume: answers, ...(p.update ? { update: p.update } : {}), ...(p.goto ? { goto: p.goto } : {}) },
    config: p.config ?? null,
    metadata: p.metadata ?? null,
    strict_resume: p.strict_resume ?? false,
    multitask_strategy: 'enqueue',
  });
  const { run } = await createRun(deps, threadId, body, headers);
  return { run_id: run.run_id };
}

/** The state at the thread's head. A thread that does not exist yet has empty state (the SDK may ask first). */
async function stateGet(deps: AppDeps, threadId: string, raw: unknown) {
  const p = parse(stateGetParams, raw);
  if (p.namespace?.length) throw new CommandError('invalid_argument', 'Only the root namespace [] has state on this server');
  const thread = await getThread(deps.db, threadId);
  const values: Record<string, unknown> = thread?.values ?? {};
  const picked = p.keys ? Object.fromEntries(Object.entries(values).filter(([k]) => p.keys!.includes(k))) : values;
  return { values: picked, ...(thread?.head_checkpoint_id ? { checkpoint: { id: thread.head_checkpoint_id } } : {}) };
}

function pendingInterruptIds(thread: ThreadRow): Set<string> {
  return new Set(Object.values(thread.interrupts ?? {}).flatMap((list) => list.map((i) => i.id)));
}

/** The assistant the thread last ran, as stamped on it; else the one of its latest run. */
async function assistantOf(deps: AppDeps, thread: ThreadRow): Promise<string | undefined> {
  if (typeof thread.metadata.assistant_id === 'string') return thread.metadata.assistant_id;
  const [latest] = await listRuns(deps.db, { threadId: thread.thread_id, limit: 1, offset: 0 });
  return latest?.assistant_id;
}
