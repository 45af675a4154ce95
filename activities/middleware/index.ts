import { FailureType } from '../../core/failures.js';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { messageText, type Message } from '../../core/messages.js';
import { InterruptKind, type HeadTask, type ThreadHead } from '../../core/head.js';
import { runCheckpointId, stepSlot } from '../../core/ids.js';
import { HookInterrupt, stepHookKey, type HookResult } from '../../core/middleware/define.js';
import { nextAfterHook } from '../../core/middleware/edges.js';
import { hookNode, type MiddlewareRef, type StepHook } from '../../core/middleware/spec.js';
import type { RunContext } from '../../core/runs.js';
import { applyWrites, normalizeWrites, type StateValues } from '../../core/state.js';
import { getCheckpoint, headOf, valuesAt } from '../../db/checkpoints.js';
import { appendRunEvents } from '../run-events.js';
import { insertGuardrailEvents } from '../../db/guardrails.js';
import { getThread } from '../../db/threads.js';
import { tasksFor } from '../checkpoints.js';
import { commitSteps, type StepCommit } from '../commit.js';
import type { ActivityDeps } from '../deps.js';
import { taskIdFor } from '../ids.js';
import { FiredLog, middlewareFailure } from './fired.js';

// One phase of step hooks (every middleware's before_model, say) = one activity. The hooks run in order on the
// thread's state; each that changes something becomes a checkpoint of its own, `<id>.<hook>`, and the phase's
// checkpoints commit in one transaction, so a crash re-runs the whole phase or none of it. Hooks may do I/O.
// Idempotency key: the checkpoint id of the phase's first step (derived from the run id and the step).

export interface RunHooksArgs {
  run: RunContext;
  head: ThreadHead;
  hook: StepHook;
  /** The middleware having this hook, in the order they run. */
  middleware: MiddlewareRef[];
  userId?: string;
  /**
   * The phase goes on from a hook that paused the thread (the head's next is its node): the first middleware is that
   * one, and its ctx.interrupt calls return these answers in order. Its step is checkpointed even if it changes
   * nothing, so the head leaves the hook node.
   */
  resume?: { answers: unknown[] };
}

export function createMiddlewareActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async runHooks(a: RunHooksArgs): Promise<ThreadHead> {
      const first = runCheckpointId(a.run.runId, stepSlot(a.head.step + 1));
      if (await getCheckpoint(db, a.run.threadId, first)) return currentHead(deps, a.run.threadId);
      return (await runPhase(deps, a, await valuesAt(deps.db, a.run.threadId, a.head.checkpointId))).head;
    },
  };
}

/**
 * Runs one phase on `state` (the values at `a.head`) and commits what changed; returns the new head and values.
 * A hook that interrupts ends the phase: what the hooks before it changed commits, and then a checkpoint whose
 * next is the hook's node and whose task holds the interrupt. The caller has checked that the phase did not commit
 * already (runHooks by its first checkpoint id, the model activity by where the thread's head stands).
 */
export async function runPhase(
  deps: ActivityDeps,
  a: RunHooksArgs,
  state: StateValues,
): Promise<{ head: ThreadHead; values: StateValues }> {
  const { db } = deps;
  const slot = (i: number) => runCheckpointId(a.run.runId, stepSlot(a.head.step + 1 + i));
  let values = state;
  let cur = a.head;
  const fired = new FiredLog(a.run);
  const commits: StepCommit[] = [];
  let reported = 0;
  for (const [i, ref] of a.middleware.entries()) {
    const answers = i === 0 ? a.resume?.answers : undefined;
    const outcome = await runOne(deps, a, ref, values, fired, answers ?? []);
    const node = hookNode(ref.id, a.hook);
    if ('interrupt' in outcome) {
      const paused = interruptStep(a, cur, slot(commits.length), node, outcome);
      commits.push({ ...paused, extraEvents: fired.eventsFrom(reported, paused.step) });
      reported = fired.all.length;
      cur = { checkpointId: paused.checkpointId, step: paused.step, next: paused.next, tasks: paused.tasks };
      break;
    }
    const result = outcome.result;
    if (!answers && (!result || (!result.update && !result.jumpTo))) continue;
    const writes = normalizeWrites(result?.update ?? {}, randomUUID);
    const after = applyWrites(values, writes);
    const next = nextAfterHook(a.hook, result?.jumpTo, after.messages ?? []);
    const checkpointId = slot(commits.length);
    commits.push({
      ...stepAfter(a, cur, checkpointId),
      node,
      writes,
      metadataWrites: { [node]: result?.jumpTo ? { ...writes, jump_to: result.jumpTo } : writes },
      next,
      tasks: tasksFor(checkpointId, next, after.messages ?? [], a.run.runId),
      taskId: taskIdFor(cur.checkpointId!, node, 0),
      emitValues: true,
      extraEvents: fired.eventsFrom(reported, cur.step + 1),
    });
    reported = fired.all.length;
    cur = { checkpointId, step: cur.step + 1, next, tasks: commits.at(-1)!.tasks };
    values = after;
    if (result?.jumpTo) break;
  }
  if (!commits.length) {
    await record(deps, a.run, fired, `${slot(0)}/${a.hook}`, a.head.step + 1);
    return { head: a.head, values };
  }
  const last = commits.at(-1)!;
  last.extraEvents = [...(last.extraEvents ?? []), ...fired.eventsFrom(reported, last.step)];
  const done = await commitSteps(db, commits, (q) => insertGuardrailEvents(q, fired.rows(slot(0))));
  return { head: cur, values: done.at(-1)!.values };
}

/** What every step of a phase shares: the next loop step of the run, on the phase's current head. */
const stepAfter = (a: RunHooksArgs, cur: ThreadHead, checkpointId: string) => ({
  threadId: a.run.threadId,
  run: a.run,
  expectedHead: cur.checkpointId,
  parentId: cur.checkpointId,
  checkpointId,
  step: cur.step + 1,
  source: 'loop' as const,
});

type HookOutcome = { result: HookResult | void } | { interrupt: unknown; answers: unknown[] };

/**
 * The checkpoint of a hook waiting on a person: no writes, the hook's node next, its task holding the interrupt
 * (ids derived from the checkpoint id, so a retried phase commits the same one) and the answers it had so far.
 */
function interruptStep(
  a: RunHooksArgs,
  cur: ThreadHead,
  checkpointId: string,
  node: string,
  o: { interrupt: unknown; answers: unknown[] },
): StepCommit {
  const task: HeadTask = {
    id: taskIdFor(checkpointId, node, 0),
    name: node,
    interrupts: [{ id: taskIdFor(checkpointId, node, 'interrupt'), value: o.interrupt }],
    interruptKind: InterruptKind.dynamic,
    ...(o.answers.length ? { resumes: o.answers } : {}),
    done: false,
  };
  return {
    ...stepAfter(a, cur, checkpointId),
    node: null,
    writes: null,
    metadataWrites: null,
    next: [node],
    tasks: [task],
    emitValues: false,
  };
}

async function runOne(
  deps: ActivityDeps,
  a: RunHooksArgs,
  ref: MiddlewareRef,
  state: StateValues,
  fired: FiredLog,
  answers: unknown[],
): Promise<HookOutcome> {
  const def = deps.middleware?.get(ref.name);
  const fn = def?.[stepHookKey[a.hook]!];
  if (!fn)
    throw ApplicationFailure.nonRetryable(
      `Middleware "${ref.name}" is not registered with this worker`,
      FailureType.middlewareNotRegistered,
    );
  // As LangGraph's interrupt(): the n-th call returns the n-th answer; a call past the answers pauses the thread.
  let asked = 0;
  const interrupt = <T>(value: unknown): T => {
    if (asked < answers.length) return answers[asked++] as T;
    throw new HookInterrupt(value);
  };
  try {
    const result = await fn.call(def, {
      id: ref.id,
      options: ref.options,
      run: a.run,
      state,
      callModel: (model: string, req: { system: string; messages: Message[] }) => callModel(deps, model, req),
      services: { db: deps.db, modelPrices: deps.modelPrices ?? {} },
      fire: fired.by(ref.id, a.hook),
      interrupt,
      ...(a.userId ? { userId: a.userId } : {}),
    });
    return { result };
  } catch (err) {
    if (err instanceof HookInterrupt) return { interrupt: err.value, answers };
    // What fired before a refusal is part of the record of why the run ended.
    await record(deps, a.run, fired, `${runCheckpointId(a.run.runId, stepSlot(a.head.step + 1))}/${a.hook}`, a.head.step + 1);
    throw middlewareFailure(err);
  }
}

/** A hook's own model call: no tools, no streaming (its text becomes state through the hook's update). */
async function callModel(deps: ActivityDeps, model: string, req: { system: string; messages: Message[] }): Promise<string> {
  const { provider, modelName } = deps.models(model);
  const signal = Context.current().cancellationSignal;
  const res = await provider.generate({ model: modelName, system: req.system, messages: req.messages, tools: [] }, () => undefined, signal);
  return messageText(res.content);
}

/** Guardrail records and events of a phase that wrote no checkpoint. */
async function record(deps: ActivityDeps, run: RunContext, fired: FiredLog, key: string, step: number): Promise<void> {
  if (!fired.all.length) return;
  await deps.db.tx(async (q) => {
    await insertGuardrailEvents(q, fired.rows(key));
    await appendRunEvents(q, run, fired.eventsFrom(0, step));
  });
}

async function currentHead(deps: ActivityDeps, threadId: string): Promise<ThreadHead> {
  const thread = await getThread(deps.db, threadId);
  const row = thread?.head_checkpoint_id ? await getCheckpoint(deps.db, threadId, thread.head_checkpoint_id) : undefined;
  if (!row) throw ApplicationFailure.nonRetryable(`Thread ${threadId} has no head`, FailureType.threadNotFound);
  return headOf(row);
}
