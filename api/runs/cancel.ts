import type { CancelAction } from '../../core/runs.js';
import { cancelRuns as cancelRunsUpdate } from '../../workflows/messages.js';
import type { RunDeps } from '../deps.js';
import { updateThread } from '../temporal.js';

/**
 * Cancels runs of one thread through its workflow, which owns every run decision and writes every run's end. If
 * the workflow is gone (terminated by an operator), this starts it again: it adopts the runs left pending, and
 * then cancels them like any other.
 */
export async function cancelRuns(deps: RunDeps, threadId: string, runIds: string[] | 'all', action: CancelAction): Promise<void> {
  await updateThread(deps, threadId, cancelRunsUpdate, [{ runIds, action }], { updateId: () => undefined, alwaysReconcile: true });
}
