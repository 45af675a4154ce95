import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../core/failures.js';
import { interruptsByTask } from '../core/format.js';
import type { HeadTask, ThreadHead } from '../core/head.js';
import type { Message } from '../core/messages.js';
import type { RunContext } from '../core/runs.js';
import { applyWrites, type ChannelWrites, type StateValues } from '../core/state.js';
import { headOf, valuesAt } from '../db/checkpoints.js';
import { insertHeadCheckpoint, stepPreconditions, type StepRun } from '../db/steps.js';
import type { NewEvent } from '../db/events.js';
import { appendRunEvents } from './run-events.js';
import type { Db, Queryable } from '../db/pool.js';
import { lockThread } from '../db/threads.js';
import { stepEvents } from './stream-events.js';

// Every change of a thread's state goes through commitStep: one transaction that locks the thread, checks the
// head the workflow expects, writes the checkpoint, moves the head and appends the step's events.
// The checkpoint id comes from the workflow, so a retried activity finds its checkpoint and changes nothing.

export interface StepCommit {
  threadId: string;
  run: RunContext | null;
  /** The head the workflow believes in; the commit fails if the thread moved elsewhere. */
  expectedHead: string | null;
  parentId: string | null;
  checkpointId: string;
  step: number;
  source: 'input' | 'loop' | 'update' | 'fork';
  node: string | null;
  writes: ChannelWrites | null;
  /** Node-level writes recorded in checkpoint metadata (`{agent: {...}}`). */
  metadataWrites: Record<string, unknown> | null;
  next: string[];
  tasks: HeadTask[];
  completedMessages?: Message[];
  taskId?: string | null;
  emitValues: boolean;
  extraEvents?: NewEvent[];
}

export interface CommitResult {
  head: ThreadHead;
  values: StateValues;
  inserted: boolean;
}

export async function commitStep(db: Db, c: StepCommit): Promise<CommitResult> {
  return db.tx((q) => commitIn(q, c));
}

/** Steps that must land together (a middleware phase): all of them or none, in one transaction. */
export async function commitSteps(db: Db, cs: StepCommit[], before?: (q: Queryable) => Promise<void>): Promise<CommitResult[]> {
  return db.tx(async (q) => {
    await before?.(q);
    const out: CommitResult[] = [];
    for (const c of cs) out.push(await commitIn(q, c));
    return out;
  });
}

/** commitStep inside the caller's transaction. */
export async function commitIn(q: Queryable, c: StepCommit): Promise<CommitResult> {
  {
    const thread = await lockThread(q, c.threadId);
    if (!thread) throw ApplicationFailure.nonRetryable(`Thread ${c.threadId} no longer exists`, FailureType.threadNotFound);
    const { existing, run } = await stepPreconditions(q, c.threadId, c.checkpointId, c.run?.runId ?? null);
    if (existing) return { head: headOf(existing), values: thread.values ?? {}, inserted: false };
    if ((thread.head_checkpoint_id ?? null) !== c.expectedHead) {
      throw ApplicationFailure.nonRetryable(
        `Thread head moved to ${thread.head_checkpoint_id} while this step expected ${c.expectedHead}`,
        FailureType.staleHead,
      );
    }
    const runMeta = c.run ? activeRunMetadata(run, c.run) : {};
    const parentValues =
      c.parentId === null
        ? {}
        : c.parentId === thread.head_checkpoint_id
          ? (thread.values ?? {})
          : await valuesAt(q, c.threadId, c.parentId);
    const values = applyWrites(parentValues, c.writes);
    const metadata = { ...runMeta, source: c.source, step: c.step, parents: {}, writes: c.metadataWrites };
    await insertHeadCheckpoint(
      q,
      {
        thread_id: c.threadId,
        checkpoint_id: c.checkpointId,
        parent_checkpoint_id: c.parentId,
        run_id: c.run?.runId ?? null,
        step: c.step,
        source: c.source,
        writes: c.writes,
        next: c.next,
        tasks: c.tasks,
        metadata,
      },
      { values, interrupts: interruptsByTask(c.tasks) },
    );
    if (c.run) {
      const events = stepEvents({
        run: c.run,
        node: c.node,
        step: c.step,
        checkpointId: c.checkpointId,
        parentId: c.parentId,
        values,
        update: c.node && c.metadataWrites ? ((c.metadataWrites[c.node] as Record<string, unknown>) ?? null) : null,
        metadata,
        next: c.next,
        tasks: c.tasks,
        completedMessages: c.completedMessages ?? [],
        taskId: c.taskId ?? null,
        emitValues: c.emitValues,
      });
      await appendRunEvents(q, c.run, [...(c.extraEvents ?? []), ...events]);
    }
    return { head: { checkpointId: c.checkpointId, step: c.step, next: c.next, tasks: c.tasks }, values, inserted: true };
  }
}

/** Run metadata stamped on checkpoints; a run that was cancelled meanwhile may not write any more steps. */
function activeRunMetadata(row: StepRun | null, run: RunContext): Record<string, unknown> {
  if (!row || row.status !== 'running') {
    throw ApplicationFailure.nonRetryable(`Run ${run.runId} is no longer running`, FailureType.runNotActive);
  }
  return {
    ...row.metadata,
    graph_id: run.graphId,
    assistant_id: run.assistantId,
    run_id: run.runId,
    thread_id: run.threadId,
    run_attempt: 1,
  };
}
