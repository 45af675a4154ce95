import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { ModelStepResult } from '../activities/model.js';
import type { RunError } from '../activities/runs.js';
import { FailureType } from '../core/failures.js';
import { END, Node, START } from '../core/engine.js';
import { pendingInterrupts, resolveResume, validateAnswers, type ThreadHead } from '../core/head.js';
import { modelMessageId, runCheckpointId, RunSlot, stepSlot } from '../core/ids.js';
import { hookOfNode } from '../core/middleware/edges.js';
import { inHookOrder, StepHook } from '../core/middleware/spec.js';
import type { Breakpoints, CancelAction, RunContext, RunSpec, ThreadStatus } from '../core/runs.js';
import { db, model } from './activities.js';
import { resumeHookPhase, runHookPhase } from './hooks-step.js';
import { Patch } from './patches.js';
import { runToolsStep } from './tools-step.js';

// Executes one run of a thread: position the head (time travel, command.update, input or resume), then
// step through the ReAct graph until it ends, hits a breakpoint or waits on a person. Every step is an
// activity that commits a checkpoint, so a crash resumes after the last finished step. Checkpoint ids come from
// the run id and the step, so a retried workflow task asks for the same ids and finds what it already wrote.

export interface QueuedRun {
  runId: string;
  /** Loaded from the database for runs carried across continue-as-new by id. */
  spec?: RunSpec;
  /** Workflow time the run was admitted; after_seconds counts from here. */
  admittedAt: number;
  cancel?: CancelAction;
  scope?: CancellationScope;
  /** Its admission is still recording it. */
  claiming?: boolean;
  /** Recorded at admission, in this run of the workflow. */
  recorded?: boolean;
  /** Begun at admission too (Patch.admitBegin): the head after its input. */
  begun?: ThreadHead;
}

export interface ThreadCore {
  threadId: string;
  head: ThreadHead;
  queue: QueuedRun[];
  /** Queued runs that are not cancelled: what keeps the thread busy after this run. */
  readonly liveQueued: number;
  /** Workflows recorded before Patch.lifecycle neither continue as new mid-run nor learn that their thread is gone. */
  readonly ownsLifecycle: boolean;
  /** Set when the run's last model turn also ended the run (Patch.finishInModel): the thread's status after it. */
  endedInStep: ThreadStatus | null;
  setStatus(status: ThreadStatus): void;
}

export interface RunOutcome {
  /** The run stopped at a step boundary so the workflow can continue as new; it goes on from this step. */
  continueAt?: number;
  threadGone?: boolean;
  /** A rollback left the run alone: it had ended before the rollback was asked for. */
  kept?: boolean;
}

export const runContext = (spec: RunSpec): RunContext => ({
  runId: spec.runId,
  threadId: spec.threadId,
  assistantId: spec.assistantId,
  graphId: spec.graphId,
  streamModes: spec.streamModes,
  ...(spec.parent ? { parent: spec.parent } : {}),
});

/**
 * Runs the graph inside a cancellable scope and records how the run ended. With `fromStep`, the run already
 * started before a continue-as-new and goes on from the head at that step.
 */
export async function executeRun(t: ThreadCore, entry: QueuedRun, fromStep?: number): Promise<RunOutcome> {
  const spec = entry.spec!;
  const run = runContext(spec);
  // The common case (new input, no state update) starts the run and commits its input in one local activity.
  const begun = fromStep === undefined ? entry.begun : undefined;
  const begins = fromStep === undefined && !begun && t.ownsLifecycle && spec.hasInput && !spec.command?.update && patched(Patch.beginRun);
  if (fromStep === undefined && !begins && !begun) {
    const started = await db.startRun({ runId: run.runId, threadId: run.threadId });
    // The stored head is authoritative when a run starts (the thread may have been deleted and made again).
    if (t.ownsLifecycle && started) t.head = started.head;
  }
  t.setStatus('busy');
  const scope = new CancellationScope();
  entry.scope = scope;
  if (entry.cancel) scope.cancel();
  let status: 'success' | 'interrupted' | 'error' = 'success';
  let error: RunError | null = null;
  let continueAt: number | undefined;
  try {
    continueAt = await scope.run(() =>
      fromStep === undefined ? runGraph(t, spec, run, begins, begun) : stepThrough(t, spec, run, {}, false, fromStep),
    );
  } catch (err) {
    if (entry.cancel && isCancellation(err)) status = 'interrupted';
    else [status, error] = ['error', describe(err)];
  }
  if (status === 'success' && continueAt !== undefined) return { continueAt };
  const ended = t.endedInStep;
  t.endedInStep = null;
  // A rollback that came in meanwhile still takes the run back (as it would a run whose end was not yet written).
  if (status === 'success' && ended && entry.cancel !== 'rollback') {
    t.setStatus(ended);
    return {};
  }
  // The stored head is authoritative here: a step cancelled mid-flight may still have committed.
  return CancellationScope.nonCancellable(async () => {
    const queued = t.liveQueued;
    const ended =
      entry.cancel === 'rollback'
        ? await db.rollbackRun({ runId: run.runId, threadId: run.threadId, queued })
        : await db.finishRun({ run, status, error, queued });
    t.head = ended.head;
    t.setStatus(ended.threadStatus);
    if ('kept' in ended && ended.kept) return { kept: true };
    return 'threadGone' in ended && ended.threadGone ? { threadGone: true } : {};
  });
}

async function runGraph(t: ThreadCore, spec: RunSpec, run: RunContext, begins: boolean, begun?: ThreadHead): Promise<number | undefined> {
  const id = (slot: number) => runCheckpointId(run.runId, slot);
  if (begins || begun) {
    t.head = begun ?? (await db.beginRun({ run, checkpointId: spec.checkpointId, ids: [id(RunSlot.input), id(RunSlot.inputLoop)] }));
    await runHookPhase(t, spec, run, StepHook.beforeAgent);
    return stepThrough(t, spec, run, {}, false, 0);
  }
  const travel = spec.checkpointId && spec.checkpointId !== t.head.checkpointId ? spec.checkpointId : null;
  if (travel && !spec.hasInput) {
    t.head = await db.forkFrom({ run, expectedHead: t.head.checkpointId, targetCheckpointId: travel, checkpointId: id(RunSlot.fork) });
  }
  if (spec.command?.update) {
    t.head = await db.commitUpdate({
      threadId: t.threadId,
      run,
      expectedHead: t.head.checkpointId,
      baseCheckpointId: t.head.checkpointId,
      checkpointId: id(RunSlot.update),
      values: normalizeUpdate(spec.command.update),
      asNode: null,
      keepNext: t.head.next,
    });
  }
  let answers: Record<string, unknown> = {};
  let resuming = false;
  if (spec.hasInput) {
    t.head = await db.commitInput({
      run,
      expectedHead: t.head.checkpointId,
      baseCheckpointId: travel ?? t.head.checkpointId,
      ids: [id(RunSlot.input), id(RunSlot.inputLoop)],
    });
    // A new invocation: before_agent hooks run once, before anything else (a resume continues the old one).
    await runHookPhase(t, spec, run, StepHook.beforeAgent);
  } else {
    // goto END adds no node: as in LangGraph, whose input `Command(goto=END)` writes to no channel, the tasks
    // already pending run again, so a call waiting on review keeps waiting (agent-chat-ui's "Mark as Resolved").
    const goto = (spec.command?.goto ?? []).filter((n) => n !== END);
    if (goto.length) t.head = { ...t.head, next: goto };
    if (spec.command && 'resume' in spec.command && pendingInterrupts(t.head).length) {
      answers = resolveResume(t.head, spec.command.resume, { strictResume: spec.strictResume, exact: patched(Patch.reviewBatch) });
      validateAnswers(t.head, answers);
    }
    resuming = t.head.next.length > 0;
  }
  return stepThrough(t, spec, run, answers, resuming, 0);
}

/** Steps until the graph stops; returns the step count instead when the workflow should continue as new first. */
async function stepThrough(
  t: ThreadCore,
  spec: RunSpec,
  run: RunContext,
  answers: Record<string, unknown>,
  resuming: boolean,
  from: number,
): Promise<number | undefined> {
  // Set when the model step that ended the graph also ran the after_agent phase (Patch.hooksInModel).
  let closed = false;
  // Set when the step before resumed a before_model phase: the model step must not run that phase again.
  let beforeModelDone = false;
  for (let steps = from; t.head.next.length; steps++) {
    closed = false;
    const resumedBefore = beforeModelDone;
    beforeModelDone = false;
    // A long run must not grow one history without bound: at a step boundary, with no answers left to hand to
    // a tools step (nor a before_model phase it ran that a fresh run would repeat), it can go on in a fresh run.
    const carried = Object.keys(answers).length > 0 || resumedBefore;
    if (t.ownsLifecycle && steps > from && !carried && workflowInfo().continueAsNewSuggested) return steps;
    const node = t.head.next[0]!;
    const hook = hookOfNode(node);
    if (hook && patched(Patch.hookInterrupts)) {
      // A middleware hook paused the thread: it keeps waiting without an answer, else its phase goes on from it.
      const task = t.head.tasks.find((x) => x.name === node && !x.done);
      const waiting = task?.interrupts[0];
      if (waiting && !(waiting.id in answers)) return undefined;
      await resumeHookPhase(t, spec, run, hook, [...(task?.resumes ?? []), ...(waiting ? [answers[waiting.id]] : [])]);
      answers = {};
      closed = hook === StepHook.afterAgent;
      beforeModelDone = hook === StepHook.beforeModel;
      continue;
    }
    // The agent step a resumed before_model phase began does not pause before it: a pause there would run that
    // phase again, as a resume does not pause again at the node it resumes.
    if (!(resuming && steps === 0) && !resumedBefore && pausesAt(spec.interruptBefore, node)) return;
    if (steps >= spec.agent.maxSteps) {
      throw ApplicationFailure.nonRetryable(
        `Recursion limit of ${spec.agent.maxSteps} reached without hitting a stop condition.`,
        FailureType.recursionLimit,
      );
    }
    if (node === Node.agent && hooksInModelStep(spec)) {
      // One activity runs before_model, the turn, after_model and (when the graph ends) after_agent.
      const args = { ...modelTurn(t, spec, run), hookPhases: true, ...(resumedBefore ? { skipBeforeModel: true } : {}) };
      t.head = takeEnd(t, await model.callModel({ ...args, ...finishes(spec, true) }));
      closed = !t.head.next.length;
    } else if (node === Node.agent) {
      // before_model hooks may jump elsewhere (a limit ends the run): the model runs only if they left it next.
      if (!resumedBefore && (await runHookPhase(t, spec, run, StepHook.beforeModel)) && t.head.next[0] !== Node.agent) continue;
      t.head = takeEnd(t, await model.callModel({ ...modelTurn(t, spec, run), ...finishes(spec, false) }));
      await runHookPhase(t, spec, run, StepHook.afterModel);
    } else if (node === Node.tools) {
      const result = await runToolsStep(t, spec, run, answers);
      answers = {};
      if (result === 'interrupted') return undefined;
    } else if (node === START && patched(Patch.replayInput)) {
      // A head that waits on __start__ (time travel to an input checkpoint, with no new input) applies the
      // input recorded there and goes on, as LangGraph does. Histories from before this ended in the error below.
      t.head = await db.commitStart({ run, head: t.head, checkpointId: runCheckpointId(run.runId, stepSlot(t.head.step + 1)) });
    } else {
      throw ApplicationFailure.nonRetryable(`The graph has no node "${node}" to run next.`, FailureType.invalidGraphState);
    }
    if (pausesAt(spec.interruptAfter, node) && t.head.next.length) return undefined;
  }
  // The graph reached its end: after_agent hooks close the invocation (limits reset their run counters here).
  if (!closed) await runHookPhase(t, spec, run, StepHook.afterAgent);
  return undefined;
}

const modelTurn = (t: ThreadCore, spec: RunSpec, run: RunContext) => ({
  run,
  agent: spec.agent,
  head: t.head,
  checkpointId: runCheckpointId(run.runId, stepSlot(t.head.step + 1)),
  messageId: modelMessageId(run.runId, t.head.step + 1),
});

/**
 * Whether the model activity may end the run when its turn ends the graph: nothing of the run comes after that turn
 * then, unless the workflow runs after_model or after_agent hooks (which may still jump) after the activity.
 */
function finishes(spec: RunSpec, hookPhases: boolean): { finish?: true } {
  const after = [StepHook.afterModel, StepHook.afterAgent].some((h) => inHookOrder(spec.agent.middleware, h).length);
  return (hookPhases || !after) && patched(Patch.finishInModel) ? { finish: true } : {};
}

/** The head of a model step; records the thread's status when the step ended the run. */
function takeEnd(t: ThreadCore, r: ModelStepResult): ThreadHead {
  const { ended, ...head } = r;
  if (ended) t.endedInStep = ended;
  return head;
}

/**
 * Whether the model activity runs the step's hook phases. Not for runs that pause after the model: a before_model
 * jump skips the agent node, and only the workflow knows then that it must not pause.
 */
function hooksInModelStep(spec: RunSpec): boolean {
  const phases = [StepHook.beforeModel, StepHook.afterModel, StepHook.afterAgent];
  if (!phases.some((h) => inHookOrder(spec.agent.middleware, h).length) || pausesAt(spec.interruptAfter, Node.agent)) return false;
  return patched(Patch.middleware) && patched(Patch.hooksInModel);
}

// `*` means every node of the graph; LangGraph's __start__ is a hidden node that breakpoints never stop at.
const pausesAt = (points: Breakpoints, node: string) => node !== START && (points.includes('*') || points.includes(node));

/** command.update may be a list of [key, value] pairs. */
function normalizeUpdate(update: NonNullable<RunSpec['command']>['update']): Record<string, unknown> {
  return Array.isArray(update) ? Object.fromEntries(update) : (update ?? {});
}

function describe(err: unknown): RunError {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { error: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof TimeoutFailure) return { error: 'TimeoutError', message: `A step timed out (${cause.timeoutType})` };
  if (cause instanceof Error) return { error: cause.name, message: cause.message };
  return { error: 'Error', message: String(cause) };
}
