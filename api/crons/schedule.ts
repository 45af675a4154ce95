import {
  isGrpcServiceError,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsAction,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import { cronFireWorkflowId, cronScheduleId } from '../../core/cron.js';
import type { MultitaskStrategy } from '../../core/runs.js';
import type { CronRow } from '../../db/crons.js';
import { ApiError, ErrorCode, invalid } from '../errors.js';

// One Temporal Schedule per cron (`cron-<cron_id>`), visible in the Web UI and with `temporal schedule list`.
// Each fire starts a short `cronFireWorkflow` (id `cron-<cron_id>-<scheduled time>`) that submits the run.

export interface ScheduleDeps {
  temporal: Client;
  taskQueue: string;
}

/**
 * A fire due while the previous one's run is still going follows the cron's multitask strategy: reject skips it,
 * interrupt and rollback cancel the previous fire, which cancels its run with that action. Under enqueue a fire
 * ends once its run is submitted (the thread queues runs, and stateless runs each have their own thread), so
 * fires overlap only while no worker runs them; then they wait in order and none is dropped.
 */
const overlapOf: Record<MultitaskStrategy, ScheduleOverlapPolicy> = {
  reject: ScheduleOverlapPolicy.SKIP,
  enqueue: ScheduleOverlapPolicy.BUFFER_ALL,
  interrupt: ScheduleOverlapPolicy.CANCEL_OTHER,
  rollback: ScheduleOverlapPolicy.CANCEL_OTHER,
};

/**
 * Fires missed while Temporal itself was down are not backfilled, as the reference's scheduler never backfills;
 * 10 s is the shortest catch-up window Temporal allows. `temporal schedule backfill` replays a range on purpose.
 */
const CATCHUP_WINDOW = '10s';

export function strategyOf(row: Pick<CronRow, 'payload'>): MultitaskStrategy {
  const s = row.payload.multitask_strategy;
  return s === 'reject' || s === 'interrupt' || s === 'rollback' ? s : 'enqueue';
}

function scheduleOptions(row: CronRow, taskQueue: string): Omit<ScheduleUpdateOptions<ScheduleOptionsAction>, 'state'> {
  return {
    spec: {
      cronExpressions: [row.schedule],
      timezone: row.timezone ?? 'UTC',
      ...(row.end_time ? { endAt: new Date(row.end_time) } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'cronFireWorkflow',
      workflowId: cronFireWorkflowId(row.cron_id),
      taskQueue,
      args: [{ cronId: row.cron_id }],
      memo: { cron_id: row.cron_id, thread_id: row.thread_id, assistant_id: row.assistant_id },
    },
    policies: { overlap: overlapOf[strategyOf(row)], catchupWindow: CATCHUP_WINDOW },
  };
}

/**
 * Makes the cron's Schedule match the row, creating it when missing; paused exactly when the cron is disabled.
 * Idempotent. Returns the next fire time Temporal reports (null when there is none).
 */
export async function pushSchedule(deps: ScheduleDeps, row: CronRow): Promise<Date | null> {
  const scheduleId = cronScheduleId(row.cron_id);
  const options = scheduleOptions(row, deps.taskQueue);
  const handle = deps.temporal.schedule.getHandle(scheduleId);
  try {
    await deps.temporal.schedule.create({
      scheduleId,
      ...options,
      memo: { cron_id: row.cron_id, task_queue: deps.taskQueue, thread_id: row.thread_id, assistant_id: row.assistant_id },
      state: { paused: !row.enabled, note: row.enabled ? 'enabled' : 'disabled (enabled: false)' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((prev) => ({ ...prev, ...options }));
    const paused = (await handle.describe()).state.paused;
    if (paused && row.enabled) await handle.unpause('enabled');
    if (!paused && !row.enabled) await handle.pause('disabled (enabled: false)');
  }
  return nextFire(deps, row.cron_id);
}

export async function nextFire(deps: Pick<ScheduleDeps, 'temporal'>, cronId: string): Promise<Date | null> {
  const d = await deps.temporal.schedule.getHandle(cronScheduleId(cronId)).describe();
  return d.info.nextActionTimes[0] ?? null;
}

/** Deletes the cron's Schedule; one already gone is fine. */
export async function deleteSchedule(deps: Pick<ScheduleDeps, 'temporal'>, cronId: string): Promise<void> {
  try {
    await deps.temporal.schedule.getHandle(cronScheduleId(cronId)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError) && grpcCode(err) !== 5) throw err;
  }
}

export async function scheduleExists(deps: Pick<ScheduleDeps, 'temporal'>, cronId: string): Promise<boolean> {
  try {
    await deps.temporal.schedule.getHandle(cronScheduleId(cronId)).describe();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError || grpcCode(err) === 5) return false;
    throw err;
  }
}

/** Ids of the crons whose Schedules this task queue's runtime made (other deployments may share the namespace). */
export async function* listCronSchedules(deps: ScheduleDeps): AsyncGenerator<string> {
  for await (const s of deps.temporal.schedule.list()) {
    if (s.scheduleId.startsWith('cron-') && s.memo?.task_queue === deps.taskQueue) yield s.scheduleId.slice('cron-'.length);
  }
}

function grpcCode(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return err.code;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return isGrpcServiceError(cause) ? cause.code : undefined;
}

/** Temporal refusing a spec is the caller's fault (422, field named); being unreachable is a 503. */
export function scheduleError(err: unknown): unknown {
  const code = grpcCode(err);
  if (code === 3) {
    const message = (err as Error).message;
    const field = /time ?zone/i.test(message) ? 'timezone' : 'schedule';
    return invalid(`Invalid body: body.${field}: ${message}`, [{ path: `body.${field}`, message }]);
  }
  if (code === 4 || code === 14) return new ApiError(ErrorCode.unavailable, 'Temporal is not reachable; the cron was not changed.');
  return err;
}
