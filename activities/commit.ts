import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../core/failures.js';
import { interruptsByTask } from '../core/format.js';
import type { HeadTask, ThreadHead } from '../core/head.js';
import type { Message } from '../core/messages.js';
import type { RunContext } from '../core/runs.js';
import { applyWrites, type ChannelWrites, type StateValues } from '../core/state.js';
import { headOf, valuesAt, type NewCheckpoint } from '../db/checkpoints.js';
import type { NewEvent } from '../db/events.js';
import { appendRunEvents } from './run-events.js';
import type { Db, Queryable } from '../db/pool.js';
import { insertHeadCheckpoint, stepPreconditions, type StepRun } from '../db/steps.js';
import { lockThread, type ThreadRow } from '../db/threads.js';
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
 * Steps that must land together (a middleware phase, an input and the loop step applying it): all of them or none,
 * in one transaction. Each step after the first builds on the one before it: the thread is locked and its head was
 * moved there in this transaction, so nothing else can exist past it. Those skip the lock, the existence and run
 * checks; the last step of such a chain moves the thread's head and appends the events of all of them (in step
 * order) in its own insert statement.
 */
export async function commitSteps(db: Db, cs: StepCommit[], before?: (q: Queryable) => Promise<void>): Promise<CommitResult[]> {
  return db.tx(async (q) => {
    await before?.(q);
    return commitStepsIn(q, cs);
  });
}

/** Whether `next` builds on `c` alone, once `c` is written: same thread and run, parent and expected head `c`. */
const builds = (c: StepCommit, next: StepCommit | undefined): next is StepCommit =>
  !!next &&
  next.threadId === c.threadId &&
  next.run?.runId === c.run?.runId &&
  next.parentId === c.checkpointId &&
  next.expectedHead === next.parentId;

/**
 * What a caller that holds the thread's lock read under it: the thread's row and the run's status and metadata. It
 * also knows that the first step is not committed yet (it looked), so that step's commit reads nothing more.
 */
export interface LockedReads {
  thread: ThreadRow;
  run: StepRun | null;
}

/** commitSteps inside the caller's transaction. */
export async function commitStepsIn(q: Queryable, cs: StepCommit[], locked?: LockedReads): Promise<CommitResult[]> {
  const out: CommitResult[] = [];
  let chain: Chain | null = null;
  for (const [i, c] of cs.entries()) {
    const ends = !builds(c, cs[i + 1]);
    if (chain && out.at(-1)!.inserted && builds(cs[i - 1]!, c)) {
      out.push(await writeCheckpoint(q, c, out.at(-1)!.values, chain, ends));
      if (ends) chain = null;
      continue;
    }
    const first = await checkHead(q, c, i === 0 ? locked : undefined);
    if ('existing' in first) {
      chain = null;
      out.push(first.existing);
      continue;
    }
    const started: Chain = { runMeta: first.runMeta, events: [], rows: [] };
    out.push(await writeCheckpoint(q, c, first.parentValues, started, ends));
    chain = ends ? null : started;
  }
  return out;
}

/** A chain's steps so far: the run metadata they stamp, and their events and checkpoints, which its last step writes. */
interface Chain {
  runMeta: Record<string, unknown>;
  events: NewEvent[];
  rows: NewCheckpoint[];
}

/** commitStep inside the caller's transaction. */
export async function commitIn(q: Queryable, c: StepCommit): Promise<CommitResult> {
  return (await commitStepsIn(q, [c]))[0]!;
}

/** Locks the thread and finds the step already committed, or checks that it may be (head, run) and reads its parent's values. */
async function checkHead(
  q: Queryable,
  c: StepCommit,
  locked?: LockedReads,
): Promise<{ existing: CommitResult } | { parentValues: StateValues; runMeta: Record<string, unknown> }> {
  const thread = locked ? locked.thread : await lockThread(q, c.threadId);
  if (!thread) throw ApplicationFailure.nonRetryable(`Thread ${c.threadId} no longer exists`, FailureType.threadNotFound);
  const { existing, run } = locked
    ? { existing: null, run: locked.run }
    : await stepPreconditions(q, c.threadId, c.checkpointId, c.run?.runId ?? null);
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
 * Writes the checkpoint when it `ends` its chain: with the chain's earlier checkpoints, it moves the thread's head to
 * it and appends the events of all of them, in one statement. An earlier step only joins the chain (its checkpoint
 * and events wait for the last). Returns its result.
 */
async function writeCheckpoint(q: Queryable, c: StepCommit, parentValues: StateValues, chain: Chain, ends: boolean): Promise<CommitResult> {
  const values = applyWrites(parentValues, c.writes);
  const metadata = { ...chain.runMeta, source: c.source, step: c.step, parents: {}, writes: c.metadataWrites };
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
  const result = { head: { checkpointId: c.checkpointId, step: c.step, next: c.next, tasks: c.tasks }, values, inserted: true };
  chain.events.push(...events);
  if (!ends) {
    chain.rows.push(row);
    return result;
  }
  const all = chain.events;
  // A subagent's events are also copied to its parent's log (appendRunEvents): those go the longer way.
  const own = c.run && !c.run.parent ? { runId: c.run.runId, events: all } : undefined;
  await insertHeadCheckpoint(q, row, { values, interrupts: interruptsByTask(c.tasks) }, own, chain.rows);
  if (c.run && !own && all.length) await appendRunEvents(q, c.run, all);
  return result;
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
