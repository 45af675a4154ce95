import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, TOOL_ACTIVITY_ATTEMPTS } from '../../core/failures.js';
import { findGraph } from '../../core/graphs.js';
import { toolMessage } from '../../core/messages.js';
import type { HeadTask } from '../../core/head.js';
import { threadWorkflowId } from '../../core/ids.js';
import type { RunContext } from '../../core/runs.js';
import { getCheckpoint, getPendingWrites, putPendingWrite, valuesAt } from '../../db/checkpoints.js';
import { getEffect, insertEffect } from '../../db/effects.js';
import { appendRunEvents } from '../run-events.js';
import type { Queryable } from '../../db/pool.js';
import { patiently, type Patience } from '../db-wait.js';
import type { MiddlewareRef } from '../../core/middleware/spec.js';
import { insertGuardrailEvents } from '../../db/guardrails.js';
import { FiredLog, middlewareFailure } from '../middleware/fired.js';
import { wrapToolCall } from '../middleware/wrap.js';
import type { ActivityDeps } from '../deps.js';
import { answersAuth, toolAuth } from './auth.js';
import { InterruptSignal, type ToolAuthContext, type ToolContext, type ToolDefinition } from './types.js';

// One tool call = one activity. Its result is recorded as a pending write of the step it belongs to (so it
// never runs again once recorded), and a tool with side effects also records its effect under the
// idempotency key. Idempotency key: workflow id + the run that asked for the call + the step of the model turn
// that asked for it + tool call id (models reuse call ids such as `call_0` from turn to turn).
// A tool runs at least once: a crash between its effect and the record of it runs it again, with the same key,
// so a tool that honours the key (as create_ticket does) takes effect exactly once.
// Database work waits out an outage inside the attempt (db-wait.ts): an outage neither uses up the tool's
// retries nor ever reaches the model as a tool result.

export type ToolOutcome = { status: 'done' } | { status: 'interrupt'; value: unknown };

export interface RunToolArgs {
  run: RunContext;
  /** The checkpoint whose step this call belongs to. */
  checkpointId: string;
  task: HeadTask;
  /** Present when a person answered this call's interrupt. */
  resume?: { value: unknown };
  userId?: string;
  /** The run's middleware; those with wrapToolCall see each result before it is recorded. */
  middleware?: MiddlewareRef[];
}

export const idempotencyKey = (threadId: string, runId: string, step: number, toolCallId: string) =>
  `${threadWorkflowId(threadId)}/${runId}/${step}/${toolCallId}`;

export function createToolActivities(deps: ActivityDeps) {
  const { db } = deps;

  /** The result goes through the run's wrapToolCall middleware (redaction) before it is stored or streamed. */
  async function record(a: RunToolArgs, wait: Patience, raw: string, rawStatus: 'success' | 'error'): Promise<ToolOutcome> {
    const call = a.task.toolCall!;
    const fired = new FiredLog(a.run);
    const wrapped = wrapToolCall(deps, a.middleware, a.run, fired, async () => ({ content: raw, status: rawStatus }), a.userId);
    const { content, status } = await wrapped({ call }).catch((err: unknown) => Promise.reject(middlewareFailure(err)));
    if (fired.all.length) {
      const key = `${a.checkpointId}/${a.task.id}`;
      await wait(() => insertGuardrailEvents(db, fired.rows(key)));
      await wait(() => appendRunEvents(db, a.run, fired.eventsFrom(0, 0)));
    }
    const message = toolMessage(content, call.id, call.name, randomUUID(), status);
    await wait(() => putPendingWrite(db, a.run.threadId, a.checkpointId, a.task.id, 'messages', message));
    await wait(() => emitTools(db, a.run, { event: 'on_tool_end', toolCallId: call.id, name: call.name, output: content }));
    return { status: 'done' };
  }

  return {
    async runTool(a: RunToolArgs): Promise<ToolOutcome> {
      const ctx = Context.current();
      const wait = patiently(ctx, deps.log);
      const call = a.task.toolCall!;
      const recorded = await wait(() => getPendingWrites(db, a.run.threadId, a.checkpointId));
      // A call is done once its result message is recorded; a state write (files, todos) alone does not finish it.
      if (recorded.some((w) => w.task_id === a.task.id && w.channel === 'messages')) return { status: 'done' };
      const tool = deps.tools.get(call.name, findGraph(a.run.graphId)?.tools);
      if (!tool) return record(a, wait, `Error: the tool "${call.name}" is not available.`, 'error');
      const parsed = tool.schema.safeParse(call.args);
      if (!parsed.success) return record(a, wait, `Error: invalid arguments for ${call.name}: ${parsed.error.message}`, 'error');
      const step = (await wait(() => getCheckpoint(db, a.run.threadId, a.checkpointId)))?.step ?? 0;
      const key = idempotencyKey(a.run.threadId, a.task.issuedByRun ?? a.run.runId, step, call.id);
      if (tool.sideEffects) {
        const effect = await wait(() => getEffect(db, key));
        if (effect) return record(a, wait, stringify(effect.result), 'success');
      }
      await wait(() => emitTools(db, a.run, { event: 'on_tool_start', toolCallId: call.id, name: call.name, input: parsed.data }));
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      try {
        return await execute(a, wait, ctx, tool, parsed.data, key);
      } finally {
        clearInterval(beat);
      }
    },
  };

  async function execute(
    a: RunToolArgs,
    wait: Patience,
    ctx: Context,
    tool: ToolDefinition,
    args: unknown,
    key: string,
  ): Promise<ToolOutcome> {
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
      if (err instanceof InterruptSignal) return { status: 'interrupt', value: err.value };
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      return failed(a, wait, tool, err, ctx);
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
    return record(a, wait, stringify(result), 'success');
  }

  /**
   * Fatal tools fail the run; others are retried, then their last error is reported to the model: here, and only
   * here (never later than the activity's last attempt, so the workflow never sees a tool's own error).
   */
  function failed(a: RunToolArgs, wait: Patience, tool: ToolDefinition, err: unknown, ctx: Context): Promise<ToolOutcome> {
    const message = err instanceof Error ? err.message : String(err);
    if (tool.fatal) throw ApplicationFailure.nonRetryable(`${tool.name} failed: ${message}`, FailureType.fatalTool);
    if (ctx.info.attempt < Math.min(tool.attempts ?? 3, TOOL_ACTIVITY_ATTEMPTS))
      throw ApplicationFailure.retryable(`${tool.name} failed: ${message}`, FailureType.toolFailed);
    return record(a, wait, `Error: ${message}`, 'error');
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
