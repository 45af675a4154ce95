import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../core/failures.js';
import { valuesAt } from '../db/checkpoints.js';
import { getRunInternals } from '../db/runs.js';
import type { ActivityDeps } from './deps.js';
import { postWebhook, WebhookRefusal } from './webhook-http.js';

// Outgoing webhooks: when a run ends, its `webhook` URL receives the run as JSON. Delivery is at least once.
// Idempotency key: the run id, which the body carries (and the `X-Run-Id` header repeats) so receivers can drop
// a repeat after a crash between the POST and its recording.

export interface WebhookDelivery {
  runId: string;
  threadId: string;
  url: string;
  /** The head when the run ended: its values are the run's final state, whatever later runs do. */
  checkpointId: string | null;
}

export type WebhookOutcome = { delivered: true; status: number } | { delivered: false; reason: 'run_deleted' };

/** Answers a retry cannot change (a 4xx other than timeout and rate limit) end delivery. */
const retryable = (status: number) => status >= 500 || status === 408 || status === 429;

export function createWebhookActivities({ db, log, webhooks = { allowedHosts: [] } }: ActivityDeps) {
  return {
    async deliverWebhook(a: WebhookDelivery): Promise<WebhookOutcome> {
      const run = await getRunInternals(db, a.runId);
      // Deleted (rolled back, or its thread removed) before delivery: there is nothing left to report.
      if (!run) return { delivered: false, reason: 'run_deleted' };
      const { checkpoint_before: _before, last_event_seq: _seq, started_at, ended_at, error, ...fields } = run;
      const body = {
        ...fields,
        run_started_at: started_at,
        run_ended_at: ended_at,
        webhook_sent_at: new Date().toISOString(),
        values: a.checkpointId ? await valuesAt(db, a.threadId, a.checkpointId) : null,
        ...(error ? { error: error.message } : {}),
      };
      const ctx = Context.current();
      const signal = AbortSignal.any([ctx.cancellationSignal, AbortSignal.timeout(30_000)]);
      const headers = { 'content-type': 'application/json', 'x-run-id': a.runId };
      const status = await postWebhook(a.url, JSON.stringify(body), headers, webhooks, signal).catch((err: unknown) => {
        // A refused destination stays refused: the run's data never goes there.
        if (err instanceof WebhookRefusal) throw ApplicationFailure.nonRetryable(err.message, FailureType.webhookRefused);
        throw err;
      });
      if (status >= 200 && status < 300) return { delivered: true, status };
      const message = `Webhook ${a.url} answered ${status} for run ${a.runId}`;
      // A redirect is not followed (it could point anywhere, a loopback admin path included): the delivery ends.
      if (!retryable(status)) {
        log.warn('webhook refused', { runId: a.runId, status });
        throw ApplicationFailure.nonRetryable(message, FailureType.webhookRefused);
      }
      throw ApplicationFailure.retryable(message, FailureType.webhookUnavailable);
    },
  };
}
