import { appendEvents, notifyThreadRuns } from './events.js';
import type { Db } from './pool.js';
import { getRunInternals, promoteRunRequest, type RunRow } from './runs.js';
import { lockThread, mergeThreadMetadata, setThreadStatus } from './threads.js';

/**
 * Turns an accepted run request into a pending run: the run row, its `metadata` event (id 0), the thread marked
 * busy and stamped with graph and assistant. The API calls it as soon as the thread workflow accepts the run,
 * and the workflow calls it again before executing, so a crash between the two loses nothing. Idempotent.
 * Returns undefined when the request is gone (the API gave up on it, or the thread was deleted).
 */
export async function admitRun(
  db: Db,
  r: { runId: string; threadId: string; graphId: string; assistantId: string },
): Promise<RunRow | undefined> {
  return db.tx(async (q) => {
    if (!(await lockThread(q, r.threadId))) return undefined;
    const run = await promoteRunRequest(q, r.runId);
    if (!run) return undefined;
    if ((await getRunInternals(q, run.run_id))?.last_event_seq === -1) {
      await appendEvents(q, run.run_id, [{ event: 'metadata', data: { run_id: run.run_id, attempt: 1 } }]);
      await mergeThreadMetadata(q, r.threadId, { graph_id: r.graphId, assistant_id: r.assistantId });
      await setThreadStatus(q, r.threadId, 'busy');
      await notifyThreadRuns(q, r.threadId);
    }
    return run;
  });
}
