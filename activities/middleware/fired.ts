import { ApplicationFailure } from '@temporalio/common';
import type { Fired } from '../../core/middleware/define.js';
import { MiddlewareError } from '../../core/middleware/define.js';
import type { RunContext } from '../../core/runs.js';
import type { NewEvent } from '../../db/events.js';
import { listGuardrailEvents, type GuardrailEventRow } from '../../db/guardrails.js';
import type { Queryable } from '../../db/pool.js';

// What a guardrail did becomes a record on the run (guardrail_events) and an event on the `custom` and `debug`
// stream modes, so an operator sees why an answer changed. Keys make a retried attempt record it once.

export interface FiredBy extends Fired {
  id: string;
  hook: string;
}

export class FiredLog {
  readonly all: FiredBy[] = [];

  constructor(private readonly run: RunContext) {}

  by(id: string, hook: string): (f: Fired) => void {
    return (f) => this.all.push({ ...f, id, hook });
  }

  /** Rows keyed by `key` (a checkpoint id, or an attempt of a call) and position. */
  rows(key: string): GuardrailEventRow[] {
    return this.all.map((f, i) => ({
      run_id: this.run.runId,
      thread_id: this.run.threadId,
      middleware: f.id,
      hook: f.hook,
      action: f.action,
      message_id: f.messageId ?? null,
      detail: f.detail ?? {},
      dedupe_key: `${key}/${i}`,
    }));
  }

  /** Stream events of what fired from position `from` on. */
  eventsFrom(from: number, step: number): NewEvent[] {
    const modes = new Set<string>(this.run.streamModes);
    return this.all.slice(from).flatMap((f) => {
      const payload = {
        type: 'guardrail',
        middleware: f.id,
        hook: f.hook,
        action: f.action,
        message_id: f.messageId ?? null,
        detail: f.detail ?? {},
      };
      const out: NewEvent[] = [];
      if (modes.has('custom')) out.push({ event: 'custom', data: payload });
      if (modes.has('debug')) out.push({ event: 'debug', data: { type: 'guardrail', timestamp: new Date().toISOString(), step, payload } });
      return out;
    });
  }
}

/**
 * The API redacts a run's input before storing it, when the run has no event log yet: what fired then is streamed
 * with the input checkpoint.
 */
export async function inputGuardrailEvents(q: Queryable, run: RunContext, step: number): Promise<NewEvent[]> {
  if (!run.streamModes.includes('custom') && !run.streamModes.includes('debug')) return [];
  const log = new FiredLog(run);
  for (const row of await listGuardrailEvents(q, run.runId)) {
    if (row.hook !== 'input') continue;
    log.all.push({
      id: row.middleware,
      hook: row.hook,
      action: row.action,
      detail: row.detail,
      ...(row.message_id ? { messageId: row.message_id } : {}),
    });
  }
  return log.eventsFrom(0, step);
}

/** A middleware's refusal ends the run with its type (non-retryable: the same state refuses again). */
export function middlewareFailure(err: unknown): unknown {
  if (err instanceof MiddlewareError) return ApplicationFailure.nonRetryable(err.message, err.type);
  return err;
}
