import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pushSchedule, scheduleExists } from '../api/crons/schedule.js';
import { reconcileCrons } from '../api/crons/service.js';
import { cronScheduleId } from '../core/cron.js';
import { systemAssistantId } from '../db/assistants.js';
import { CronSync, getCron, insertCron, setCronSync, updateCronFields, type CronRow } from '../db/crons.js';
import { startStack, type Stack } from './helpers/stack.js';

// A cron's row and its Temporal Schedule never disagree: bad input stores neither, and a change a crashed process
// left half done is finished or undone by reconciliation (which the API runs on start and every minute).

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const post = (path: string, body: unknown, method = 'POST') =>
  fetch(`${stack.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const count = async () => (await (await post('/runs/crons/count', {})).json()) as number;
const schedules = async () => {
  const ids: string[] = [];
  for await (const s of stack.temporal.schedule.list()) if (s.memo?.task_queue === stack.taskQueue) ids.push(s.scheduleId);
  // Listing lags behind deletes; what is listed is checked.
  const live = await Promise.all(ids.map((id) => scheduleExists(stack.deps, id.slice('cron-'.length))));
  return ids.filter((_, i) => live[i]);
};

describe('bad input on the cron routes', () => {
  it('gets a 4xx naming the field, and stores neither a row nor a Schedule', async () => {
    const thread = (await (await post('/threads', {})).json()) as { thread_id: string };
    const cases: [string, unknown, number, string][] = [
      ['/runs/crons', { assistant_id: 'agent', schedule: '61 * * * *' }, 422, 'body.schedule'],
      ['/runs/crons', { assistant_id: 'agent', schedule: 'every tuesday' }, 422, 'body.schedule'],
      ['/runs/crons', { assistant_id: 'agent', schedule: '0 0 * * 1#2' }, 422, 'body.schedule'],
      ['/runs/crons', { assistant_id: 'agent', schedule: 'TZ=UTC 0 0 * * *' }, 422, 'body.schedule'],
      ['/runs/crons', { assistant_id: 'agent', schedule: '0 0 31 2 *' }, 422, 'body.schedule'],
      ['/runs/crons', { assistant_id: 'agent' }, 422, 'body.schedule'],
      ['/runs/crons', { assistant_id: 'agent', schedule: '@daily', timezone: 'Mars/Olympus_Mons' }, 422, 'body.timezone'],
      ['/runs/crons', { assistant_id: 'agent', schedule: '@daily', end_time: '2001-01-01T00:00:00Z' }, 422, 'body.end_time'],
      ['/runs/crons', { assistant_id: 'agent', schedule: '@daily', end_time: 'soon' }, 422, 'body.end_time'],
      ['/runs/crons', { assistant_id: 'agent', schedule: '@daily', multitask_strategy: 'later' }, 422, 'body.multitask_strategy'],
      ['/runs/crons', { assistant_id: 'agent', schedule: '@daily', webhook: 'ftp://x' }, 422, 'body.webhook'],
      ['/runs/crons', { assistant_id: 'no-such-graph', schedule: '@daily' }, 404, ''],
      ['/threads/not-a-uuid/runs/crons', { assistant_id: 'agent', schedule: '@daily' }, 422, 'path.thread_id'],
      [`/threads/${randomUUID()}/runs/crons`, { assistant_id: 'agent', schedule: '@daily' }, 404, ''],
      [`/threads/${thread.thread_id}/runs/crons`, { assistant_id: 'agent', schedule: '* * *' }, 422, 'body.schedule'],
      ['/runs/crons/search', { sort_by: 'schedule' }, 422, 'body.sort_by'],
      ['/runs/crons/search', { limit: 0 }, 422, 'body.limit'],
      ['/runs/crons/search', { select: ['password'] }, 422, 'body.select.0'],
      ['/runs/crons/count', { thread_id: 'x' }, 422, 'body.thread_id'],
    ];
    for (const [path, body, status, field] of cases) {
      const res = await post(path, body);
      expect({ path, body, status: res.status }).toEqual({ path, body, status });
      const err = (await res.json()) as { details?: { path: string }[] };
      if (field) expect(err.details?.map((d) => d.path)).toContain(field);
    }
    expect(await count()).toBe(0);
    expect(await schedules()).toEqual([]);
  });

  it('refuses bad patches and leaves the cron and its Schedule as they were', async () => {
    const cron = (await (
      await post('/runs/crons', { assistant_id: 'agent', schedule: '0 5 * * *', metadata: { v: 1 } })
    ).json()) as CronRow;
    const before = await stack.temporal.schedule.getHandle(cronScheduleId(cron.cron_id)).describe();
    const patches: [unknown, number, string][] = [
      [{}, 422, 'body'],
      [{ schedule: '0 25 * * *' }, 422, 'body.schedule'],
      [{ schedule: '0 0 30 2 *' }, 422, 'body.schedule'],
      [{ timezone: 'Nowhere/Land' }, 422, 'body.timezone'],
      [{ end_time: '1999-12-31T23:59:59Z' }, 422, 'body.end_time'],
      [{ enabled: 'yes' }, 422, 'body.enabled'],
    ];
    for (const [body, status, field] of patches) {
      const res = await post(`/runs/crons/${cron.cron_id}`, body, 'PATCH');
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(((await res.json()) as { details?: { path: string }[] }).details?.map((d) => d.path)).toContain(field);
    }
    expect((await post(`/runs/crons/${randomUUID()}`, { enabled: false }, 'PATCH')).status).toBe(404);
    expect((await post('/runs/crons/nope', { enabled: false }, 'PATCH')).status).toBe(422);
    expect((await fetch(`${stack.url}/runs/crons/nope`)).status).toBe(422);
    expect((await fetch(`${stack.url}/runs/crons/${randomUUID()}`, { method: 'DELETE' })).status).toBe(404);

    const after = (await (await fetch(`${stack.url}/runs/crons/${cron.cron_id}`)).json()) as CronRow;
    expect(after).toEqual(cron);
    const schedule = await stack.temporal.schedule.getHandle(cronScheduleId(cron.cron_id)).describe();
    expect(schedule.spec).toEqual(before.spec);
    expect((await getCron(stack.db, cron.cron_id))?.sync).toBe(CronSync.synced);
    expect((await fetch(`${stack.url}/runs/crons/${cron.cron_id}`, { method: 'DELETE' })).status).toBe(204);
  });
});

describe('reconciliation after a crash', () => {
  const deps = () => ({ ...stack.deps });
  const newRow = async (sync: CronSync, fields: Partial<CronRow> = {}) => {
    const row = await insertCron(stack.db, {
      cron_id: randomUUID(),
      assistant_id: systemAssistantId('agent'),
      thread_id: null,
      user_id: null,
      schedule: '0 6 * * *',
      timezone: null,
      end_time: null,
      enabled: true,
      on_run_completed: 'delete',
      payload: {},
      metadata: {},
      ...fields,
    });
    await setCronSync(stack.db, row.cron_id, sync);
    return (await getCron(stack.db, row.cron_id))!;
  };

  it('undoes a create that died before its Schedule existed, and finishes one that died after', async () => {
    const early = await newRow(CronSync.creating);
    const late = await newRow(CronSync.creating);
    await pushSchedule(deps(), late);
    await reconcileCrons(deps(), { graceMs: 0, orphans: false });
    expect(await getCron(stack.db, early.cron_id)).toBeUndefined();
    expect(await scheduleExists(deps(), early.cron_id)).toBe(false);
    expect((await getCron(stack.db, late.cron_id))?.sync).toBe(CronSync.synced);
    expect(await scheduleExists(deps(), late.cron_id)).toBe(true);
  });

  it('pushes a patch whose Schedule update never happened, and finishes a half-done delete', async () => {
    const patchedRow = await newRow(CronSync.creating);
    await pushSchedule(deps(), patchedRow);
    await updateCronFields(stack.db, patchedRow.cron_id, { ...patchedRow, schedule: '15 2 * * *', enabled: false }, CronSync.updating);
    const deleting = await newRow(CronSync.deleting);
    await pushSchedule(deps(), deleting);

    await reconcileCrons(deps(), { graceMs: 0, orphans: false });
    const schedule = await stack.temporal.schedule.getHandle(cronScheduleId(patchedRow.cron_id)).describe();
    expect(schedule.spec.calendars?.[0]?.minute).toEqual([{ start: 15, end: 15, step: 1 }]);
    expect(schedule.state.paused).toBe(true);
    expect((await getCron(stack.db, patchedRow.cron_id))?.sync).toBe(CronSync.synced);
    expect(await getCron(stack.db, deleting.cron_id)).toBeUndefined();
    expect(await scheduleExists(deps(), deleting.cron_id)).toBe(false);
  });

  it('on start, deletes Schedules without a row and recreates Schedules a synced row lost', async () => {
    const orphan = await newRow(CronSync.synced);
    await pushSchedule(deps(), orphan);
    await stack.db.query('DELETE FROM crons WHERE cron_id = $1', [orphan.cron_id]);
    const lost = await newRow(CronSync.synced);
    // Listing is eventually consistent: wait until the orphan is visible, as it is to a process starting later.
    await vi.waitFor(async () => expect(await schedules()).toContain(cronScheduleId(orphan.cron_id)), { timeout: 20_000 });

    await reconcileCrons(deps(), { graceMs: 60_000, orphans: true });
    expect(await scheduleExists(deps(), orphan.cron_id)).toBe(false);
    expect(await scheduleExists(deps(), lost.cron_id)).toBe(true);
  });

  it('lets an orphan Schedule that fires remove itself', async () => {
    const orphan = await newRow(CronSync.synced, { schedule: '* * * * * * *' });
    await pushSchedule(deps(), orphan);
    await stack.db.query('DELETE FROM crons WHERE cron_id = $1', [orphan.cron_id]);
    await vi.waitFor(async () => expect(await scheduleExists(deps(), orphan.cron_id)).toBe(false), { timeout: 20_000, interval: 250 });
  });
});
