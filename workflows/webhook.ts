import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { FailureType } from '../core/failures.js';
import type { WebhookDelivery, WebhookOutcome } from '../activities/webhooks.js';

// Delivers one run's webhook (workflow id `webhook-<run_id>`). A child the thread abandons, so a slow or absent
// receiver never holds up the thread's next run, and delivery outlives worker restarts and deploys.

const { deliverWebhook } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  // About an hour of retries: long enough for a receiver's deploy or outage, short enough not to pile up.
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [FailureType.webhookRefused],
  },
});

export async function webhookWorkflow(delivery: WebhookDelivery): Promise<WebhookOutcome> {
  return deliverWebhook(delivery);
}
