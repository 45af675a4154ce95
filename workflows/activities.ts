import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

// Activity options per kind. Errors that no retry can fix are listed as non-retryable on every kind.
const permanent = ['StaleHead', 'RunNotActive', 'ThreadNotFound', 'InvalidUpdate', 'CheckpointNotFound'];

/**
 * Database bookkeeping: short transactions. They retry for as long as the database is away (a thread must outlast
 * an outage, not fail because of one); errors no retry can fix are non-retryable and end the run instead.
 */
export const db = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: permanent },
});

/** Model turns stream for minutes and heartbeat per chunk; cancellation waits for the call to stop. */
export const model = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 6,
    nonRetryableErrorTypes: [...permanent, 'ModelError'],
  },
});

/** Tools: the activity decides when a tool error is final; these retries cover crashes and timeouts. */
export const tools = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...permanent, 'FatalToolError'],
  },
});
