import { ActivityFailure, ApplicationFailure, isCancellation, patched, uuid4 } from '@temporalio/workflow';
import type { ToolOutcome } from '../activities/tools/index.js';
import { FailureType } from '../core/failures.js';
import {
  parseDecision,
  parseDecisions,
  reviewBatch,
  reviewInterruptValue,
  type HeadTask,
  type Interrupt,
  type ReviewDecision,
} from '../core/head.js';
import { Node } from '../core/engine.js';
import { reviewFor, type ReviewConfig } from '../core/review.js';
import { runCheckpointId, stepSlot } from '../core/ids.js';
import type { ToolCall } from '../core/messages.js';
import type { RunContext, RunSpec } from '../core/runs.js';
import { db, tools } from './activities.js';
import { Patch } from './patches.js';
import { runSubagent } from './subagent.js';
import type { ThreadCore } from './run.js';

// The `tools` step: every pending tool call of the turn runs as its own activity, in parallel. Calls that
// need review wait on one interrupt that lists them all; answered ones execute, reject or respond. The step
// completes (one checkpoint with all results) only when no call is left waiting, so nothing that ran runs again.

export type ToolsStepResult = 'continue' | 'interrupted';

/**
 * Where one tool call of the turn stands. Checkpoints and histories store it as HeadTask fields (`done`,
 * `interrupts`, `interruptKind`, `review`, `batch`); the step reads it through stateOf and writes it through
 * withState, so every transition is one of these.
 */
export type ToolTaskState =
  | { kind: 'pending' }
  | { kind: 'awaiting_review'; interrupt: string; review: ReviewConfig; batch?: string }
  | { kind: 'awaiting_input'; interrupt: string }
  | { kind: 'done' };

export function stateOf(task: HeadTask): ToolTaskState {
  if (task.done) return { kind: 'done' };
  const interrupt = task.batch ?? task.interrupts[0]?.id;
  if (!interrupt) return { kind: 'pending' };
  if (task.interruptKind === 'dynamic') return { kind: 'awaiting_input', interrupt };
  return { kind: 'awaiting_review', interrupt, review: task.review!, ...(task.batch ? { batch: task.batch } : {}) };
}

/** The stored form of a transition; `raised` is the interrupt a newly waiting call holds (none for a batch member). */
function withState(task: HeadTask, next: ToolTaskState, raised: Interrupt[] = []): HeadTask {
  switch (next.kind) {
    case 'done':
      return { ...task, done: true, interrupts: [], batch: undefined };
    case 'awaiting_input':
      return { ...task, interrupts: raised, interruptKind: 'dynamic', review: undefined, batch: undefined };
    case 'awaiting_review':
      return { ...task, interrupts: raised, interruptKind: 'review', review: next.review, ...(next.batch ? { batch: next.batch } : {}) };
    case 'pending':
      return task;
  }
}

export async function runToolsStep(
  t: ThreadCore,
  spec: RunSpec,
  run: RunContext,
  answers: Record<string, unknown>,
): Promise<ToolsStepResult> {
  const checkpointId = t.head.checkpointId!;
  const tasks = [...t.head.tasks];
  const set: SetState = (id, next, raised) => {
    const i = tasks.findIndex((x) => x.id === id);
    tasks[i] = withState(tasks[i]!, next, raised);
  };
  const edited: ToolCall[] = [];
  const work: { task: HeadTask; outcome: Promise<ToolOutcome> }[] = [];
  const execute = (task: HeadTask, call: ToolCall, resume?: { value: unknown }) =>
    work.push({
      task,
      outcome: isSubagentCall(call)
        ? runSubagent(run, spec.agent, checkpointId, { ...task, toolCall: call }, resume)
        : tools.runTool({
            run,
            checkpointId,
            task: { ...task, toolCall: call },
            ...(resume ? { resume } : {}),
            ...(spec.agent.userId ? { userId: spec.agent.userId } : {}),
            ...(spec.agent.middleware?.length ? { middleware: spec.agent.middleware } : {}),
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
    if (task.name !== Node.tools || !task.toolCall) continue;
    const call = task.toolCall;
    const state = stateOf(task);
    if (state.kind === 'pending') {
      const review = reviewFor(spec.agent.interruptOn, call.name);
      if (review) toReview.push([task, review]);
      else execute(task, call);
    } else if (state.kind === 'awaiting_input' && state.interrupt in answers) {
      execute(task, call, { value: answers[state.interrupt] });
    } else if (state.kind === 'awaiting_review' && state.interrupt in answers) {
      const decision = state.batch ? decide(task) : parseDecision(answers[state.interrupt], state.review, call.name);
      applyDecision(decision, task, call, { execute, answerWith, edited });
    }
  }
  if (toReview.length) awaitReview(toReview, patched(Patch.reviewBatch), set);

  await settle(t, work, checkpointId, set);
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
function awaitReview(calls: [HeadTask, ReviewConfig][], batched: boolean, set: SetState): void {
  if (!batched) {
    for (const [task, review] of calls) {
      const interrupt = { id: uuid4(), value: reviewInterruptValue([[task.toolCall!, review]]) };
      set(task.id, { kind: 'awaiting_review', interrupt: interrupt.id, review }, [interrupt]);
    }
    return;
  }
  const interrupt = { id: uuid4(), value: reviewInterruptValue(calls.map(([task, review]) => [task.toolCall!, review])) };
  for (const [i, [task, review]] of calls.entries()) {
    const state = { kind: 'awaiting_review' as const, interrupt: interrupt.id, review, batch: interrupt.id };
    set(task.id, state, i === calls.length - 1 ? [interrupt] : []);
  }
}

type SetState = (taskId: string, next: ToolTaskState, raised?: Interrupt[]) => void;

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
 * Waits for every call, then marks each task done or interrupted. A call whose activity could not finish at all
 * is answered with an error result (tools' own errors the activity reports itself); a fatal tool or a
 * cancellation fails the step once all settled.
 */
async function settle(
  t: ThreadCore,
  work: { task: HeadTask; outcome: Promise<ToolOutcome> }[],
  checkpointId: string,
  set: SetState,
): Promise<void> {
  const results = await Promise.allSettled(work.map((w) => w.outcome));
  let fatal: unknown;
  for (const [i, r] of results.entries()) {
    const task = work[i]!.task;
    if (r.status === 'fulfilled') {
      if (r.value.status === 'done') set(task.id, { kind: 'done' });
      else {
        const interrupt = { id: uuid4(), value: r.value.value };
        set(task.id, { kind: 'awaiting_input', interrupt: interrupt.id }, [interrupt]);
      }
      continue;
    }
    if (isCancellation(r.reason) || isFatal(r.reason)) {
      fatal ??= r.reason;
      continue;
    }
    // The tool activity itself could not finish (it timed out or its worker died, past its retries): its own
    // errors never get here (the activity reports them), so this answers for the call that could not run.
    const message = failureMessage(r.reason);
    await db.writeToolResult({ threadId: t.threadId, checkpointId, task, content: `Error: ${message}`, status: 'error' });
    set(task.id, { kind: 'done' });
  }
  if (fatal) throw fatal;
}

/** `task` runs a subagent as a child workflow; histories from before subagents ran it as a (missing) tool. */
const isSubagentCall = (call: ToolCall) => call.name === 'task' && patched(Patch.subagents);

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

function isFatal(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FailureType.fatalTool;
}
