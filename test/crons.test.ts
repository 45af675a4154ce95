import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cronScheduleId } from '../core/cron.js';
import { listCronFires } from '../db/crons.js';
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
