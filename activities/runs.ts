import { interruptsByTask } from '../core/format.js';
import { pendingInterrupts, threadStatusAfter, type ThreadHead } from '../core/head.js';
import type { RunContext, RunSpec, RunStatus, ThreadStatus } from '../core/runs.js';
import { deleteRunCheckpoints, getCheckpoint, readHead, valuesAt } from '../db/checkpoints.js';
import { admitRun } from '../db/admission.js';
import { appendEvents, END_EVENT, type NewEvent } from '../db/events.js';
import { deleteRun, getRun, getRunInternals, markRunEnded, markRunStarted } from '../db/runs.js';
import { deleteThreadRow, lockThread, setThreadHead, setThreadStatus } from '../db/threads.js';
import type { ActivityDeps } from './deps.js';
import { interruptEvents } from './stream-events.js';

// Local activities for the run lifecycle: admit, start, finish, cancel, roll back. Idempotency key: the run id
// (each write is a no-op when the run is already in the state it moves it to).

export interface RunError {
  error: string;
  message: string;
}

export function createRunActivities({ db }: ActivityDeps) {
  return {
    /** The run loop's half of admission (see admitRun): idempotent, and false when the request is gone. */
    async recordRun(a: { spec: RunSpec }): Promise<boolean> {
      const { runId, threadId, graphId, assistantId } = a.spec;
      return (await admitRun(db, { runId, threadId, graphId, assistantId })) !== undefined;
    },

    async startRun(a: { runId: string; threadId: string; checkpointBefore: string | null }): Promise<void> {
      await db.tx(async (q) => {
        await markRunStarted(q, a.runId, a.checkpointBefore);
        await setThreadStatus(q, a.threadId, 'busy');
      });
    },

    /**
     * Ends a run: its status, the thread's status, the interrupt chunk when it stopped at one, an `error` event
     * when it failed, then the end marker. Returns the stored head, which is authoritative after a cancellation.
     */
    async finishRun(a: {
      run: RunContext;
      status: RunStatus;
      error: RunError | null;
      queued: number;
    }): Promise<{ head: ThreadHead; threadStatus: ThreadStatus }> {
      return db.tx(async (q) => {
        const head = await readHead(q, a.run.threadId);
        const current = await getRun(q, a.run.runId);
        if (current && (current.status === 'pending' || current.status === 'running')) {
          const events: NewEvent[] = [];
          const stopped = a.status === 'success' && head.next.length > 0;
          const interrupts = stopped ? pendingInterrupts(head).map(({ id, value }) => ({ id, value })) : null;
          if (interrupts) events.push(...interruptEvents(a.run, interrupts));
          if (a.error) events.push({ event: 'error', data: a.error });
          // The end marker tells waiting callers the outcome, and which checkpoint holds the run's final state.
          events.push({ event: END_EVENT, data: { status: a.status, error: a.error, checkpoint_id: head.checkpointId, interrupts } });
          await markRunEnded(q, a.run.runId, a.status, a.error);
          await appendEvents(q, a.run.runId, events);
        }
        const threadStatus = threadStatusAfter(head, a.queued, a.status === 'error');
        await setThreadStatus(q, a.run.threadId, threadStatus, a.error);
        return { head, threadStatus };
      });
    },

    /** Rollback: the run, its events and its checkpoints go; the thread returns to where the run began. */
    async rollbackRun(a: { runId: string; threadId: string; queued: number }): Promise<{ head: ThreadHead; threadStatus: ThreadStatus }> {
      return db.tx(async (q) => {
        await lockThread(q, a.threadId);
        const run = await getRunInternals(q, a.runId);
        if (run) {
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
        return { head, threadStatus };
      });
    },

    /** A run cancelled before it started ends `interrupted` (or is deleted, for rollback) without running. */
    async cancelQueuedRun(a: { run: RunContext; action: 'interrupt' | 'rollback' }): Promise<void> {
      await db.tx(async (q) => {
        if (a.action === 'rollback') {
          await deleteRun(q, a.run.runId);
          return;
        }
        const current = await getRun(q, a.run.runId);
        if (current?.status !== 'pending') return;
        await markRunEnded(q, a.run.runId, 'interrupted', null);
        await appendEvents(q, a.run.runId, [{ event: END_EVENT, data: { status: 'interrupted' } }]);
      });
    },

    /** A stateless run's temporary thread, with everything under it. */
    async deleteThreadData(a: { threadId: string }): Promise<void> {
      await deleteThreadRow(db, a.threadId);
    },
  };
}
