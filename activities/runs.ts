import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../core/failures.js';
import { interruptsByTask } from '../core/format.js';
import { emptyHead, pendingInterrupts, threadStatusAfter, type ThreadHead } from '../core/head.js';
import type { RunContext, RunSpec, RunStatus, ThreadStatus } from '../core/runs.js';
import { deleteRunCheckpoints, getCheckpoint, readHead, valuesAt } from '../db/checkpoints.js';
import { admitRun, claimIn, claimRun, type Claim } from '../db/admission.js';
import { appendEvents, END_EVENT, type NewEvent } from '../db/events.js';
import type { Db, Queryable } from '../db/pool.js';
import {
  activeRuns,
  deleteRun,
  endedBeforeRollback,
  endRun,
  getRun,
  getRunInternals,
  markRunEnded,
  markRunStarted,
  runStatusAndOthers,
} from '../db/runs.js';
import { deleteThreadRow, lockThread, setThreadHead, setThreadStatus, setThreadStatusIfBusy } from '../db/threads.js';
import type { ActivityDeps } from './deps.js';
import { commitInputIn } from './checkpoints.js';
import { interruptEvents } from './stream-events.js';

// Local activities for the run lifecycle: admit, start, finish, cancel, roll back, reconcile. Idempotency key: the
// run id (each write is a no-op when the run is already in the state it moves it to), so a workflow task that
// fails after one of them committed can run it again.

export interface RunError {
  error: string;
  message: string;
}

export interface RunEnd {
  head: ThreadHead;
  threadStatus: ThreadStatus;
  /** The thread was deleted under the run: its workflow has nothing left to do. */
  threadGone?: boolean;
}

const orphaned: RunError = {
  error: 'RunOrphaned',
  message: "The thread's workflow ended (it was terminated) while this run was running; the run did not finish.",
};

export function createRunActivities({ db }: ActivityDeps) {
  return {
    /** The run loop's half of admission (see admitRun): idempotent, and false when the request is gone. */
    async recordRun(a: { spec: RunSpec }): Promise<boolean> {
      const { runId, threadId, graphId, assistantId } = a.spec;
      return (await admitRun(db, { runId, threadId, graphId, assistantId })) !== undefined;
    },

    /** The thread workflow's admission of a run (see claimRun): idempotent, and tells a deleted thread apart. */
    async claimRun(a: { threadId: string; runId: string; spec: RunSpec | null }): Promise<Claim> {
      return claimRun(db, a);
    },

    /** Moves a pending run to running from the stored head, which it returns (rollback returns to it). */
    async startRun(a: { runId: string; threadId: string }): Promise<{ head: ThreadHead } | null> {
      return db.tx(async (q) => {
        if (!(await lockThread(q, a.threadId))) return null;
        const head = await readHead(q, a.threadId);
        if (await markRunStarted(q, a.runId, head.checkpointId)) await setThreadStatus(q, a.threadId, 'busy');
        return { head };
      });
    },

    /**
     * startRun and commitInput in one transaction (Patch.beginRun): the run starts from the stored head and its input
     * lands on it (on `checkpointId` instead when it travels back). Idempotency key: the run id and the loop checkpoint id.
     */
    async beginRun(a: { run: RunContext; checkpointId: string | null; ids: [string, string] }): Promise<ThreadHead> {
      return db.tx(async (q) => {
        if (!(await lockThread(q, a.run.threadId)))
          throw ApplicationFailure.nonRetryable(`Thread ${a.run.threadId} no longer exists`, FailureType.threadNotFound);
        const head = await readHead(q, a.run.threadId);
        if (await markRunStarted(q, a.run.runId, head.checkpointId)) await setThreadStatus(q, a.run.threadId, 'busy');
        const base = a.checkpointId ?? head.checkpointId;
        return commitInputIn(q, { run: a.run, expectedHead: head.checkpointId, baseCheckpointId: base, ids: a.ids });
      });
    },

    /**
     * claimRun and beginRun in one transaction (Patch.admitBegin), for a run admitted on an idle thread that starts at
     * once: recorded, started and its input committed. Idempotency key: the run id and the loop checkpoint id (each
     * part finds its own earlier commit). A claim that records nothing returns without beginning.
     */
    async claimAndBeginRun(a: {
      run: RunContext;
      spec: RunSpec;
      checkpointId: string | null;
      ids: [string, string];
    }): Promise<{ claim: Claim; head?: ThreadHead }> {
      return db.tx(async (q) => {
        const { claim, claimed } = await claimIn(q, { threadId: a.run.threadId, runId: a.run.runId, spec: a.spec }, true);
        if (claim.outcome !== 'recorded' || !claimed) return { claim };
        // The claim marked the thread busy, read the head under its lock and (recording the run now) started it.
        const from = claim.head.checkpointId;
        const started = claimed.started || (await markRunStarted(q, a.run.runId, from));
        const run = started ? { ...claimed.run, status: 'running' as const } : claimed.run;
        const input = { run: a.run, expectedHead: from, baseCheckpointId: a.checkpointId ?? from, ids: a.ids };
        const head = await commitInputIn(q, input, { thread: claimed.thread, head: claim.head, run });
        return { claim, head };
      });
    },

    /**
     * Ends a run: its status, the thread's status, the interrupt chunk when it stopped at one, an `error` event
     * when it failed, then the end marker. Returns the stored head, which is authoritative after a cancellation.
     */
    async finishRun(a: { run: RunContext; status: RunStatus; error: RunError | null; queued: number }): Promise<RunEnd> {
      return db.tx(async (q) => {
        if (!(await lockThread(q, a.run.threadId))) return { head: emptyHead(), threadStatus: 'idle', threadGone: true };
        const head = await readHead(q, a.run.threadId);
        return { head, threadStatus: await finishRunIn(q, a, head) };
      });
    },

    /**
     * Rollback: the run, its events and its checkpoints go; the thread returns to where the run began. A run that had
     * ended before the rollback was asked for stays (`kept`).
     */
    async rollbackRun(a: {
      runId: string;
      threadId: string;
      queued: number;
    }): Promise<{ head: ThreadHead; threadStatus: ThreadStatus; kept?: true }> {
      return db.tx(async (q) => {
        await lockThread(q, a.threadId);
        const run = await getRunInternals(q, a.runId);
        // A run whose last turn ended it before any rollback was asked for finished (its waiters had their answer):
        // the workflow hears of that end only later, and a rollback asked for after it leaves it alone.
        const kept = !!run && (await endedBeforeRollback(q, a.runId));
        if (run && !kept) {
          const restore = run.started_at ? run.checkpoint_before : undefined;
          await deleteRunCheckpoints(q, a.threadId, a.runId);
          if (restore !== undefined) {
            const values = restore ? await valuesAt(q, a.threadId, restore) : null;
            const tasks = restore ? ((await getCheckpoint(q, a.threadId, restore))?.tasks ?? []) : [];
            await setThreadHead(q, a.threadId, { checkpointId: restore, values, interrupts: interruptsByTask(tasks) });
          }
          await deleteRun(q, a.runId);
        }
        const head = await readHead(q, a.threadId);
        const threadStatus = threadStatusAfter(head, a.queued, false);
        await setThreadStatus(q, a.threadId, threadStatus);
        return kept ? { head, threadStatus, kept } : { head, threadStatus };
      });
    },

    /**
     * A run cancelled before it started ends `interrupted` (or is deleted, for rollback) without running. When no
     * other run is queued (`queued` 0), a thread left busy by it returns to the status of its head, which is returned.
     */
    async cancelQueuedRun(a: {
      run: RunContext;
      action: 'interrupt' | 'rollback';
      queued?: number;
    }): Promise<{ threadStatus: ThreadStatus } | null> {
      return db.tx(async (q) => {
        if (a.action === 'rollback') await deleteRun(q, a.run.runId);
        else if ((await getRun(q, a.run.runId))?.status === 'pending') {
          await markRunEnded(q, a.run.runId, 'interrupted', null);
          await appendEvents(q, a.run.runId, [{ event: END_EVENT, data: { status: 'interrupted' } }]);
        }
        if (a.queued !== 0) return null;
        const status = threadStatusAfter(await readHead(q, a.run.threadId), 0, false);
        return (await setThreadStatusIfBusy(q, a.run.threadId, status)) ? { threadStatus: status } : null;
      });
    },

    /**
     * A thread workflow started where the database holds pending or running runs (its predecessor was terminated):
     * runs that were running end as errors, pending ones are adopted (returned, oldest first) unless they have no
     * stored spec to run from. The thread's status follows.
     */
    async reconcileThread(a: { threadId: string; known: string[] }): Promise<{ adopt: string[]; threadStatus: ThreadStatus | null }> {
      return db.tx(async (q) => {
        const thread = await lockThread(q, a.threadId);
        if (!thread) return { adopt: [], threadStatus: null };
        const head = await readHead(q, a.threadId);
        const runs = (await activeRuns(q, a.threadId)).filter((r) => !a.known.includes(r.run_id));
        if (runs.length === 0) return { adopt: [], threadStatus: thread.status };
        const adopt = runs.filter((r) => r.status === 'pending' && r.has_spec).map((r) => r.run_id);
        const ended = runs.filter((r) => !adopt.includes(r.run_id));
        for (const r of ended) await endOrphan(q, r.run_id, head.checkpointId);
        const threadStatus = adopt.length ? 'busy' : threadStatusAfter(head, 0, ended.length > 0);
        await setThreadStatus(q, a.threadId, threadStatus, adopt.length || !ended.length ? null : orphaned);
        return { adopt, threadStatus };
      });
    },

    /** A stateless run's temporary thread, with everything under it. */
    async deleteThreadData(a: { threadId: string }): Promise<void> {
      await deleteThreadRow(db, a.threadId);
    },
  };
}

/**
 * A run's end inside the caller's transaction (which holds the thread's lock), at `head`: its status, the thread's
 * status, the interrupt chunk when it stopped at one, an `error` event when it failed, then the end marker. A run
 * that ended already (a retry) only has the thread's status set again. Returns that status.
 */
export async function finishRunIn(
  q: Queryable,
  a: { run: RunContext; status: RunStatus; error: RunError | null; queued: number },
  head: ThreadHead,
  /** The run's stored status (null: gone) when the caller read it already under the lock. */
  stored?: RunStatus | null,
): Promise<ThreadStatus> {
  const current = stored === undefined ? ((await getRun(q, a.run.runId))?.status ?? null) : stored;
  const threadStatus = threadStatusAfter(head, a.queued, a.status === 'error');
  if (current !== 'pending' && current !== 'running') {
    await setThreadStatus(q, a.run.threadId, threadStatus, a.error);
    return threadStatus;
  }
  const events: NewEvent[] = [];
  const stopped = a.status === 'success' && head.next.length > 0;
  const interrupts = stopped ? pendingInterrupts(head).map(({ id, value }) => ({ id, value })) : null;
  if (interrupts) events.push(...interruptEvents(a.run, interrupts));
  if (a.error) events.push({ event: 'error', data: a.error });
  // The end marker tells waiting callers the outcome, and which checkpoint holds the run's final state.
  events.push({ event: END_EVENT, data: { status: a.status, error: a.error, checkpoint_id: head.checkpointId, interrupts } });
  await endRun(q, {
    runId: a.run.runId,
    status: a.status,
    error: a.error,
    events,
    threadId: a.run.threadId,
    threadStatus,
    threadError: a.error,
  });
  return threadStatus;
}

/** The run's end after a turn that ended the graph: the runs still pending or running on the thread keep it busy. */
export async function finishAtEnd(db: Db, run: RunContext, head: ThreadHead): Promise<ThreadStatus> {
  return db.tx(async (q) => {
    if (!(await lockThread(q, run.threadId)))
      throw ApplicationFailure.nonRetryable(`Thread ${run.threadId} no longer exists`, FailureType.threadNotFound);
    return finishAtEndIn(q, run, head);
  });
}

/** finishAtEnd inside the caller's transaction, which holds the thread's lock (the turn's own commit took it). */
export async function finishAtEndIn(q: Queryable, run: RunContext, head: ThreadHead): Promise<ThreadStatus> {
  const { status, others } = await runStatusAndOthers(q, run.threadId, run.runId);
  return finishRunIn(q, { run, status: 'success', error: null, queued: others }, head, status);
}

async function endOrphan(q: Queryable, runId: string, checkpointId: string | null): Promise<void> {
  await markRunEnded(q, runId, 'error', orphaned);
  await appendEvents(q, runId, [
    { event: 'error', data: orphaned },
    { event: END_EVENT, data: { status: 'error', error: orphaned, checkpoint_id: checkpointId, interrupts: null } },
  ]);
}
