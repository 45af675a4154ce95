import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { pruneNonResumableEvents } from '../db/events.js';
import { deleteThreadRow, expiredThreadIds } from '../db/threads.js';
import { threadWorkflowId } from '../core/ids.js';
import type { ActivityDeps } from './deps.js';

// Housekeeping run by the sweeper schedule. Idempotency key: none needed, every step is a delete that a retry
// repeats harmlessly.

export interface SweepResult {
  expiredThreads: number;
  prunedEvents: number;
  expiredStoreItems: number;
}

export function createMaintenanceActivities(deps: ActivityDeps) {
  return {
    /** Deletes expired threads (workflow first, then rows), expired store items, and logs nobody can replay. */
    async sweep(a: { limit: number; eventGraceMinutes: number }): Promise<SweepResult> {
      const ctx = Context.current();
      const ids = await expiredThreadIds(deps.db, a.limit);
      for (const threadId of ids) {
        ctx.heartbeat(threadId);
        await ctx.client.workflow
          .getHandle(threadWorkflowId(threadId))
          .terminate('thread expired (ttl)')
          .catch((err: unknown) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
        await deleteThreadRow(deps.db, threadId);
      }
      const prunedEvents = await pruneNonResumableEvents(deps.db, a.eventGraceMinutes);
      const expiredStoreItems = (await deps.store?.sweepExpired()) ?? 0;
      if (ids.length || prunedEvents || expiredStoreItems)
        deps.log.info('swept', { expiredThreads: ids.length, prunedEvents, expiredStoreItems });
      return { expiredThreads: ids.length, prunedEvents, expiredStoreItems };
    },
  };
}
