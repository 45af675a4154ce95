import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../core/failures.js';
import { interruptsByTask } from '../core/format.js';
import type { HeadTask, ThreadHead } from '../core/head.js';
import type { Message } from '../core/messages.js';
import type { RunContext } from '../core/runs.js';
import { applyWrites, type ChannelWrites, type StateValues } from '../core/state.js';
import { headOf, insertCheckpoint, valuesAt, type NewCheckpoint } from '../db/checkpoints.js';
import type { NewEvent } from '../db/events.js';
import { appendRunEvents } from './run-events.js';
import type { Db, Queryable } from '../db/pool.js';
import { insertHeadCheckpoint, stepPreconditions, type StepRun } from '../db/steps.js';
import { lockThread, setThreadHead } from '../db/threads.js';
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

/**
 * Steps that must land together (a middleware phase): all of them or none, in one transaction. Each step after
 * the first builds on the one before it: the thread is locked and its head was moved there in this transaction,
 * so nothing else can exist past it. Those skip the lock, the existence and run checks, and the thread row and
 * the run's events are written once, for the last step (the events in step order).
 */
export async function commitSteps(db: Db, cs: StepCommit[], before?: (q: Queryable) => Promise<void>): Promise<CommitResult[]> {
  return db.tx(async (q) => {
    await before?.(q);
    const out: CommitResult[] = [];
    let chain: { runMeta: Record<string, unknown>; events: NewEvent[] } | null = null;
    for (const c of cs) {
      const [prev, last] = [out.at(-1), cs[out.length - 1]];
      const sameRun = last?.threadId === c.threadId && last.run?.runId === c.run?.runId;
      if (chain && sameRun && prev?.inserted && c.parentId === prev.head.checkpointId && c.expectedHead === c.parentId) {
        const w = await writeCheckpoint(q, c, prev.values, chain.runMeta);
        chain.events.push(...w.events);
        out.push(w.result);
        continue;
      }
      if (chain) await finishChain(q, cs[out.length - 1]!, out.at(-1)!, chain.events);
      const first = await checkHead(q, c);
      if ('existing' in first) {
        chain = null;
        out.push(first.existing);
        continue;
      }
      const w = await writeCheckpoint(q, c, first.parentValues, first.runMeta);
      chain = { runMeta: first.runMeta, events: w.events };
      out.push(w.result);
    }
    if (chain) await finishChain(q, cs[out.length - 1]!, out.at(-1)!, chain.events);
    return out;
  });
}

/** commitStep inside the caller's transaction. */
export async function commitIn(q: Queryable, c: StepCommit): Promise<CommitResult> {
  const first = await checkHead(q, c);
  if ('existing' in first) return first.existing;
  // One step alone: the checkpoint insert and the head move are one statement.
  const w = await writeCheckpoint(q, c, first.parentValues, first.runMeta, true);
  if (c.run && w.events.length) await appendRunEvents(q, c.run, w.events);
  return w.result;
}

/** Locks the thread and finds the step already committed, or checks that it may be (head, run) and reads its parent's values. */
async function checkHead(
  q: Queryable,
  c: StepCommit,
): Promise<{ existing: CommitResult } | { parentValues: StateValues; runMeta: Record<string, unknown> }> {
  const thread = await lockThread(q, c.threadId);
  if (!thread) throw ApplicationFailure.nonRetryable(`Thread ${c.threadId} no longer exists`, FailureType.threadNotFound);
  const { existing, run } = await stepPreconditions(q, c.threadId, c.checkpointId, c.run?.runId ?? null);
  if (existing) return { existing: { head: headOf(existing), values: thread.values ?? {}, inserted: false } };
  if ((thread.head_checkpoint_id ?? null) !== c.expectedHead) {
    throw ApplicationFailure.nonRetryable(
      `Thread head moved to ${thread.head_checkpoint_id} while this step expected ${c.expectedHead}`,
      FailureType.staleHead,
    );
  }
  const runMeta = c.run ? activeRunMetadata(run, c.run) : {};
  const parentValues =
    c.parentId === null ? {} : c.parentId === thread.head_checkpoint_id ? (thread.values ?? {}) : await valuesAt(q, c.threadId, c.parentId);
  return { parentValues, runMeta };
}

/**
 * Inserts the checkpoint (with `moveHead`, also moving the thread's head to it, in the same statement); returns its
 * result and the run events it makes (the caller appends them).
 */
async function writeCheckpoint(
  q: Queryable,
  c: StepCommit,
  parentValues: StateValues,
  runMeta: Record<string, unknown>,
  moveHead = false,
): Promise<{ result: CommitResult; events: NewEvent[] }> {
  const values = applyWrites(parentValues, c.writes);
  const metadata = { ...runMeta, source: c.source, step: c.step, parents: {}, writes: c.metadataWrites };
  const row: NewCheckpoint = {
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
  };
  if (moveHead) await insertHeadCheckpoint(q, row, { values, interrupts: interruptsByTask(c.tasks) });
  else await insertCheckpoint(q, row);
  const events = c.run
    ? [
        ...(c.extraEvents ?? []),
        ...stepEvents({
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
        }),
      ]
    : [];
  return { result: { head: { checkpointId: c.checkpointId, step: c.step, next: c.next, tasks: c.tasks }, values, inserted: true }, events };
}

/** Moves the thread's head to the last step written and appends the run's events of the steps. */
async function finishChain(q: Queryable, last: StepCommit, result: CommitResult, events: NewEvent[]): Promise<void> {
  await setThreadHead(q, last.threadId, {
    checkpointId: last.checkpointId,
    values: result.values,
    interrupts: interruptsByTask(last.tasks),
  });
  if (last.run && events.length) await appendRunEvents(q, last.run, events);
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
