import { ActivityFailure, ApplicationFailure, isCancellation, patched, uuid4 } from '@temporalio/workflow';
import type { ToolOutcome } from '../activities/tools/index.js';
import { FailureType } from '../core/failures.js';
import { parseDecision, parseDecisions, reviewBatch, reviewInterruptValue, type HeadTask, type ReviewDecision } from '../core/head.js';
import { Node, reviewFor, type ReviewConfig } from '../core/graphs.js';
import { runCheckpointId, stepSlot } from '../core/ids.js';
import type { ToolCall } from '../core/messages.js';
import type { RunContext, RunSpec } from '../core/runs.js';
import { db, tools } from './activities.js';
import { Patch } from './patches.js';
import type { ThreadCore } from './run.js';

// The `tools` step: every pending tool call of the turn runs as its own activity, in parallel. Calls that
// need review wait on one interrupt that lists them all; answered ones execute, reject or respond. The step
// completes (one checkpoint with all results) only when no call is left waiting, so nothing that ran runs again.

export type ToolsStepResult = 'continue' | 'interrupted';

export async function runToolsStep(
  t: ThreadCore,
  spec: RunSpec,
  run: RunContext,
  answers: Record<string, unknown>,
): Promise<ToolsStepResult> {
  const checkpointId = t.head.checkpointId!;
  const tasks = t.head.tasks.map((task) => ({ ...task }));
  const edited: ToolCall[] = [];
  const work: { task: HeadTask; outcome: Promise<ToolOutcome> }[] = [];
  const execute = (task: HeadTask, call: ToolCall, resume?: { value: unknown }) =>
    work.push({
      task,
      outcome: tools.runTool({
        run,
        checkpointId,
        task: { ...task, toolCall: call },
        ...(resume ? { resume } : {}),
        ...(spec.agent.userId ? { userId: spec.agent.userId } : {}),
      }),
    });
  const answerWith = (task: HeadTask, content: string, status: 'success' | 'error') =>
    work.push({
      task,
      outcome: db.writeToolResult({ threadId: t.threadId, checkpointId, task, content, status }).then(() => ({ status: 'done' as const })),
    });
  const decide = batchDecisions(tasks, answers);
  const toReview: [HeadTask, ReviewConfig][] = [];

  for (const task of tasks) {
    if (task.name !== Node.tools || task.done || !task.toolCall) continue;
    const call = task.toolCall;
    const pending = task.batch ?? task.interrupts[0]?.id;
    if (pending) {
      if (!(pending in answers)) continue;
      if (task.interruptKind === 'dynamic') {
        execute(task, call, { value: answers[pending] });
        continue;
      }
      const decision = task.batch ? decide(task) : parseDecision(answers[pending], task.review!, call.name);
      applyDecision(decision, task, call, { execute, answerWith, edited });
      continue;
    }
    const review = reviewFor(spec.agent.interruptOn, call.name);
    if (review) toReview.push([task, review]);
    else execute(task, call);
  }
  if (toReview.length) awaitReview(toReview, patched(Patch.reviewBatch));

  await settle(t, work, checkpointId);
  if (tasks.some((task) => task.name === Node.tools && !task.done)) {
    t.head = await db.recordTasks({ threadId: t.threadId, checkpointId, tasks });
    return 'interrupted';
  }
  t.head = await db.commitTools({
    run,
    head: { ...t.head, tasks },
    checkpointId: runCheckpointId(run.runId, stepSlot(t.head.step + 1)),
    editedCalls: edited,
  });
  return 'continue';
}

/**
 * One interrupt lists every call of the turn under review. The last call's task holds it, since clients that
 * read a thread's state take the interrupt of its last task (useStream does). Threads from before (unpatched)
 * gave each call an interrupt of its own.
 */
function awaitReview(calls: [HeadTask, ReviewConfig][], batched: boolean): void {
  if (!batched) {
    for (const [task, review] of calls) {
      const interrupt = { id: uuid4(), value: reviewInterruptValue([[task.toolCall!, review]]) };
      Object.assign(task, { interrupts: [interrupt], interruptKind: 'review', review });
    }
    return;
  }
  const interrupt = { id: uuid4(), value: reviewInterruptValue(calls.map(([task, review]) => [task.toolCall!, review])) };
  for (const [i, [task, review]] of calls.entries()) {
    Object.assign(task, { interrupts: i === calls.length - 1 ? [interrupt] : [], interruptKind: 'review', review, batch: interrupt.id });
  }
}

/** The decision for each call of an answered review interrupt: the answer's decisions, in call order. */
function batchDecisions(tasks: HeadTask[], answers: Record<string, unknown>): (task: HeadTask) => ReviewDecision {
  const parsed = new Map<string, ReviewDecision[]>();
  return (task) => {
    const calls = reviewBatch(tasks, task.batch!);
    if (!parsed.has(task.batch!)) parsed.set(task.batch!, parseDecisions(answers[task.batch!], calls));
    return parsed.get(task.batch!)![calls.findIndex((c) => c.id === task.id)]!;
  };
}

interface DecisionActions {
  execute(task: HeadTask, call: ToolCall): void;
  answerWith(task: HeadTask, content: string, status: 'success' | 'error'): void;
  edited: ToolCall[];
}

function applyDecision(d: ReviewDecision, task: HeadTask, call: ToolCall, act: DecisionActions): void {
  if (d.type === 'approve') return act.execute(task, call);
  if (d.type === 'edit') {
    const changed: ToolCall = { ...call, name: d.edited_action!.name, args: d.edited_action!.args };
    act.edited.push(changed);
    return act.execute(task, changed);
  }
  if (d.type === 'reject') return act.answerWith(task, d.message ?? `The user rejected the call to ${call.name}.`, 'error');
  return act.answerWith(task, d.message!, 'success');
}

/**
 * Waits for every call, then marks each task done or interrupted. A tool that failed past its retries is
 * reported to the model as an error result; a fatal tool or a cancellation fails the step once all settled.
 */
async function settle(t: ThreadCore, work: { task: HeadTask; outcome: Promise<ToolOutcome> }[], checkpointId: string): Promise<void> {
  const results = await Promise.allSettled(work.map((w) => w.outcome));
  let fatal: unknown;
  for (const [i, r] of results.entries()) {
    const task = work[i]!.task;
    if (r.status === 'fulfilled') {
      if (r.value.status === 'done') Object.assign(task, { done: true, interrupts: [], batch: undefined });
      else
        Object.assign(task, {
          interrupts: [{ id: uuid4(), value: r.value.value }],
          interruptKind: 'dynamic',
          review: undefined,
          batch: undefined,
        });
      continue;
    }
    if (isCancellation(r.reason) || isFatal(r.reason)) {
      fatal ??= r.reason;
      continue;
    }
    const message = failureMessage(r.reason);
    await db.writeToolResult({ threadId: t.threadId, checkpointId, task, content: `Error: ${message}`, status: 'error' });
    Object.assign(task, { done: true, interrupts: [], batch: undefined });
  }
  if (fatal) throw fatal;
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

function isFatal(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FailureType.fatalTool;
}
