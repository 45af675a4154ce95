import { ApplicationFailure } from '@temporalio/common';
import { Node } from '../../core/engine.js';
import { FailureType } from '../../core/failures.js';
import type { ThreadHead } from '../../core/head.js';
import { modelMessageId, runCheckpointId, stepSlot } from '../../core/ids.js';
import type { Message } from '../../core/messages.js';
import { hookOfNode } from '../../core/middleware/edges.js';
import { inHookOrder, StepHook } from '../../core/middleware/spec.js';
import type { StateValues } from '../../core/state.js';
import { getCheckpoint, headOf, valuesAt } from '../../db/checkpoints.js';
import { getThread } from '../../db/threads.js';
import type { CommitResult } from '../commit.js';
import type { Patience } from '../db-wait.js';
import type { ActivityDeps } from '../deps.js';
import type { CallModelArgs } from '../model.js';
import { runPhase } from './index.js';

// A model step with its hook phases in one activity (Patch.hooksInModel): before_model, the turn, after_model,
// and after_agent when nothing comes next. Each phase still commits its own checkpoints (`<id>.before_model`, ...)
// in one transaction, as the hook activity did, but the run pays one activity per step instead of one plus a
// local activity per phase, and no phase reads back the state the one before it just wrote.
// Idempotency key: the checkpoints after the workflow's head. A retried attempt reads where the thread's head
// stands and goes on from the first phase that has not committed (a phase that changed nothing runs again, as a
// retried hook activity does); every commit keeps its checkpoint id, so a write that landed is found, not redone.

type Stage = 'before' | 'model' | 'after' | 'end' | 'done';
/** What is left when the head is a checkpoint of this hook (before_agent never follows the workflow's head). */
const stageAfter: Partial<Record<StepHook, Stage>> = { before_model: 'model', after_model: 'end', after_agent: 'done' };

interface Position {
  stage: Stage;
  head: ThreadHead;
  values: StateValues;
}

export type ModelTurn = (a: CallModelArgs, messages: Message[]) => Promise<CommitResult>;

export async function modelStepWithHooks(deps: ActivityDeps, a: CallModelArgs, wait: Patience, turn: ModelTurn): Promise<ThreadHead> {
  const { run } = a;
  const phase = (hook: StepHook, p: { head: ThreadHead; values: StateValues }) => {
    const middleware = inHookOrder(a.agent.middleware, hook);
    if (!middleware.length) return p;
    const userId = a.agent.userId;
    return wait(() => runPhase(deps, { run, head: p.head, hook, middleware, ...(userId ? { userId } : {}) }, p.values));
  };
  let { stage, ...at } = await wait(() => position(deps, a));
  // The workflow ran before_model itself when it resumed that phase after a hook's interrupt.
  if (stage === 'before' && a.skipBeforeModel) stage = 'model';
  if (stage === 'before') {
    at = await phase(StepHook.beforeModel, at);
    // A jump (a limit ending the run) skips the model.
    stage = at.head.next[0] === Node.agent ? 'model' : 'end';
  }
  if (stage === 'model') {
    const step = at.head.step + 1;
    const checkpointId = runCheckpointId(run.runId, stepSlot(step));
    const done = await turn({ ...a, head: at.head, checkpointId, messageId: modelMessageId(run.runId, step) }, at.values.messages ?? []);
    at = { head: done.head, values: done.values };
    stage = 'after';
  }
  if (stage === 'after') at = await phase(StepHook.afterModel, at);
  // The graph ends here: the workflow leaves after_agent to this step (it closes the invocation).
  if (stage !== 'done' && !at.head.next.length) at = await phase(StepHook.afterAgent, at);
  return at.head;
}

/** Which phases of this step have committed, from the thread's head: only this run writes to a busy thread. */
async function position(deps: ActivityDeps, a: CallModelArgs): Promise<Position> {
  const { threadId, runId } = a.run;
  const thread = await getThread(deps.db, threadId);
  if (!thread) throw ApplicationFailure.nonRetryable(`Thread ${threadId} no longer exists`, FailureType.threadNotFound);
  const headId = thread.head_checkpoint_id ?? null;
  const values = thread.values ?? (await valuesAt(deps.db, threadId, headId));
  if (headId === a.head.checkpointId) return { stage: 'before', head: a.head, values };
  const row = headId ? await getCheckpoint(deps.db, threadId, headId) : undefined;
  const node = Object.keys((row?.metadata.writes as Record<string, unknown> | null) ?? {})[0] ?? '';
  const hook = hookOfNode(node);
  // A hook of this step paused the thread: nothing more runs until a person answers.
  const paused = row?.next.length === 1 && hookOfNode(row.next[0]!) !== undefined;
  const stage = paused ? 'done' : node === Node.agent ? 'after' : hook ? stageAfter[hook] : undefined;
  if (!row || row.run_id !== runId || row.step <= a.head.step || !stage) {
    throw ApplicationFailure.nonRetryable(
      `Thread head moved to ${headId} while this step expected ${a.head.checkpointId}`,
      FailureType.staleHead,
    );
  }
  const head = headOf(row);
  // A before_model phase that jumped away from the model left nothing for the turn to do.
  return { stage: stage === 'model' && head.next[0] !== Node.agent ? 'end' : stage, head, values };
}
