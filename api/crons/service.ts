import type { Logger } from '../../config/logger.js';
import type { Db } from '../../db/pool.js';
import {
  allCronIds,
  cronIdsOf,
  CronSync,
  deleteCronRow,
  getCron,
  insertCron,
  markCronSynced,
  setCronSync,
  unsyncedCrons,
  updateCronFields,
  type CronFields,
  type CronRow,
  type CronState,
} from '../../db/crons.js';
import { invalid, notFound } from '../errors.js';
import { uuid7 } from '../ids.js';
import { deleteSchedule, listCronSchedules, pushSchedule, scheduleError, scheduleExists, type ScheduleDeps } from './schedule.js';

// The one service that changes crons. Each change writes the row first, marked as ahead of its Schedule, then
// makes the Schedule match, then marks the row synced. A process that dies in between leaves a marked row, which
// reconcileCrons finishes (or undoes, for a create nobody was told about), so the two never disagree for long:
// no Schedule without a row, and no row whose Schedule is missing.

export interface CronDeps extends ScheduleDeps {
  db: Db;
  log: Logger;
}

export const cronNotFound = (cronId: string) => notFound(`Cron with ID ${cronId} not found`);

export async function createCron(
  deps: CronDeps,
  c: CronFields & { assistant_id: string; thread_id: string | null; user_id: string | null },
): Promise<CronRow> {
  const cronId = uuid7();
  // Every fire's run names its cron, as the reference's scheduler stamps configurable.cron_id.
  const config = (c.payload.config ?? {}) as { configurable?: Record<string, unknown> };
  const payload = { ...c.payload, config: { ...config, configurable: { ...config.configurable, cron_id: cronId } } };
  const row = await insertCron(deps.db, { ...c, payload, cron_id: cronId });
  try {
    return await converge(deps, row, { requireNextFire: true });
  } catch (err) {
    // Marked deleting first: if Temporal is away now, reconciliation removes both rather than finishing the create.
    await undo(deps, cronId, () => deleteCron(deps, cronId));
    throw scheduleError(err);
  }
}

/** Applies a patch; if Temporal refuses it or cannot be reached, the row and the Schedule keep the old cron. */
export async function updateCron(deps: CronDeps, cronId: string, next: (current: CronRow) => CronFields): Promise<CronRow> {
  const current = await getCron(deps.db, cronId);
  if (!current || current.sync === CronSync.deleting) throw cronNotFound(cronId);
  const updated = await updateCronFields(deps.db, cronId, next(current), CronSync.updating);
  if (!updated) throw cronNotFound(cronId);
  try {
    return await converge(deps, updated, { requireNextFire: true });
  } catch (err) {
    await undo(deps, cronId, async () => {
      const restored = await updateCronFields(deps.db, cronId, current, CronSync.updating, current.updated_at);
      if (restored) await converge(deps, restored, { requireNextFire: false });
    });
    throw scheduleError(err);
  }
}

export async function deleteCron(deps: CronDeps, cronId: string): Promise<boolean> {
  const current = await getCron(deps.db, cronId);
  if (!current) return false;
  await setCronSync(deps.db, cronId, CronSync.deleting);
  await deleteSchedule(deps, cronId);
  await deleteCronRow(deps.db, cronId);
  return true;
}

/** Deleting a thread or an assistant takes its crons and their Schedules along. */
export async function deleteCronsOf(deps: CronDeps, owner: { threadId?: string; assistantId?: string }): Promise<void> {
  for (const cronId of await cronIdsOf(deps.db, owner)) await deleteCron(deps, cronId);
}

/**
 * Pushes the row to its Schedule and marks it synced, unless it changed meanwhile (then the newer change's own
 * push wins). A schedule that would never fire is refused, as the reference refuses one with no next date.
 */
async function converge(deps: CronDeps, row: CronState, o: { requireNextFire: boolean }): Promise<CronRow> {
  const next = await pushSchedule(deps, row);
  if (o.requireNextFire && next === null && row.enabled && row.end_time === null)
    throw invalid(`Invalid body: body.schedule: '${row.schedule}' never fires`, [{ path: 'body.schedule', message: 'never fires' }]);
  const { sync: _sync, revision: _revision, ...plain } = row;
  return (await markCronSynced(deps.db, row.cron_id, row.revision, next)) ?? plain;
}

/** Compensation after a failed change; if it fails too, the marked row is left for reconcileCrons. */
async function undo(deps: CronDeps, cronId: string, restore: () => Promise<unknown>): Promise<void> {
  try {
    await restore();
  } catch (err) {
    deps.log.warn('could not undo a failed cron change; it will be reconciled', { cronId, err });
  }
}

/**
 * Finishes or undoes changes a process left half done: rows marked longer than `graceMs` ago. With `orphans`
 * (on start), also deletes Schedules of this task queue that have no row and recreates missing Schedules.
 */
export async function reconcileCrons(deps: CronDeps, o: { graceMs: number; orphans: boolean }): Promise<number> {
  let fixed = 0;
  for (const row of await unsyncedCrons(deps.db, o.graceMs)) {
    if (row.sync === CronSync.deleting) {
      await deleteSchedule(deps, row.cron_id);
      await deleteCronRow(deps.db, row.cron_id);
    } else if (row.sync === CronSync.creating && !(await scheduleExists(deps, row.cron_id))) {
      // Its creator died before the Schedule existed and answered nobody: the create did not happen.
      await deleteCronRow(deps.db, row.cron_id);
    } else {
      await converge(deps, row, { requireNextFire: false });
    }
    fixed++;
  }
  if (!o.orphans) return fixed;
  const rows = await allCronIds(deps.db);
  const scheduled = new Set<string>();
  for await (const cronId of listCronSchedules(deps)) {
    scheduled.add(cronId);
    if (rows.has(cronId)) continue;
    await deleteSchedule(deps, cronId);
    fixed++;
  }
  for (const cronId of rows) {
    const row = scheduled.has(cronId) ? undefined : await getCron(deps.db, cronId);
    // Listing lags behind creation, so a missing entry is checked before anything is recreated.
    if (row?.sync === CronSync.synced && !(await scheduleExists(deps, cronId))) {
      await converge(deps, row, { requireNextFire: false });
      fixed++;
    }
  }
  return fixed;
}

/** Reconciles at start, then every minute; a failed pass is logged and tried again on the next. */
export function startCronReconciler(deps: CronDeps, everyMs = 60_000): () => void {
  const pass = (orphans: boolean) =>
    reconcileCrons(deps, { graceMs: 60_000, orphans })
      .then((n) => n && deps.log.info('reconciled crons', { fixed: n }))
      .catch((err: unknown) => deps.log.warn('cron reconciliation failed', { err }));
  void pass(true);
  const timer = setInterval(() => void pass(false), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
