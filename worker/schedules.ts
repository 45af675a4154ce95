import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Logger } from '../config/logger.js';

export const sweeperScheduleId = (taskQueue: string) => `sweeper-${taskQueue}`;

/**
 * The housekeeping schedule of a task queue. Every worker asks for it; the first creates it and the others find
 * it there. Overlapping sweeps are skipped, so a slow sweep never piles up behind itself.
 */
export async function ensureSweeperSchedule(client: Client, taskQueue: string, everySeconds: number, log: Logger): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: sweeperScheduleId(taskQueue),
      spec: { intervals: [{ every: `${everySeconds}s` }] },
      action: { type: 'startWorkflow', workflowType: 'sweeperWorkflow', taskQueue, args: [] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    log.info('created the sweeper schedule', { scheduleId: sweeperScheduleId(taskQueue), everySeconds });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}
