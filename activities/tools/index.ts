import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { toolMessage } from '../../core/messages.js';
import type { HeadTask } from '../../core/head.js';
import type { RunContext } from '../../core/runs.js';
import { getCheckpoint, getPendingWrites, putPendingWrite } from '../../db/checkpoints.js';
import { getEffect, insertEffect } from '../../db/effects.js';
import { appendEvents } from '../../db/events.js';
import type { Queryable } from '../../db/pool.js';
import { threadWorkflowId } from '../../workflows/messages.js';
import type { ActivityDeps } from '../deps.js';
import { InterruptSignal, type ToolContext, type ToolDefinition } from './types.js';

// One tool call = one activity. Its result is recorded as a pending write of the step it belongs to (so it
// never runs again once recorded), and a tool with side effects also records its effect under the
// idempotency key. Idempotency key: workflow id + the run that asked for the call + the step of the model turn
// that asked for it + tool call id (models reuse call ids such as `call_0` from turn to turn).
// A tool runs at least once: a crash between its effect and the record of it runs it again, with the same key,
// so a tool that honours the key (as create_ticket does) takes effect exactly once.

export const ToolErrorType = { fatal: 'FatalToolError', failed: 'ToolFailed' } as const;

export type ToolOutcome = { status: 'done' } | { status: 'interrupt'; value: unknown };

export interface RunToolArgs {
  run: RunContext;
  /** The checkpoint whose step this call belongs to. */
  checkpointId: string;
  task: HeadTask;
  /** Present when a person answered this call's interrupt. */
  resume?: { value: unknown };
  userId?: string;
}

export const idempotencyKey = (threadId: string, runId: string, step: number, toolCallId: string) =>
  `${threadWorkflowId(threadId)}/${runId}/${step}/${toolCallId}`;

export function createToolActivities(deps: ActivityDeps) {
  const { db } = deps;

  async function record(a: RunToolArgs, content: string, status: 'success' | 'error'): Promise<ToolOutcome> {
    const call = a.task.toolCall!;
    await putPendingWrite(
      db,
      a.run.threadId,
      a.checkpointId,
      a.task.id,
      'messages',
      toolMessage(content, call.id, call.name, randomUUID(), status),
    );
    await emitTools(db, a.run, { event: 'on_tool_end', toolCallId: call.id, name: call.name, output: content });
    return { status: 'done' };
  }

  return {
    async runTool(a: RunToolArgs): Promise<ToolOutcome> {
      const call = a.task.toolCall!;
      const recorded = await getPendingWrites(db, a.run.threadId, a.checkpointId);
      if (recorded.some((w) => w.task_id === a.task.id)) return { status: 'done' };
      const tool = deps.tools.get(call.name);
      if (!tool) return record(a, `Error: the tool "${call.name}" is not available.`, 'error');
      const parsed = tool.schema.safeParse(call.args);
      if (!parsed.success) return record(a, `Error: invalid arguments for ${call.name}: ${parsed.error.message}`, 'error');
      const step = (await getCheckpoint(db, a.run.threadId, a.checkpointId))?.step ?? 0;
      const key = idempotencyKey(a.run.threadId, a.task.issuedByRun ?? a.run.runId, step, call.id);
      if (tool.sideEffects) {
        const effect = await getEffect(db, key);
        if (effect) return record(a, stringify(effect.result), 'success');
      }
      await emitTools(db, a.run, { event: 'on_tool_start', toolCallId: call.id, name: call.name, input: parsed.data });
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      let result: unknown;
      try {
        result = await tool.run(parsed.data, toolContext(a, key, ctx));
      } catch (err) {
        if (err instanceof InterruptSignal) return { status: 'interrupt', value: err.value };
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        return failed(a, tool, err, ctx);
      } finally {
        clearInterval(beat);
      }
      // Only the tool's own errors go to the model; a failure to record its result is retried by Temporal.
      if (tool.sideEffects) {
        await insertEffect(db, {
          idempotency_key: key,
          thread_id: a.run.threadId,
          run_id: a.task.issuedByRun ?? a.run.runId,
          tool_call_id: call.id,
          tool_name: call.name,
          args: parsed.data,
          result,
        });
      }
      return record(a, stringify(result), 'success');
    },
  };

  /** Fatal tools fail the run; others are retried, then their last error is reported to the model. */
  function failed(a: RunToolArgs, tool: ToolDefinition, err: unknown, ctx: Context): Promise<ToolOutcome> {
    const message = err instanceof Error ? err.message : String(err);
    if (tool.fatal) throw ApplicationFailure.nonRetryable(`${tool.name} failed: ${message}`, ToolErrorType.fatal);
    if (ctx.info.attempt < (tool.attempts ?? 3))
      throw ApplicationFailure.retryable(`${tool.name} failed: ${message}`, ToolErrorType.failed);
    return record(a, `Error: ${message}`, 'error');
  }

  function toolContext(a: RunToolArgs, key: string, ctx: Context): ToolContext {
    let resumed = a.resume;
    return {
      idempotencyKey: key,
      threadId: a.run.threadId,
      runId: a.run.runId,
      toolCallId: a.task.toolCall!.id,
      ...(a.userId ? { userId: a.userId } : {}),
      ...(deps.store ? { store: deps.store } : {}),
      signal: ctx.cancellationSignal,
      emit: async (data) => {
        if (a.run.streamModes.includes('custom')) await appendEvents(db, a.run.runId, [{ event: 'custom', data }]);
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
  if (run.streamModes.includes('tools')) await appendEvents(db, run.runId, [{ event: 'tools', data }]);
}

function stringify(result: unknown): string {
  return typeof result === 'string' ? result : JSON.stringify(result ?? null);
}
