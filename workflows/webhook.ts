import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { WebhookDelivery, WebhookOutcome } from '../activities/webhooks.js';
import { FailureType } from '../core/failures.js';
import { defaultRunTimers, type RunTimers } from '../core/runs.js';

// Delivers one run's webhook (workflow id `webhook-<run_id>`). A child the thread abandons, so a slow or absent
// receiver never holds up the thread's next run, and delivery outlives worker restarts and deploys.

export interface WebhookWorkflowInput extends WebhookDelivery {
  /** Absent in deliveries started before the delays were configurable: the defaults, about an hour of retries. */
  retry?: RunTimers['webhookRetry'];
}

export async function webhookWorkflow({
  retry = defaultRunTimers.webhookRetry,
  ...delivery
}: WebhookWorkflowInput): Promise<WebhookOutcome> {
  // Long enough for a receiver's deploy or outage, short enough not to pile up.
  const { deliverWebhook } = proxyActivities<Activities>({
    startToCloseTimeout: '1m',
    retry: {
      initialInterval: retry.initialMs,
      backoffCoefficient: 2,
      maximumInterval: retry.maximumMs,
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: [FailureType.webhookRefused],
    },
  });
  return deliverWebhook(delivery);
}
