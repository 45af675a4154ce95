import { WorkflowNotFoundError } from '@temporalio/client';
import type { CancelAction } from '../../core/runs.js';
import { appendEvents, END_EVENT } from '../../db/events.js';
import { listRuns, markRunEnded } from '../../db/runs.js';
import { cancelRuns as cancelRunsUpdate, threadWorkflowId } from '../../workflows/messages.js';
import type { RunDeps } from '../deps.js';
import { callThread } from '../temporal.js';

/**
 * Cancels runs of one thread through its workflow, which owns every run decision. If the workflow is gone
 * (terminated by an operator), nothing will ever run them, so they are closed in the database directly.
 */
export async function cancelRuns(deps: RunDeps, threadId: string, runIds: string[] | 'all', action: CancelAction): Promise<void> {
  const handle = deps.temporal.workflow.getHandle(threadWorkflowId(threadId));
  try {
    await callThread(deps, () => handle.executeUpdate(cancelRunsUpdate, { args: [{ runIds, action }] }));
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    const ids =
      runIds === 'all'
        ? (await listRuns(deps.db, { threadId, statuses: ['pending', 'running'], limit: 10_000, offset: 0 })).map((r) => r.run_id)
        : runIds;
    for (const id of ids) {
      await deps.db.tx(async (q) => {
        await markRunEnded(q, id, 'interrupted', null);
        await appendEvents(q, id, [
          { event: END_EVENT, data: { status: 'interrupted', error: null, checkpoint_id: null, interrupts: null } },
        ]);
      });
    }
  }
}
