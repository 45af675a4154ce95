import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '@temporalio/activity';
import type { Logger } from '../config/logger.js';
import { isDatabaseUnavailable } from '../db/errors.js';

// Model and tool activities have a small retry budget that is meant for the model and the tool. Their database
// work (reading state, appending stream events, recording results) therefore waits out an outage inside the
// attempt: the activity keeps heartbeating, so Temporal sees it alive, and the budget stays untouched.
// The bound is the activity's start-to-close timeout (10 minutes).

const firstDelayMs = 250;
// Heartbeats go out before and after each pause, so a pause plus a connect timeout stays far below the heartbeat timeout.
const maxDelayMs = 2_000;

/** Something that runs a database call and waits out outages; `patiently(ctx, log)` builds one. */
export type Patience = <T>(fn: () => Promise<T>) => Promise<T>;

/** Runs fn again each time it fails because the database is away, heartbeating and honouring cancellation. */
export function patiently(ctx: Context, log: Logger): Patience {
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    let delay = firstDelayMs;
    let since: number | null = null;
    for (;;) {
      try {
        const out = await fn();
        if (since !== null) log.info('database is back; continuing the activity', { waitedMs: Date.now() - since, ...where(ctx) });
        return out;
      } catch (err) {
        if (!isDatabaseUnavailable(err) || ctx.cancellationSignal.aborted) throw err;
        if (since === null) {
          since = Date.now();
          log.warn('database unavailable; the activity waits for it', { err, ...where(ctx) });
        }
      }
      ctx.heartbeat();
      await pause(delay, ctx.cancellationSignal);
      ctx.heartbeat();
      delay = Math.min(delay * 2, maxDelayMs);
    }
  };
}

function where(ctx: Context) {
  return { activity: ctx.info.activityType, workflowId: ctx.info.workflowExecution?.workflowId, attempt: ctx.info.attempt };
}

/** Rejects with the cancellation's own reason, as callers expect of a cancelled activity. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => {
    throw signal.reason as Error;
  });
}
