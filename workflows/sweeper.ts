import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { SweepResult } from '../activities/maintenance.js';

// Started by a Temporal Schedule (one per task queue): expires threads and store items past their TTL and drops
// event logs that cannot be replayed. Short-lived, so its history never grows.

const { sweep } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  retry: { maximumAttempts: 3 },
});

export async function sweeperWorkflow(): Promise<SweepResult> {
  return sweep({ limit: 500, eventGraceMinutes: 10 });
}
