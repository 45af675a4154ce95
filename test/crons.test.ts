import type { Client } from '@langchain/langgraph-sdk';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cronScheduleId } from '../core/cron.js';
import { listCronFires, type CronFireRow } from '../db/crons.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// Crons on Temporal Schedules, driven through the JS SDK's client.crons. Schedules use Temporal's seven-field
// form (leading seconds, trailing year), so fires come every second or two and no test waits minutes.

let stack: Stack;
let client: Client;
beforeAll(async () => {
  stack = await startStack();
  client = stack.client;
});
afterAll(async () => {
  await stack?.stop();
});

const everySecond = '* * * * * * *';
const config = { configurable: { script: [{ content: 'scheduled hello' }] } };

async function cronRuns(threadId: string, cronId: string) {
  const runs = await client.runs.list(threadId, { limit: 100 });
  type Kwargs = { kwargs: { config: { configurable?: { cron_id?: string } } } };
  return runs.filter((r) => (r as unknown as Kwargs).kwargs.config.configurable?.cron_id === cronId);
}

describe('stateful crons', () => {
  it('submit runs to their thread, each stamped with the cron id and its metadata, one Schedule per cron', async () => {
    const thread = await client.threads.create();
    const cron = await client.crons.createForThread(thread.thread_id, 'agent', {
      schedule: everySecond,
      input: human('tick'),
      config,
      metadata: { team: 'ops' },
    });
    expect(cron).toMatchObject({ thread_id: thread.thread_id, schedule: everySecond, enabled: true, metadata: { team: 'ops' } });
    expect((cron as unknown as { payload: { config: { configurable: { cron_id: string } } } }).payload.config.configurable.cron_id).toBe(
      cron.cron_id,
    );
    const schedule = await stack.temporal.schedule.getHandle(cronScheduleId(cron.cron_id)).describe();
    expect(schedule.memo).toMatchObject({ cron_id: cron.cron_id, task_queue: stack.taskQueue });
    expect(schedule.state.paused).toBe(false);

    await vi.waitFor(async () => expect((await cronRuns(thread.thread_id, cron.cron_id)).length).toBeGreaterThanOrEqual(2), {
      timeout: 30_000,
      interval: 250,
    });
    const [run] = await cronRuns(thread.thread_id, cron.cron_id);
    expect(run!.metadata).toMatchObject({ team: 'ops' });
    // The run went through admission like an interactive one: it has events, and the thread has its checkpoints.
    await vi.waitFor(async () => expect((await client.runs.get(thread.thread_id, run!.run_id)).status).toBe('success'), {
      timeout: 30_000,
    });
    const history = await client.threads.getHistory(thread.thread_id, { limit: 100 });
    expect(history.some((h) => h.metadata?.run_id === run!.run_id)).toBe(true);
    const fires = await listCronFires(stack.db, cron.cron_id);
    expect(fires.length).toBeGreaterThanOrEqual(2);
    expect(new Set(fires.map((f) => f.run_id)).size).toBe(fires.length);
    await client.crons.delete(cron.cron_id);
  });
});

/** Fires of a cron so far (scheduled time, run), read from the table every fire records itself in. */
const fires = (cronId: string): Promise<CronFireRow[]> => listCronFires(stack.db, cronId);

/** Waits until a cron has fired `n` more times: the clock the negative checks below are read against. */
async function ticks(cronId: string, n: number): Promise<void> {
  const start = (await fires(cronId)).length;
  await vi.waitFor(async () => expect((await fires(cronId)).length).toBeGreaterThanOrEqual(start + n), { timeout: 30_000, interval: 200 });
}

describe('enabled and end_time', () => {
  it('stops firing while disabled (the Schedule is paused) and fires again once enabled', async () => {
    const [a, b] = [await client.threads.create(), await client.threads.create()];
    const control = await client.crons.createForThread(b.thread_id, 'agent', { schedule: everySecond, input: human('control'), config });
    const cron = await client.crons.createForThread(a.thread_id, 'agent', { schedule: everySecond, input: human('tick'), config });
    await ticks(cron.cron_id, 1);

    const disabled = await client.crons.update(cron.cron_id, { enabled: false });
    const disabledAt = Date.now();
    expect(disabled.enabled).toBe(false);
    expect((await stack.temporal.schedule.getHandle(cronScheduleId(cron.cron_id)).describe()).state.paused).toBe(true);
    await ticks(control.cron_id, 3);
    expect((await fires(cron.cron_id)).every((f) => Date.parse(f.scheduled_at) <= disabledAt)).toBe(true);

    expect((await client.crons.update(cron.cron_id, { enabled: true })).enabled).toBe(true);
    const enabledAt = Date.now();
    await vi.waitFor(async () => expect((await fires(cron.cron_id)).some((f) => Date.parse(f.scheduled_at) > enabledAt)).toBe(true), {
      timeout: 30_000,
    });
    await client.crons.delete(control.cron_id);
    await client.crons.delete(cron.cron_id);
  });

  it('ends at end_time: no fire is scheduled after it, and next_run_date becomes null', async () => {
    const [a, b] = [await client.threads.create(), await client.threads.create()];
    const control = await client.crons.createForThread(b.thread_id, 'agent', { schedule: everySecond, input: human('control'), config });
    const endTime = new Date(Date.now() + 4_000).toISOString();
    const cron = await client.crons.createForThread(a.thread_id, 'agent', { schedule: everySecond, input: human('tick'), config, endTime });
    expect(Date.parse(cron.end_time!)).toBe(Date.parse(endTime));
    await ticks(cron.cron_id, 1);
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(Date.parse(endTime)), { timeout: 10_000 });
    await ticks(control.cron_id, 3);
    const all = await fires(cron.cron_id);
    expect(all.length).toBeGreaterThanOrEqual(1);
    expect(all.every((f) => Date.parse(f.scheduled_at) <= Date.parse(endTime))).toBe(true);
    const [found] = await client.crons.search({ threadId: a.thread_id });
    expect(found!.next_run_date).toBeNull();
    await client.crons.delete(control.cron_id);
  });
});

describe('client.crons', () => {
  it('creates, updates (metadata merged), searches with sort, select and metadata, counts and deletes', async () => {
    const thread = await client.threads.create();
    const nightly = await client.crons.create('agent', {
      schedule: '0 3 * * *',
      timezone: 'Europe/Berlin',
      input: human('report'),
      metadata: { kind: 'report', owner: 'ana' },
      onRunCompleted: 'keep',
    });
    expect(nightly).toMatchObject({ thread_id: null, on_run_completed: 'keep', timezone: 'Europe/Berlin', user_id: null, enabled: true });
    // 03:00 in Berlin is 01:00 or 02:00 UTC.
    expect([1, 2]).toContain(new Date(nightly.next_run_date!).getUTCHours());
    const hourly = await client.crons.createForThread(thread.thread_id, 'agent', { schedule: '@hourly', metadata: { kind: 'ping' } });
    expect((hourly as unknown as { on_run_completed: unknown }).on_run_completed).toBeNull();

    const updated = await client.crons.update(nightly.cron_id, { schedule: '30 4 * * 1-5', metadata: { owner: 'bo' }, enabled: false });
    expect(updated).toMatchObject({ schedule: '30 4 * * 1-5', metadata: { kind: 'report', owner: 'bo' }, enabled: false });
    const spec = (await stack.temporal.schedule.getHandle(cronScheduleId(nightly.cron_id)).describe()).spec;
    expect(spec.calendars?.[0]?.minute).toEqual([{ start: 30, end: 30, step: 1 }]);

    const mine = await client.crons.search({ metadata: { kind: 'report' } });
    expect(mine.map((c) => c.cron_id)).toEqual([nightly.cron_id]);
    const both = await client.crons.search({ assistantId: 'agent', sortBy: 'created_at', sortOrder: 'asc', limit: 100 });
    const order = both.map((c) => c.cron_id).filter((id) => id === nightly.cron_id || id === hourly.cron_id);
    expect(order).toEqual([nightly.cron_id, hourly.cron_id]);
    const slim = await client.crons.search({ threadId: thread.thread_id, select: ['cron_id', 'schedule', 'now'] });
    expect(Object.keys(slim[0]!).sort()).toEqual(['cron_id', 'now', 'schedule']);
    expect(await client.crons.search({ enabled: false, metadata: { owner: 'bo' } })).toHaveLength(1);
    expect(await client.crons.count({ threadId: thread.thread_id })).toBe(1);
    expect(await client.crons.count({ metadata: { kind: 'report' } })).toBe(1);
    const page = await fetch(`${stack.url}/runs/crons/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: 'agent', limit: 1 }),
    });
    expect(Number(page.headers.get('x-pagination-total'))).toBeGreaterThanOrEqual(2);
    expect(page.headers.get('x-pagination-next')).toBe('1');
    expect((await fetch(`${stack.url}/runs/crons/${hourly.cron_id}`).then((r) => r.json())) as object).toMatchObject({
      schedule: '@hourly',
    });

    await client.crons.delete(nightly.cron_id);
    await expect(stack.temporal.schedule.getHandle(cronScheduleId(nightly.cron_id)).describe()).rejects.toThrow();
    await expect(client.crons.delete(nightly.cron_id)).rejects.toThrow(/404/);
    expect(await client.crons.count({ metadata: { kind: 'report' } })).toBe(0);

    // Deleting the thread takes its cron and the cron's Schedule along.
    await client.threads.delete(thread.thread_id);
    expect(await client.crons.count({ threadId: thread.thread_id })).toBe(0);
    await expect(stack.temporal.schedule.getHandle(cronScheduleId(hourly.cron_id)).describe()).rejects.toThrow();
  });

  it('deletes the crons of a deleted assistant with their Schedules', async () => {
    const assistant = await client.assistants.create({ graphId: 'agent', name: 'cron owner' });
    const cron = await client.crons.create(assistant.assistant_id, { schedule: '@daily' });
    await client.assistants.delete(assistant.assistant_id);
    expect(await client.crons.count({ assistantId: assistant.assistant_id })).toBe(0);
    await expect(stack.temporal.schedule.getHandle(cronScheduleId(cron.cron_id)).describe()).rejects.toThrow();
  });
});

describe('cron runs in streams', () => {
  it('are followed by the thread stream like any other run', async () => {
    const thread = await client.threads.create();
    const abort = new AbortController();
    const seen: { event: string; data: unknown }[] = [];
    const following = (async () => {
      try {
        for await (const part of client.threads.joinStream(thread.thread_id, {
          streamMode: ['run_modes', 'lifecycle'],
          signal: abort.signal,
        })) {
          seen.push(part as { event: string; data: unknown });
          if (part.event === 'lifecycle' && (part.data as { event: string }).event === 'success') abort.abort();
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    })();
    const cron = await client.crons.createForThread(thread.thread_id, 'agent', { schedule: everySecond, input: human('tick'), config });
    await following;
    await client.crons.delete(cron.cron_id);
    expect(seen.map((e) => e.event)).toContain('metadata');
    const values = seen.filter((e) => e.event === 'values').at(-1)?.data as { messages: { content: string }[] };
    expect(values.messages.at(-1)!.content).toBe('scheduled hello');
  });
});

describe('overlap follows multitask_strategy', () => {
  it('reject: a fire due while the previous run still runs is skipped by the Schedule, never refused by the thread', async () => {
    const thread = await client.threads.create();
    const slow = {
      configurable: {
        script: [
          { content: 'slow', delay_ms: 2_500 },
          { content: 'slow again', delay_ms: 2_500 },
        ],
      },
    };
    const cron = await client.crons.createForThread(thread.thread_id, 'agent', {
      schedule: everySecond,
      input: human('tick'),
      config: slow,
      multitaskStrategy: 'reject',
    });
    const handle = stack.temporal.schedule.getHandle(cronScheduleId(cron.cron_id));
    await vi.waitFor(async () => expect((await handle.describe()).info.numActionsSkippedOverlap).toBeGreaterThanOrEqual(2), {
      timeout: 30_000,
      interval: 250,
    });
    await vi.waitFor(async () => expect((await cronRuns(thread.thread_id, cron.cron_id)).length).toBeGreaterThanOrEqual(2), {
      timeout: 30_000,
    });
    await client.crons.delete(cron.cron_id);
    expect((await fires(cron.cron_id)).filter((f) => f.error !== null)).toEqual([]);
    const runs = await cronRuns(thread.thread_id, cron.cron_id);
    expect(runs.every((r) => r.multitask_strategy === 'reject')).toBe(true);
  });

  it('interrupt: the next fire cancels the previous fire, which interrupts its run', async () => {
    const thread = await client.threads.create();
    const endless = { configurable: { script: [{ content: 'never done', delay_ms: 60_000 }] } };
    const cron = await client.crons.createForThread(thread.thread_id, 'agent', {
      schedule: '*/2 * * * * * *',
      input: human('tick'),
      config: endless,
      multitaskStrategy: 'interrupt',
    });
    await vi.waitFor(
      async () => expect((await cronRuns(thread.thread_id, cron.cron_id)).some((r) => r.status === 'interrupted')).toBe(true),
      { timeout: 30_000, interval: 250 },
    );
    const [first] = (await stack.temporal.schedule.getHandle(cronScheduleId(cron.cron_id)).describe()).info.recentActions;
    await client.crons.delete(cron.cron_id);
    const fire = await stack.temporal.workflow.getHandle(first!.action.workflow.workflowId).describe();
    expect(fire.status.name).toBe('CANCELLED');
  });
});

describe('server info and OpenAPI', () => {
  it('reports crons and documents the new routes', async () => {
    const info = (await (await fetch(`${stack.url}/info`)).json()) as { flags: { crons: boolean } };
    expect(info.flags.crons).toBe(true);
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { paths: Record<string, object> };
    for (const path of [
      '/runs/crons',
      '/threads/{thread_id}/runs/crons',
      '/runs/crons/{cron_id}',
      '/runs/crons/search',
      '/runs/crons/count',
      '/mcp',
      '/a2a/{assistant_id}',
      '/a2a/{assistant_id}/.well-known/agent-card.json',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
    expect(Object.keys(doc.paths['/runs/crons/{cron_id}']!).sort()).toEqual(['delete', 'get', 'patch']);
  });
});

describe('backfill', () => {
  it('replays past fire times on purpose; a time that already fired creates no second run', async () => {
    const thread = await client.threads.create();
    const cron = await client.crons.createForThread(thread.thread_id, 'agent', { schedule: everySecond, input: human('tick'), config });
    await ticks(cron.cron_id, 2);
    const [first, second] = await fires(cron.cron_id);
    const handle = stack.temporal.schedule.getHandle(cronScheduleId(cron.cron_id));
    const start = new Date(Date.parse(first!.scheduled_at));
    const end = new Date(Date.parse(second!.scheduled_at));
    await handle.backfill({ start, end, overlap: ScheduleOverlapPolicy.ALLOW_ALL });
    // The backfilled fires run under the same workflow ids as the originals, a second time each.
    const fireId = `cron-${cron.cron_id}-${start.toISOString().replace('.000Z', 'Z')}`;
    await vi.waitFor(
      async () => {
        const runs: string[] = [];
        for await (const w of stack.temporal.workflow.list({ query: `WorkflowId = '${fireId}' AND ExecutionStatus = 'Completed'` }))
          runs.push(w.runId);
        expect(runs.length).toBe(2);
      },
      { timeout: 30_000, interval: 500 },
    );
    await client.crons.delete(cron.cron_id);
    const runs = await cronRuns(thread.thread_id, cron.cron_id);
    const times = runs.map((r) => r.run_id.replace(/-/g, '').slice(0, 12));
    expect(new Set(times).size).toBe(runs.length);
  });
});
