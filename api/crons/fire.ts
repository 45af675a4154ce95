import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ScheduleNotFoundError } from '@temporalio/client';
import { cronScheduleId } from '../../core/cron.js';
import { uuid7From } from '../../core/ids.js';
import type { CancelAction, MultitaskStrategy, RunStatus } from '../../core/runs.js';
import { CronSync, getCron, getCronFire, recordCronFire, setNextRunDate, type CronRow } from '../../db/crons.js';
import { getRun } from '../../db/runs.js';
import type { AppSettings, RunDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { cancelRuns } from '../runs/cancel.js';
import { createRun } from '../runs/create.js';
import type { RunCreate } from '../runs/schema.js';
import { deleteSchedule, strategyOf } from './schedule.js';
import { actingAs, storedUser } from '../auth/context.js';
import { v4 } from 'uuid';

// The activities of a cron fire (workflows/cron.ts). The run is created by the same createRun the runs routes
// call, so admission (and later auth and guardrails) apply to scheduled runs exactly as to interactive ones.

export interface CronActivityDeps {
  db: RunDeps['db'];
  log: RunDeps['log'];
  taskQueue: string;
  settings: AppSettings;
  middleware?: RunDeps['middleware'];
}

export interface CronFireResult {
  runId: string | null;
  threadId: string | null;
  strategy: MultitaskStrategy;
  /** Why the fire created no run (cron deleted or disabled, thread busy under reject, ...). */
  skipped: string | null;
}

/** Ids derived from the fire, so every attempt at one fire names the same run and the same new thread. */
export function fireIds(cronId: string, scheduledAt: string): { runId: string; threadId: string } {
  const ms = Date.parse(scheduledAt);
  // uuid7From takes its random bytes as a valid UUID: the hash's first 16 bytes, written as a v4 one.
  const hash = (kind: string) => v4({ random: createHash('sha256').update(`${cronId}|${scheduledAt}|${kind}`).digest().subarray(0, 16) });
  return { runId: uuid7From(ms, hash('run')), threadId: uuid7From(ms, hash('thread')) };
}

/** The run a fire submits: the cron's payload, its metadata, and (stateless) what becomes of the thread. */
/** Where a cron's payload keeps the user who created it (the full user, as `langgraph_auth_user` carries it). */
export const CRON_USER_KEY = 'langgraph_auth_user';

export function fireBody(cron: CronRow): RunCreate {
  const { [CRON_USER_KEY]: _user, ...payload } = cron.payload as Partial<RunCreate> & { [CRON_USER_KEY]?: unknown };
  return {
    ...payload,
    assistant_id: cron.assistant_id,
    metadata: { ...cron.metadata, ...(payload.metadata ?? {}) },
    ...(cron.thread_id ? {} : { on_completion: cron.on_run_completed === 'keep' ? 'keep' : 'delete' }),
  };
}

export function createCronActivities(base: CronActivityDeps) {
  const deps = (): RunDeps => ({ ...base, temporal: Context.current().client });
  const skip = (cron: CronRow | undefined, skipped: string): CronFireResult => ({
    runId: null,
    threadId: null,
    strategy: cron ? strategyOf(cron) : 'enqueue',
    skipped,
  });

  return {
    /** Creates the fire's run once. Idempotency key: (cron id, scheduled time), recorded in cron_fires. */
    async fireCron(a: { cronId: string; scheduledAt: string }): Promise<CronFireResult> {
      const d = deps();
      const scheduledAt = new Date(a.scheduledAt).toISOString();
      const cron = await getCron(d.db, a.cronId);
      // A Schedule whose cron is gone is an orphan (its row was deleted while Temporal was away): remove it.
      if (!cron) {
        await deleteSchedule(d, a.cronId);
        return skip(undefined, 'cron deleted');
      }
      const prior = await getCronFire(d.db, a.cronId, scheduledAt);
      if (prior) return { runId: prior.run_id, threadId: prior.thread_id, strategy: strategyOf(cron), skipped: prior.error };
      const refusal = refusalOf(cron, scheduledAt);
      if (refusal) return skip(cron, refusal);
      const ids = fireIds(a.cronId, scheduledAt);
      const done = await getRun(d.db, ids.runId);
      let outcome: { runId: string | null; threadId: string | null; error: string | null };
      if (done) outcome = { runId: done.run_id, threadId: done.thread_id, error: null };
      else {
        try {
          // The run acts as the cron's creator (no one when it was created without authentication).
          const as = cron.user_id ? actingAs(storedUser(cron.payload[CRON_USER_KEY], cron.user_id)) : {};
          const c = await createRun(d, cron.thread_id, fireBody(cron), as, ['values'], { runId: ids.runId, newThreadId: ids.threadId });
          outcome = { runId: c.run.run_id, threadId: c.threadId, error: null };
        } catch (err) {
          // A refusal (thread busy under reject, assistant gone) is this fire's outcome; anything else is retried.
          if (!(err instanceof ApiError) || err.status >= 500) throw err;
          outcome = { runId: null, threadId: null, error: err.message };
        }
      }
      await recordCronFire(d.db, { cronId: a.cronId, scheduledAt, ...outcome });
      await refreshNextRunDate(d, a.cronId);
      return { ...outcome, strategy: strategyOf(cron), skipped: outcome.error };
    },

    /** The run's status, or null once it is gone (rolled back, or its thread deleted). Read-only. */
    async cronRunStatus(a: { runId: string }): Promise<RunStatus | null> {
      return (await getRun(base.db, a.runId))?.status ?? null;
    },

    /** A fire cancelled by the Schedule's overlap policy cancels its run. Idempotency key: the run id. */
    async cancelCronRun(a: { threadId: string; runId: string; action: CancelAction }): Promise<void> {
      await cancelRuns(deps(), a.threadId, [a.runId], a.action);
    },
  };
}

export type CronActivities = ReturnType<typeof createCronActivities>;

/** The Schedule pauses disabled crons and stops at end_time; the row is checked too, as it may be ahead. */
function refusalOf(cron: CronRow & { sync: CronSync }, scheduledAt: string): string | null {
  if (cron.sync === CronSync.deleting) return 'cron deleted';
  if (!cron.enabled) return 'cron disabled';
  if (cron.end_time && Date.parse(cron.end_time) < Date.parse(scheduledAt)) return 'cron ended (end_time)';
  return null;
}

async function refreshNextRunDate(d: RunDeps, cronId: string): Promise<void> {
  try {
    const next = (await d.temporal.schedule.getHandle(cronScheduleId(cronId)).describe()).info.nextActionTimes[0] ?? null;
    await setNextRunDate(d.db, cronId, next);
  } catch (err) {
    // A cron deleted while it fired has no Schedule left to ask.
    if (!(err instanceof ScheduleNotFoundError)) d.log.warn('could not read the next fire time of a cron', { cronId, err });
  }
}
