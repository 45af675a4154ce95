import { ApplicationFailure, patched } from '@temporalio/workflow';
import { FailureType } from '../core/failures.js';
import { hookNode, inHookOrder, type StepHook } from '../core/middleware/spec.js';
import type { RunContext, RunSpec } from '../core/runs.js';
import { hooks } from './activities.js';
import { Patch } from './patches.js';
import type { ThreadCore } from './run.js';

// A middleware phase as the run workflow sees it: when some middleware of the run has this hook, one activity runs
// them all in order and commits a checkpoint per hook that changed something. The head it returns says where the
// graph goes next (a jump to `end` leaves nothing next). Runs without middleware take no step and no patch.

export async function runHookPhase(t: ThreadCore, spec: RunSpec, run: RunContext, hook: StepHook): Promise<boolean> {
  const middleware = inHookOrder(spec.agent.middleware, hook);
  if (!middleware.length || !patched(Patch.middleware)) return false;
  t.head = await hooks.runHooks({ run, head: t.head, hook, middleware, ...(spec.agent.userId ? { userId: spec.agent.userId } : {}) });
  return true;
}

/**
 * The head waits on a hook node (`<id>.<hook>`, Patch.hookInterrupts): the phase runs again from that middleware,
 * its ctx.interrupt calls answered by `answers` (earlier answers first), and the graph goes on along the phase's edges.
 */
export async function resumeHookPhase(t: ThreadCore, spec: RunSpec, run: RunContext, hook: StepHook, answers: unknown[]): Promise<void> {
  const node = t.head.next[0]!;
  const all = inHookOrder(spec.agent.middleware, hook);
  const from = all.findIndex((m) => hookNode(m.id, hook) === node);
  if (from < 0) {
    throw ApplicationFailure.nonRetryable(
      `The thread waits on "${node}", which is not a middleware of this run.`,
      FailureType.invalidGraphState,
    );
  }
  const userId = spec.agent.userId;
  t.head = await hooks.runHooks({
    run,
    head: t.head,
    hook,
    middleware: all.slice(from),
    resume: { answers },
    ...(userId ? { userId } : {}),
  });
}
