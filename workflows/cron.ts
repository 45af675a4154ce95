import { CancellationScope, isCancellation, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { CronActivities, CronFireResult } from '../api/crons/fire.js';
import { finalRunStatuses, type RunStatus } from '../core/runs.js';

// One fire of a cron, started by the cron's Temporal Schedule (id `cron-<cron_id>-<scheduled time>`). It submits
// the run through the runtime's one run service. Under reject, interrupt and rollback it then lives as long as the
// run, so the Schedule's overlap policy sees a fire whose run is still going as running; its history holds one
// activity per poll of the run, with polls backing off to 10 s. Under enqueue it ends once the run is submitted.

const { fireCron, cronRunStatus } = proxyActivities<CronActivities>({
  startToCloseTimeout: '1m',
  // A fire keeps trying while the database or a thread workflow is away; refusals are results, not failures.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});
const { cancelCronRun } = proxyActivities<CronActivities>({ startToCloseTimeout: '1m', retry: { maximumInterval: '30s' } });

// Set by the Schedule on every workflow it starts: the time this fire was due, not when it started.
const ScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface CronFireInput {
  cronId: string;
}

export interface CronFireOutcome extends CronFireResult {
  scheduledAt: string;
  status: RunStatus | null;
}

export async function cronFireWorkflow(input: CronFireInput): Promise<CronFireOutcome> {
  const info = workflowInfo();
  // Started by hand (temporal workflow start) there is no scheduled time: the start time stands in for it.
  const scheduledAt = (info.typedSearchAttributes.get(ScheduledStartTime) ?? info.runStartTime).toISOString();
  const fire = await fireCron({ cronId: input.cronId, scheduledAt });
  if (!fire.runId || !fire.threadId || fire.strategy === 'enqueue') return { ...fire, scheduledAt, status: null };
  try {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      const status = await cronRunStatus({ runId: fire.runId });
      if (status === null || finalRunStatuses.includes(status)) return { ...fire, scheduledAt, status };
      await sleep(delay);
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // The Schedule cancels a running fire when the next one is due under interrupt or rollback.
    const action = fire.strategy === 'rollback' ? 'rollback' : 'interrupt';
    const { runId, threadId } = fire;
    await CancellationScope.nonCancellable(() => cancelCronRun({ threadId, runId, action }));
    throw err;
  }
}
