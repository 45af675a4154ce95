import type { CancelAction } from '../../core/runs.js';
import type { AppDeps } from '../deps.js';
import { ApiError, toApiError } from '../errors.js';
import { cancelRuns } from './cancel.js';

/**
 * POST /runs/cancel across threads: every thread is asked, also after one fails, and the answer names each
 * thread that failed. Its status is that of the first failure (503 when a worker was unreachable), so a
 * client's retry cancels what is left; threads already done are not harmed by a second cancel.
 */
export async function cancelEach(deps: AppDeps, byThread: Map<string, string[]>, action: CancelAction): Promise<void> {
  const failures: { threadId: string; error: ApiError }[] = [];
  for (const [threadId, ids] of byThread) {
    try {
      await cancelRuns(deps, threadId, ids, action);
    } catch (err) {
      const error = toApiError(err);
      if (error.code === 'internal_error') deps.log.error('cancelling runs failed', { threadId, err });
      failures.push({ threadId, error });
    }
  }
  if (failures.length === 0) return;
  const first = failures[0]!.error;
  const done = byThread.size - failures.length;
  throw new ApiError(
    first.code,
    `Cancelled the runs of ${done} of ${byThread.size} threads; failed on ${failures.length}: ` +
      failures.map((f) => `${f.threadId}: ${f.error.message}`).join('; '),
    failures.map((f) => ({ path: `thread_id:${f.threadId}`, message: f.error.message })),
  );
}
