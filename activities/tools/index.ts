import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, TOOL_ACTIVITY_ATTEMPTS } from '../../core/failures.js';
import { findGraph } from '../../core/graphs.js';
import { toolMessage } from '../../core/messages.js';
import type { HeadTask } from '../../core/head.js';
import { threadWorkflowId } from '../../core/ids.js';
import type { RunContext } from '../../core/runs.js';
import { putPendingWrite, valuesAt } from '../../db/checkpoints.js';
import { toolCallReads } from '../../db/steps.js';
import { getEffect, insertEffect } from '../../db/effects.js';
import { appendRunEvents } from '../run-events.js';
import type { Queryable } from '../../db/pool.js';
import { patiently, type Patience } from '../db-wait.js';
import type { MiddlewareRef } from '../../core/middleware/spec.js';
import { insertGuardrailEvents } from '../../db/guardrails.js';
import { FiredLog, middlewareFailure } from '../middleware/fired.js';
import { MiddlewareError, type ToolCallResult } from '../../core/middleware/define.js';
import { wrapToolCall } from '../middleware/wrap.js';
import type { ActivityDeps } from '../deps.js';
import { answersAuth, toolAuth } from './auth.js';
import { InterruptSignal, ToolError, type ToolAuthContext, type ToolContext, type ToolDefinition } from './types.js';

// One tool call = one activity. Its result is recorded as a pending write of the step it belongs to (so it
// never runs again once recorded), and a tool with side effects also records its effect under the
// idempotency key. Idempotency key: workflow id + the run that asked for the call + the step of the model turn
// that asked for it + tool call id (models reuse call ids such as `call_0` from turn to turn).
// A tool runs at least once: a crash between its effect and the record of it runs it again, with the same key,
// so a tool that honours the key (as create_ticket does) takes effect exactly once.
// Database work waits out an outage inside the attempt (db-wait.ts): an outage neither uses up the tool's
// retries nor ever reaches the model as a tool result.
// The run's wrapToolCall middleware wraps the tool's run itself: tool_retry may run it again inside the attempt,
// under the same key, before the activity's own retries (`attempts`) ever see the error.

export type ToolOutcome = { status: 'done' } | { status: 'interrupt'; value: unknown };

export interface RunToolArgs {
  run: RunContext;
  /** The checkpoint whose step this call belongs to. */
  checkpointId: string;
  task: HeadTask;
  /** Present when a person answered this call's interrupt. */
  resume?: { value: unknown };
  userId?: string;
  /** The run's middleware; those with wrapToolCall wrap the tool's run and see each result before it is recorded. */
  middleware?: MiddlewareRef[];
}

export const idempotencyKey = (threadId: string, runId: string, step: number, toolCallId: string) =>
  `${threadWorkflowId(threadId)}/${runId}/${step}/${toolCallId}`;

export function createToolActivities(deps: ActivityDeps) {
  const { db } = deps;

  /** One call in one activity attempt: what fired around it is recorded once, with its result. */
  interface Call {
    a: RunToolArgs;
    wait: Patience;
    ctx: Context;
    fired: FiredLog;
  }

  /** The run's wrapToolCall middleware around a handler: the tool itself, or a result that needs no run. */
  const wrapped = (c: Call, handler: () => Promise<ToolCallResult>): Promise<ToolCallResult> =>
    wrapToolCall(deps, c.a.middleware, c.a.run, c.fired, handler, c.a.userId, c.ctx.cancellationSignal)({ call: c.a.task.toolCall! });

  /**
   * A result that did not come from running the tool now (tool missing, bad arguments, effect already recorded,
   * an error to report) passes the middleware too, so it is redacted like any result.
   */
  async function report(c: Call, content: string, status: 'success' | 'error'): Promise<ToolOutcome> {
    const res = await wrapped(c, async () => ({ content, status })).catch((err: unknown) => fail(c, err));
    return record(c, res);
  }

  /** The result, as the middleware left it (redacted), is what is stored and streamed. */
  async function record(c: Call, res: ToolCallResult): Promise<ToolOutcome> {
    const { a, wait } = c;
    const call = a.task.toolCall!;
    await recordFired(c);
    const message = toolMessage(res.content, call.id, call.name, randomUUID(), res.status);
    await wait(() => putPendingWrite(db, a.run.threadId, a.checkpointId, a.task.id, 'messages', message));
    await wait(() => emitTools(db, a.run, { event: 'on_tool_end', toolCallId: call.id, name: call.name, output: res.content }));
    return { status: 'done' };
  }

  async function recordFired({ a, wait, fired }: Call): Promise<void> {
    if (!fired.all.length) return;
    await wait(() => insertGuardrailEvents(db, fired.rows(`${a.checkpointId}/${a.task.id}`)));
    await wait(() => appendRunEvents(db, a.run, fired.eventsFrom(0, 0)));
  }

  /** A refusal (or a fatal failure) ends the run: what fired before it is part of the record of why. */
  async function fail(c: Call, err: unknown): Promise<never> {
    if (err instanceof MiddlewareError || (err instanceof ApplicationFailure && err.nonRetryable)) await recordFired(c);
    throw middlewareFailure(err);
  }

  return {
    async runTool(a: RunToolArgs): Promise<ToolOutcome> {
      const ctx = Context.current();
      const wait = patiently(ctx, deps.log);
      const c: Call = { a, wait, ctx, fired: new FiredLog(a.run) };
      const call = a.task.toolCall!;
      const pre = await wait(() => toolCallReads(db, { threadId: a.run.threadId, checkpointId: a.checkpointId, taskId: a.task.id }));
      // A call is done once its result message is recorded; a state write (files, todos) alone does not finish it.
      if (pre.done) return { status: 'done' };
      const tool = deps.tools.get(call.name, findGraph(a.run.graphId)?.tools);
      if (!tool) return report(c, `Error: the tool "${call.name}" is not available.`, 'error');
      const parsed = tool.schema.safeParse(call.args);
      if (!parsed.success) return report(c, `Error: invalid arguments for ${call.name}: ${parsed.error.message}`, 'error');
      const key = idempotencyKey(a.run.threadId, a.task.issuedByRun ?? a.run.runId, pre.step, call.id);
      if (tool.sideEffects) {
        const effect = await wait(() => getEffect(db, key));
        if (effect) return report(c, stringify(effect.result), 'success');
      }
      await wait(() => emitTools(db, a.run, { event: 'on_tool_start', toolCallId: call.id, name: call.name, input: parsed.data }));
      // Heartbeats also cover a wrapper's pauses between runs of the tool (tool_retry's backoff).
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      try {
        let res: ToolCallResult;
        try {
          res = await wrapped(c, () => execute(c, tool, parsed.data, key));
        } catch (err) {
          // An interrupt passes every wrapper untouched; tool_retry retries only ToolErrors.
          if (err instanceof InterruptSignal) return { status: 'interrupt', value: err.value };
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
          if (err instanceof ToolError) return await (err.report !== undefined ? report(c, err.report, 'error') : failed(c, tool, err));
          return await fail(c, err);
        }
        return await record(c, res);
      } finally {
        clearInterval(beat);
      }
    },
  };

  /**
   * The innermost handler: runs the tool once. A wrapper may call it again (tool_retry), with the same idempotency
   * key: a retry follows a failure, so no effect of this call was recorded yet.
   */
  async function execute(c: Call, tool: ToolDefinition, args: unknown, key: string): Promise<ToolCallResult> {
    const { a, wait, ctx } = c;
    const call = a.task.toolCall!;
    let result: unknown;
    try {
      // A tool acting for its user gets their token first, or interrupts the thread to ask them to authorize.
      const auth = await wait(() =>
        toolAuth(deps.agentAuth, tool, { userId: a.userId, threadId: a.run.threadId, runId: a.run.runId, task: a.task }),
      );
      // A tool that uses the database itself (the store) runs again once it is back: the outage is not the tool's error.
      result = await wait(() => Promise.resolve(tool.run(args as never, toolContext(a, key, ctx, wait, auth))));
    } catch (err) {
      if (err instanceof InterruptSignal) throw err;
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      const message = err instanceof Error ? err.message : String(err);
      // Fatal tools fail the run at their first error: no wrapper retries it or turns it into a result.
      if (tool.fatal) throw ApplicationFailure.nonRetryable(`${tool.name} failed: ${message}`, FailureType.fatalTool);
      throw new ToolError(tool.name, err);
    }
    // Only the tool's own errors go to the model. Its result is kept while the database is away, so the tool
    // does not run again just because its effect could not be recorded yet.
    if (tool.sideEffects) {
      await wait(() =>
        insertEffect(db, {
          idempotency_key: key,
          thread_id: a.run.threadId,
          run_id: a.task.issuedByRun ?? a.run.runId,
          tool_call_id: call.id,
          tool_name: call.name,
          args: args as Record<string, unknown>,
          result,
        }),
      );
    }
    return { content: stringify(result), status: 'success' };
  }

  /**
   * A tool error that got past the middleware is retried by the activity (`attempts`), then its last error is
   * reported to the model: here, and only here (never later than the activity's last attempt, so the workflow
   * never sees a tool's own error).
   */
  async function failed(c: Call, tool: ToolDefinition, err: ToolError): Promise<ToolOutcome> {
    if (c.ctx.info.attempt < Math.min(tool.attempts ?? 3, TOOL_ACTIVITY_ATTEMPTS))
      throw ApplicationFailure.retryable(`${tool.name} failed: ${err.message}`, FailureType.toolFailed);
    return report(c, `Error: ${err.message}`, 'error');
  }

  function toolContext(a: RunToolArgs, key: string, ctx: Context, wait: Patience, auth?: ToolAuthContext): ToolContext {
    let resumed = answersAuth(a.task) ? undefined : a.resume;
    return {
      idempotencyKey: key,
      threadId: a.run.threadId,
      runId: a.run.runId,
      assistantId: a.run.assistantId,
      graphId: a.run.graphId,
      toolCallId: a.task.toolCall!.id,
      state: {
        values: () => wait(() => valuesAt(db, a.run.threadId, a.checkpointId)),
        write: (channel, value) => wait(() => putPendingWrite(db, a.run.threadId, a.checkpointId, a.task.id, channel, value)),
      },
      ...(a.userId ? { userId: a.userId } : {}),
      ...(deps.store ? { store: deps.store } : {}),
      ...(auth ? { auth } : {}),
      signal: ctx.cancellationSignal,
      emit: async (data) => {
        if (a.run.streamModes.includes('custom')) await wait(() => appendRunEvents(db, a.run, [{ event: 'custom', data }]));
      },
      interrupt: <T>(value: unknown): T => {
        if (!resumed) throw new InterruptSignal(value);
        const answer = resumed.value as T;
        resumed = undefined;
        return answer;
      },
    };
  }
}

async function emitTools(db: Queryable, run: RunContext, data: Record<string, unknown>): Promise<void> {
  if (run.streamModes.includes('tools')) await appendRunEvents(db, run, [{ event: 'tools', data }]);
}

function stringify(result: unknown): string {
  return typeof result === 'string' ? result : JSON.stringify(result ?? null);
}
