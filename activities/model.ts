import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../core/failures.js';
import { messageStreamMetadata } from '../core/format.js';
import { promptAndScript, type AgentConfig } from '../core/agent-config.js';
import { Node } from '../core/engine.js';
import { findGraph } from '../core/graphs.js';
import type { ThreadHead } from '../core/head.js';
import { aiMessage, messageText, type Message } from '../core/messages.js';
import { insertGuardrailEvents } from '../db/guardrails.js';
import { FiredLog, middlewareFailure } from './middleware/fired.js';
import { modelStepWithHooks } from './middleware/model-step.js';
import { buffersOutput, wrapModelCall } from './middleware/wrap.js';
import type { RunAgent, RunContext, ThreadStatus } from '../core/runs.js';
import { finishAtEnd, finishAtEndIn } from './runs.js';
import { headOf, valuesAt } from '../db/checkpoints.js';
import { modelTurnReads, type ModelTurnReads } from '../db/steps.js';
import { streamedMessageIds, type NewEvent } from '../db/events.js';
import { toolTasks } from './checkpoints.js';
import { commitIn, type CommitResult, type StepCommit } from './commit.js';
import { patiently, type Patience } from './db-wait.js';
import type { ActivityDeps } from './deps.js';
import { EventWriter } from './event-writer.js';
import { taskIdFor } from './ids.js';
import { ModelCallError, type ModelChunk, type ModelResult } from './models/types.js';
import { StallWatch } from './models/stall.js';
import { chainEvent, taskStartEvents } from './stream-events.js';

// One model turn = one activity: read the state, stream the call (token events + heartbeats), commit the AI
// message as the `agent` step. Idempotency key: the checkpoint id the workflow chose for this turn.
// Its database work waits out an outage (db-wait.ts), so only the model's own failures use up its retries.

export interface CallModelArgs {
  run: RunContext;
  /** Without its system prompt and script, which are read from the run's kwargs (they can be megabytes). */
  agent: RunAgent;
  head: ThreadHead;
  checkpointId: string;
  messageId: string;
  /**
   * The run's before_model, after_model and after_agent phases run in this activity, around the turn (Patch.hooksInModel):
   * checkpointId and messageId then follow from the head after before_model, and a head with nothing next has had
   * its after_agent phase.
   */
  hookPhases?: boolean;
  /** With hookPhases: the workflow already ran this step's before_model phase (it resumed it after an interrupt). */
  skipBeforeModel?: boolean;
  /**
   * When the turn ends the graph, this activity also ends the run (success), as finishRun would (Patch.finishInModel):
   * a waiting client has its answer without another workflow task. Only for runs with nothing left to do after it.
   */
  finish?: boolean;
}

/** The head after the turn; `ended` (the thread's status) when the activity ended the run too. */
export type ModelStepResult = ThreadHead & { ended?: ThreadStatus };

export function createModelActivities(deps: ActivityDeps) {
  return {
    async callModel(a: CallModelArgs): Promise<ModelStepResult> {
      const ctx = Context.current();
      const wait = patiently(ctx, deps.log);
      const reads = (t: CallModelArgs) =>
        wait(() =>
          modelTurnReads(deps.db, {
            threadId: t.run.threadId,
            checkpointId: t.checkpointId,
            parentId: t.head.checkpointId!,
            runId: t.run.runId,
          }),
        );
      const step = async (t: CallModelArgs): Promise<ModelStepResult> => {
        if (t.hookPhases) {
          const turn = async (u: CallModelArgs, messages: Message[]) => callOnce(deps, u, ctx, wait, await reads(u), messages);
          return modelStepWithHooks(deps, t, wait, turn);
        }
        const pre = await reads(t);
        if (pre.done) return headOf(pre.done);
        const { head, ended } = await callOnce(deps, t, ctx, wait, pre, undefined, t.finish);
        return ended ? { ...head, ended } : head;
      };
      // Heartbeats cover the whole attempt, also while it waits for the database before and after the call.
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      try {
        const head = await step(a);
        // A run being cancelled is ended by the workflow (a rollback deletes it instead).
        if (!a.finish || head.ended || head.next.length || ctx.cancellationSignal.aborted) return head;
        // Idempotent: a retry finds the run ended and sets the thread's status again.
        return { ...head, ended: await wait(() => finishAtEnd(deps.db, a.run, head)) };
      } finally {
        clearInterval(beat);
      }
    },
  };
}

/**
 * One turn from `a.head`; `known` are the messages there when the caller has read them already. With `finish`, a turn
 * that ends the graph also ends the run in its commit's transaction (under the lock that commit took).
 */
async function callOnce(
  deps: ActivityDeps,
  a: CallModelArgs,
  ctx: Context,
  wait: Patience,
  pre: ModelTurnReads,
  known?: Message[],
  finish?: boolean,
): Promise<CommitResult & { ended?: ThreadStatus }> {
  const parent = a.head.checkpointId!;
  // The thread's values are the parent's while its head has not moved; otherwise they are read at the parent.
  const messages = known ?? (pre.parentValues ?? (await wait(() => valuesAt(deps.db, a.run.threadId, parent)))).messages ?? [];
  const agent = fullAgent(a, pre.kwargs);
  const { provider, modelName } = resolve(deps, agent.model);
  const step = a.head.step + 1;
  const taskId = taskIdFor(parent, Node.agent, 0);
  const messageId = attemptMessageId(a.messageId, ctx.info.attempt);
  const meta = messageStreamMetadata(a.run, Node.agent, step, taskId, { ls_provider: provider.name, ls_model_name: modelName });
  const stream = new ChunkStream(a.run, messageId, meta, new EventWriter(deps.db, a.run, wait), deps, ctx);
  const superseded = ctx.info.attempt > 1 ? await wait(() => streamedAttempts(deps, a, ctx.info.attempt)) : [];
  stream.start([...stream.withdraw(superseded), ...taskStartEvents(a.run, taskId, Node.agent, { messages }, step)]);
  const watch = new StallWatch(ctx, provider.watchForStalls ? deps.modelStallTimeoutMs : null, provider.name);
  let result: ModelResult;
  // Middleware wrap the call (first outermost); one that rewrites output holds tokens back until it has seen them.
  const fired = new FiredLog(a.run);
  const buffered = buffersOutput(deps, agent.middleware);
  const call = wrapModelCall(
    deps,
    agent.middleware,
    a.run,
    fired,
    async (req) => {
      const target = req.model === agent.model ? { provider, modelName } : resolve(deps, req.model);
      return target.provider.generate(
        {
          model: target.modelName,
          system: req.system,
          messages: req.messages,
          tools: req.tools,
          temperature: agent.temperature,
          maxTokens: agent.maxTokens,
          ...(agent.toolChoice ? { toolChoice: agent.toolChoice } : {}),
          script: agent.script,
        },
        (chunk) => {
          watch.progress();
          if (buffered) ctx.heartbeat();
          else stream.chunk(chunk);
        },
        watch.signal,
      );
    },
    agent.userId,
    ctx.cancellationSignal,
  );
  try {
    result = await call({ model: agent.model, system: agent.systemPrompt, messages, tools: deps.tools.specs(agent.tools) });
  } catch (err) {
    await stream.flush().catch(() => undefined);
    throw toFailure(watch.failure(middlewareFailure(err)), ctx);
  } finally {
    watch.stop();
  }
  if (buffered) stream.chunk({ content: messageText(result.content) });
  await stream.flush();
  if (fired.all.length) await wait(() => insertGuardrailEvents(deps.db, fired.rows(a.checkpointId)));
  const ai: Message = { ...aiMessage(result.content, messageId, result.toolCalls), response_metadata: result.responseMetadata };
  if (result.usage) ai.usage_metadata = result.usage;
  const next = result.toolCalls.length ? [Node.tools] : [];
  const extra: NewEvent[] = [...fired.eventsFrom(0, step), ...stream.finalEvents(ai)];
  // The commit is keyed on the checkpoint id, so running it again after an outage changes nothing twice.
  const commit: StepCommit = {
    threadId: a.run.threadId,
    run: a.run,
    expectedHead: parent,
    parentId: parent,
    checkpointId: a.checkpointId,
    step,
    source: 'loop',
    node: Node.agent,
    writes: { messages: [ai] },
    metadataWrites: { [Node.agent]: { messages: [ai] } },
    next,
    tasks: toolTasks(a.checkpointId, result.toolCalls, a.run.runId),
    taskId,
    emitValues: true,
    extraEvents: extra,
  };
  // A run being cancelled is ended by the workflow (a rollback deletes it instead).
  const ends = finish && !next.length;
  return wait(() =>
    deps.db.tx(async (q) => {
      const r = await commitIn(q, commit);
      return ends && !ctx.cancellationSignal.aborted ? { ...r, ended: await finishAtEndIn(q, a.run, r.head) } : r;
    }),
  );
}

/**
 * A retried attempt streams its message under an id of its own: a client that folds `messages-tuple` deltas by
 * message id (the SDK's useStream does) would otherwise append the new text to the partial text of the failed
 * attempt. The first attempt keeps the id the workflow chose.
 */
export function attemptMessageId(messageId: string, attempt: number): string {
  return attempt <= 1 ? messageId : `${messageId}-attempt-${attempt}`;
}

/** The message ids of earlier attempts of this turn that reached the run's log (and so some client). */
async function streamedAttempts(deps: ActivityDeps, a: CallModelArgs, attempt: number): Promise<string[]> {
  const ids = Array.from({ length: attempt - 1 }, (_, i) => attemptMessageId(a.messageId, i + 1));
  return streamedMessageIds(deps.db, a.run.runId, ids);
}

/** Specs admitted before prompts stayed in the database still carry theirs. */
function fullAgent(a: CallModelArgs, kwargs: Record<string, unknown> | null): AgentConfig {
  if (a.agent.systemPrompt !== undefined) return { ...a.agent, systemPrompt: a.agent.systemPrompt };
  if (!kwargs) throw ApplicationFailure.nonRetryable(`Run ${a.run.runId} no longer exists`, FailureType.runNotActive);
  const graph = findGraph(a.run.graphId);
  if (!graph) throw ApplicationFailure.nonRetryable(`Graph "${a.run.graphId}" is not registered on this worker`, FailureType.modelError);
  return { ...a.agent, ...promptAndScript(graph, kwargs) };
}

function resolve(deps: ActivityDeps, model: string) {
  try {
    return deps.models(model);
  } catch (err) {
    throw toFailure(err, Context.current());
  }
}

function toFailure(err: unknown, ctx: Context): unknown {
  if (ctx.cancellationSignal.aborted) return ctx.cancellationSignal.reason;
  if (err instanceof ModelCallError) {
    return ApplicationFailure.create({
      type: err.retryable ? FailureType.modelUnavailable : FailureType.modelError,
      message: err.message,
      nonRetryable: !err.retryable,
      ...(err.retryAfterMs ? { nextRetryDelay: err.retryAfterMs } : {}),
    });
  }
  return err;
}

/** Turns provider chunks into `messages` (tuple), legacy `messages/*` and `events` records for the run. */
class ChunkStream {
  private content = '';
  private index = 0;
  private readonly modes: Set<string>;

  constructor(
    private readonly run: RunContext,
    private readonly messageId: string,
    private readonly meta: Record<string, unknown>,
    private readonly writer: EventWriter,
    private readonly deps: ActivityDeps,
    private readonly ctx: Context,
  ) {
    this.modes = new Set(run.streamModes);
  }

  start(events: NewEvent[]): void {
    const first: NewEvent[] = [...events];
    if (this.modes.has('messages')) first.push({ event: 'messages/metadata', data: { [this.messageId]: { metadata: this.meta } } });
    if (this.modes.has('events')) first.push({ event: 'events', data: chainEvent('on_chat_model_start', Node.agent, this.run, {}) });
    this.writer.push(first);
  }

  /**
   * Events that take back the partial messages of failed attempts: a `remove` message per id, which the SDK's
   * stream manager applies by dropping that message (as for a LangGraph RemoveMessage).
   */
  withdraw(messageIds: string[]): NewEvent[] {
    if (!this.modes.has('messages-tuple')) return [];
    return messageIds.map((id) => ({ event: 'messages', data: [{ type: 'remove', id, content: '' }, this.meta] }));
  }

  chunk(c: ModelChunk): void {
    this.ctx.heartbeat();
    this.deps.hooks?.onModelChunk?.(this.run.runId, this.index++, Date.now());
    const delta = {
      ...aiMessage(c.content ?? '', this.messageId),
      // A streamed token is an AIMessageChunk, and the production (Python) server serializes it with that type;
      // the JS dev server says `ai`. The SDKs accept both (useStream strips the `MessageChunk` suffix).
      type: 'AIMessageChunk',
      tool_call_chunks: (c.toolCallChunks ?? []).map((t) => ({
        index: t.index,
        id: t.id ?? null,
        name: t.name ?? null,
        args: t.args ?? '',
        type: 'tool_call_chunk',
      })),
    };
    this.content += c.content ?? '';
    const events: NewEvent[] = [];
    if (this.modes.has('messages-tuple')) events.push({ event: 'messages', data: [delta, this.meta] });
    if (this.modes.has('messages')) events.push({ event: 'messages/partial', data: [aiMessage(this.content, this.messageId)] });
    if (this.modes.has('events'))
      events.push({ event: 'events', data: chainEvent('on_chat_model_stream', Node.agent, this.run, { chunk: delta }) });
    this.writer.push(events);
  }

  finalEvents(ai: Message): NewEvent[] {
    const events: NewEvent[] = [];
    if (this.modes.has('messages')) events.push({ event: 'messages/complete', data: [ai] });
    if (this.modes.has('events'))
      events.push({ event: 'events', data: chainEvent('on_chat_model_end', Node.agent, this.run, { output: ai }) });
    return events;
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
