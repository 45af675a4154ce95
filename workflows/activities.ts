import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { FailureType, permanentFailures as permanent, TOOL_ACTIVITY_ATTEMPTS } from '../core/failures.js';

// Activity options per kind. Errors that no retry can fix are listed as non-retryable on every kind.

const local = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: permanent },
});

/** Null until serializeBookkeeping: then each local activity waits for the one before it. Per workflow, like all module state. */
let lane: Promise<unknown> | null = null;

/**
 * One local activity at a time, for workflows whose update handlers call them too. Two in flight at once complete in
 * separate activations but replay in one, so code resuming after each could emit its commands in another order on
 * replay (a nondeterminism error). Histories recorded before that (Patch.lifecycle) keep their concurrency.
 */
export function serializeBookkeeping(): void {
  lane ??= Promise.resolve();
}

/**
 * Database bookkeeping: short transactions. They retry for as long as the database is away (a thread must outlast
 * an outage, not fail because of one); errors no retry can fix are non-retryable and end the run instead.
 */
export const db = new Proxy(local, {
  get(target, name: keyof Activities) {
    const call = target[name] as (...args: unknown[]) => Promise<unknown>;
    return (...args: unknown[]) => {
      if (!lane) return call(...args);
      const result = lane.then(() => call(...args));
      lane = result.catch(() => undefined);
      return result;
    };
  },
});

/**
 * Middleware hook phases (before_model, after_model, ...): local, as the hooks of the built-ins are quick reads
 * and one commit; a hook doing I/O (a moderation call) has minutes. Refusals are non-retryable by their type.
 */
export const hooks = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: permanent,
  },
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
    nonRetryableErrorTypes: [...permanent, FailureType.modelError],
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
    maximumAttempts: TOOL_ACTIVITY_ATTEMPTS,
    nonRetryableErrorTypes: [...permanent, FailureType.fatalTool],
  },
});
