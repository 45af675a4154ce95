import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import { AgentConfigError, type AgentConfig } from '../../core/agent-config.js';
import { findGraph, type AgentDefinition } from '../../core/graphs.js';
import { resolveAgentConfig, runAgent } from './agent-config.js';
import { MessageFormatError } from '../../core/messages.js';
import { HISTORY_VALUE_LIMIT_BYTES, type RunCommand, type RunSpec, type StreamMode } from '../../core/runs.js';
import { normalizeWrites } from '../../core/state.js';
import type { AssistantRow } from '../../db/assistants.js';
import { admitRun } from '../../db/admission.js';
import { checkpointExists, type ThreadStart } from '../../db/checkpoints.js';
import { deleteRunRequest, getRun, insertRunRequest, type RunRow } from '../../db/runs.js';
import { emptyHead } from '../../core/head.js';
import { getThread, getThreadAndStart, insertThread, type ThreadRow } from '../../db/threads.js';
import { submitRun } from '../../workflows/messages.js';
import { findAssistant } from '../assistants/lookup.js';
import { deleteThread } from '../threads/lifecycle.js';
import type { RunDeps } from '../deps.js';
import { ApiError, ErrorCode, invalid, notFound } from '../errors.js';
import { uuid7 } from '../ids.js';
import { updateThread } from '../temporal.js';
import { filterInput, withMiddleware, WriteKind } from './guardrails.js';
import { runActorOf } from '../auth/context.js';
import { authorizeRun, checkRunAssistant, checkRunThread, userConfigurable } from './run-auth.js';
import type { RunCreate } from './schema.js';

// Creating a run: resolve assistant and thread, merge config and metadata (assistant < thread < request), store
// the request, and let the thread workflow decide on it. The workflow records the run before it answers; the
// API only reads it. Everything large stays in the stored request; the spec the workflow gets must fit history.

export interface CreatedRun {
  run: RunRow;
  threadId: string;
  stateless: boolean;
}

const excludedHeaders = new Set(['x-api-key', 'x-tenant-id', 'x-service-key']);
/** Credentials never reach configurable (stored run kwargs, GET answers, webhooks): cookies, auth, keys, tokens. */
const credentialName = /authorization|cookie|key|token|secret|password/;

/**
 * For callers that must create a run exactly once however often they retry (a cron fire): the run id, and the id
 * a stateless run's new thread gets. A retry with the same ids finds what the first attempt stored. A caller that
 * watches for the run's end from before it is submitted (wait) chooses the run id too.
 */
export interface RunIdentity {
  runId?: string;
  newThreadId?: string;
}

export async function createRun(
  deps: RunDeps,
  threadId: string | null,
  body: RunCreate,
  headers: IncomingHttpHeaders,
  defaultModes: StreamMode[] = ['values'],
  identity: RunIdentity = {},
): Promise<CreatedRun> {
  const assistant = await findAssistant(deps.db, body.assistant_id);
  if (!assistant)
    throw notFound(
      `No assistant found for "${body.assistant_id}". Make sure the assistant ID is for a valid assistant or a valid graph ID.`,
    );
  const graph = findGraph(assistant.graph_id);
  if (!graph) throw notFound(`Graph "${assistant.graph_id}" not found`);
  await checkRunAssistant(headers, assistant);
  const auth = await authorizeRun(headers, threadId, body);
  body = auth.body;
  // Everything checkable without the thread is checked before a thread is created for the run.
  if (!normalizeCommand(body.command)) checkInput(body.input);
  const early = mergeConfig(assistant.config, body.config ?? {});
  const earlyContext = { ...assistant.context, ...(body.context ?? {}) };
  await withMiddleware(deps, agentConfig(deps, graph, early, earlyContext), { ...early.configurable, ...earlyContext }, []);
  const { thread, created, start } = await resolveThread(deps, threadId, body, assistant, identity.newThreadId, auth.actor !== undefined);
  if (!created) checkRunThread(thread, auth.filter);
  try {
    return await submit(deps, {
      thread,
      start,
      assistant,
      graph,
      body,
      headers,
      defaultModes,
      stateless: threadId === null,
      runId: identity.runId,
    });
  } catch (err) {
    // A thread made for this run goes with it: a refused run leaves nothing behind.
    if (created)
      await deleteThread(deps, thread.thread_id).catch((e: unknown) =>
        deps.log.warn('could not remove the thread of a refused run', { err: e }),
      );
    throw err;
  }
}

interface Submission {
  thread: ThreadRow;
  /** What starting the thread's workflow needs, when read with the thread. */
  start: ThreadStart | undefined;
  assistant: AssistantRow;
  graph: AgentDefinition;
  body: RunCreate;
  headers: IncomingHttpHeaders;
  defaultModes: StreamMode[];
  stateless: boolean;
  runId: string | undefined;
}

async function submit(
  deps: RunDeps,
  { thread, start, assistant, graph, body, headers, defaultModes, stateless, runId = uuid7() }: Submission,
): Promise<CreatedRun> {
  if (body.checkpoint_id ?? body.checkpoint?.checkpoint_id) {
    const cid = (body.checkpoint_id ?? body.checkpoint?.checkpoint_id)!;
    if (!(await checkpointExists(deps.db, thread.thread_id, cid)))
      throw notFound(`Checkpoint ${cid} not found in thread ${thread.thread_id}`);
  }
  const config = mergeConfig(assistant.config, thread.config, body.config ?? {});
  const userId = [
    body.config?.configurable?.user_id,
    (thread.config.configurable as Config | undefined)?.user_id,
    assistant.config.configurable?.user_id,
  ].find((v): v is string => typeof v === 'string' && v.length > 0);
  config.configurable = {
    // A package's middleware (agent.json) is the default; an assistant or a request may set its own list.
    ...(graph.middleware ? { middleware: graph.middleware } : {}),
    ...config.configurable,
    ...forwardedHeaders(headers),
    ...userConfigurable(runActorOf(headers)),
    run_id: runId,
    thread_id: thread.thread_id,
    graph_id: assistant.graph_id,
    assistant_id: assistant.assistant_id,
    ...(userId ? { user_id: userId } : {}),
  };
  const context = { ...assistant.context, ...(body.context ?? {}) };
  const metadata = { ...assistant.metadata, ...thread.metadata, ...(body.metadata ?? {}) };
  const agent = await withMiddleware(deps, agentConfig(deps, graph, config, context), { ...config.configurable, ...context });
  const ctx = { runId, threadId: thread.thread_id, assistantId: assistant.assistant_id, graphId: assistant.graph_id, streamModes: [] };
  const input = await filterInput(deps, agent.middleware, ctx, body.input ?? null);
  // command.update writes messages into state as input does, so it passes the same filters.
  const update = body.command?.update && (await filterInput(deps, agent.middleware, ctx, body.command.update, WriteKind.commandUpdate));
  if (body.command && update !== body.command.update)
    body = { ...body, command: { ...body.command, update: update as Record<string, unknown> } };
  const streamModes = normalizeModes(body.stream_mode, defaultModes);
  const strategy = body.multitask_strategy ?? deps.settings.defaultMultitaskStrategy;
  const kwargs = {
    input,
    command: body.command ?? null,
    config,
    context,
    stream_mode: streamModes,
    interrupt_before: body.interrupt_before ?? null,
    interrupt_after: body.interrupt_after ?? null,
    webhook: body.webhook ?? null,
    feedback_keys: body.feedback_keys ?? null,
    temporary: stateless && body.on_completion !== 'keep',
    subgraphs: body.stream_subgraphs ?? false,
    resumable: body.stream_resumable ?? false,
    on_disconnect: body.on_disconnect ?? 'continue',
    checkpoint_id: body.checkpoint_id ?? body.checkpoint?.checkpoint_id ?? null,
    after_seconds: body.after_seconds ?? 0,
  };
  const command = normalizeCommand(body.command);
  const spec: RunSpec = {
    runId,
    threadId: thread.thread_id,
    assistantId: assistant.assistant_id,
    graphId: assistant.graph_id,
    multitaskStrategy: strategy,
    // A command takes the place of the input, as on the production Agent Server (the graph runs the command,
    // not the input): agent-chat-ui sends `input: {}` beside every resume, which is no new message.
    hasInput: !command && body.input !== null && body.input !== undefined,
    command,
    checkpointId: kwargs.checkpoint_id,
    interruptBefore: breakpoints(body.interrupt_before),
    interruptAfter: breakpoints(body.interrupt_after),
    streamModes,
    afterSeconds: body.after_seconds ?? 0,
    strictResume: body.strict_resume ?? false,
    onCompletion: kwargs.temporary ? 'delete' : 'keep',
    webhook: kwargs.webhook,
    agent: runAgent(agent),
    timers: deps.settings.timers,
  };
  checkSpecSize(spec);
  const stored = await insertRunRequest(deps.db, {
    run_id: runId,
    thread_id: thread.thread_id,
    assistant_id: assistant.assistant_id,
    metadata,
    kwargs,
    multitask_strategy: strategy,
    spec,
  });
  if (!stored) throw notFound(`Thread with ID ${thread.thread_id} not found`);
  try {
    // The run id names the update, so a retried request is not admitted twice.
    await updateThread(deps, thread.thread_id, submitRun, [spec], {
      updateId: (attempt) => (attempt ? `${runId}/${attempt}` : runId),
      start,
    });
  } catch (err) {
    await deleteRunRequest(deps.db, runId).catch(() => undefined);
    // Deleting the thread meanwhile terminates its workflow under the update: that is a 404, not a failure.
    if (!(await getThread(deps.db, thread.thread_id))) throw notFound(`Thread with ID ${thread.thread_id} not found`);
    throw err;
  }
  const admitted = await recordedRun(deps, thread, assistant, runId);
  if (admitted) return { run: admitted, threadId: thread.thread_id, stateless };
  // The workflow may record, run and roll back an accepted run before we get here; it was still created.
  const now = new Date().toISOString();
  const run: RunRow = {
    run_id: runId,
    thread_id: thread.thread_id,
    assistant_id: assistant.assistant_id,
    created_at: now,
    updated_at: now,
    status: 'pending',
    metadata,
    kwargs,
    multitask_strategy: strategy,
  };
  return { run, threadId: thread.thread_id, stateless };
}

/**
 * The run as the workflow recorded it: it records a run in the workflow task that accepts it, so the row is there
 * when the answer arrives. Workflows whose history predates that (LIFECYCLE_PATCH) record a queued run only when
 * their loop reaches it, so for them the API still stores it, as it always did (idempotent). A thread gone
 * meanwhile is a 404.
 */
async function recordedRun(deps: RunDeps, thread: ThreadRow, assistant: AssistantRow, runId: string): Promise<RunRow | undefined> {
  const run =
    (await getRun(deps.db, runId)) ??
    (await admitRun(deps.db, { runId, threadId: thread.thread_id, graphId: assistant.graph_id, assistantId: assistant.assistant_id }));
  if (!run && !(await getThread(deps.db, thread.thread_id))) throw notFound(`Thread with ID ${thread.thread_id} not found`);
  return run;
}

/** The run's thread: a new temporary one for a stateless run, the named one, or a new one under if_not_exists. */
async function resolveThread(
  deps: RunDeps,
  threadId: string | null,
  body: RunCreate,
  assistant: AssistantRow,
  newThreadId = uuid7(),
  tagged = false,
): Promise<{ thread: ThreadRow; created: boolean; start?: ThreadStart }> {
  const stamp = { graph_id: assistant.graph_id, assistant_id: assistant.assistant_id };
  // A thread this request made has no head and no runs yet.
  const fresh: ThreadStart = { head: emptyHead(), active: false };
  if (threadId === null) {
    const inserted = await insertThread(deps.db, { thread_id: newThreadId, metadata: { ...stamp, ...(body.metadata ?? {}) } });
    // Only a retry with a given id finds its thread there already: made for this run all the same.
    return inserted
      ? { thread: inserted, created: true, start: fresh }
      : { thread: (await getThread(deps.db, newThreadId))!, created: true };
  }
  const existing = await getThreadAndStart(deps.db, threadId);
  if (existing) return { thread: existing.thread, created: false, start: existing.start };
  if (body.if_not_exists !== 'create') throw notFound(`Thread with ID ${threadId} not found`);
  // With authentication the run's metadata (its owner tag) goes on the thread it creates, as on stateless runs.
  const inserted = await insertThread(deps.db, { thread_id: threadId, metadata: tagged ? { ...stamp, ...(body.metadata ?? {}) } : stamp });
  return inserted ? { thread: inserted, created: true, start: fresh } : { thread: (await getThread(deps.db, threadId))!, created: false };
}

function agentConfig(deps: RunDeps, graph: AgentDefinition, config: Config, context: Record<string, unknown>): AgentConfig {
  try {
    return resolveAgentConfig(
      graph,
      { ...config.configurable, ...context },
      config.recursion_limit as number | undefined,
      deps.settings.modelDefaults,
    );
  } catch (err) {
    if (err instanceof AgentConfigError) throw invalid(err.message);
    throw err;
  }
}

type Config = { configurable?: Record<string, unknown>; [k: string]: unknown };

function mergeConfig(...layers: Config[]): Config & { configurable: Record<string, unknown> } {
  const out: Config & { configurable: Record<string, unknown> } = { configurable: {} };
  for (const layer of layers) {
    const { configurable, ...rest } = layer;
    Object.assign(out, rest);
    Object.assign(out.configurable, configurable ?? {});
  }
  return out;
}

/** Request headers starting with x- (but not credentials) and the user agent reach the graph in configurable. */
function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v !== 'string') continue;
    if ((k.startsWith('x-') && !excludedHeaders.has(k) && !credentialName.test(k)) || k === 'user-agent') out[k] = v;
  }
  return out;
}

function normalizeModes(mode: RunCreate['stream_mode'], defaults: StreamMode[]): StreamMode[] {
  if (!mode || (Array.isArray(mode) && mode.length === 0)) return defaults;
  return [...new Set(Array.isArray(mode) ? mode : [mode])];
}

const breakpoints = (b: RunCreate['interrupt_before']): string[] => (b === '*' ? ['*'] : (b ?? []));

/** The command, or null when it has nothing to do (`{}` is no command, as the Python server treats it). */
function normalizeCommand(c: RunCreate['command']): RunCommand | null {
  if (!c) return null;
  const out: RunCommand = {};
  if ('resume' in c && c.resume !== undefined) out.resume = c.resume;
  if (c.update) out.update = c.update;
  if (c.goto) out.goto = (Array.isArray(c.goto) ? c.goto : [c.goto]).map((g) => (typeof g === 'string' ? g : g.node));
  return Object.keys(out).length ? out : null;
}

/**
 * What enters workflow history with the run (the spec: command, interrupt_on and other settings, but not the input,
 * system prompt or script) is refused above the limit, before anything is stored, rather than failing the workflow.
 */
function checkSpecSize(spec: RunSpec): void {
  const size = Buffer.byteLength(JSON.stringify(spec));
  if (size <= HISTORY_VALUE_LIMIT_BYTES) return;
  throw new ApiError(
    ErrorCode.tooLarge,
    `The run's command and settings that travel through workflow history take ${size} bytes; the limit is ` +
      `${HISTORY_VALUE_LIMIT_BYTES} bytes (256 KiB). Large values belong in input or system_prompt, which stay in the database.`,
  );
}

/** Malformed messages are refused here, before anything is stored, rather than failing the run later. */
function checkInput(input: RunCreate['input']): void {
  if (input === null || input === undefined) return;
  if (Array.isArray(input)) throw invalid('Invalid body: body.input must be an object such as {"messages": [...]}');
  try {
    normalizeWrites(input, randomUUID);
  } catch (err) {
    if (err instanceof MessageFormatError)
      throw invalid(`Invalid body: body.input: ${err.message}`, [{ path: 'body.input', message: err.message }]);
    throw err;
  }
}
