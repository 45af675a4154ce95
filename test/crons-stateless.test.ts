import type { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listCronFires } from '../db/crons.js';
import { getRun } from '../db/runs.js';
import { human } from './helpers/input.js';
import { startStack, testSettings, type Stack } from './helpers/stack.js';

// Stateless crons make a new thread per fire. By default the thread goes after its run (the thread workflow keeps
// a finished stateless thread for a grace period, so waiting clients can read it, then deletes it); `keep` keeps it.
// The grace period is a minute by default (STATELESS_THREAD_GRACE_SECONDS); here 3 s, to keep the test short.

let stack: Stack;
let client: Client;
beforeAll(async () => {
  const timers = { ...testSettings().timers, statelessGraceMs: 3_000 };
  stack = await startStack({ db: 'postgres', settings: { timers } });
  client = stack.client;
});
afterAll(async () => {
  await stack?.stop();
});

const config = { configurable: { script: [{ content: 'done for now' }] } };

async function firedThreads(cronId: string): Promise<string[]> {
  const fires = await listCronFires(stack.db, cronId);
  return fires.map((f) => f.thread_id).filter((t): t is string => t !== null);
}

describe('stateless crons', () => {
  it('create a thread per fire; delete it after the run by default, keep it with on_run_completed=keep', async () => {
    // A few fires each; the crons are deleted once the fires this test needs have happened (end_time is only a
    // backstop: a window of a few seconds can pass with a single fire on a loaded machine).
    const endTime = () => new Date(Date.now() + 60_000).toISOString();
    const kept = await client.crons.create('agent', {
      schedule: '* * * * * * *',
      input: human('a'),
      config,
      onRunCompleted: 'keep',
      endTime: endTime(),
    });
    const dropped = await client.crons.create('agent', { schedule: '* * * * * * *', input: human('b'), config, endTime: endTime() });
    expect((dropped as unknown as { on_run_completed: string }).on_run_completed).toBe('delete');

    await vi.waitFor(async () => expect((await firedThreads(kept.cron_id)).length).toBeGreaterThanOrEqual(2), { timeout: 30_000 });
    await vi.waitFor(async () => expect((await firedThreads(dropped.cron_id)).length).toBeGreaterThanOrEqual(1), { timeout: 30_000 });
    const keptThreads = await firedThreads(kept.cron_id);
    expect(new Set(keptThreads).size).toBe(keptThreads.length);

    // Each fire's run finishes on its own thread, stamped with the cron.
    const [firstDropped] = await firedThreads(dropped.cron_id);
    // A dropped fire's run says it is temporary; read while one exists (each goes with its thread after the grace).
    await vi.waitFor(async () => {
      const runIds = (await listCronFires(stack.db, dropped.cron_id)).flatMap((f) => (f.run_id ? [f.run_id] : []));
      const runs = await Promise.all(runIds.map((id) => getRun(stack.db, id)));
      expect(runs.find(Boolean)?.kwargs).toMatchObject({ temporary: true });
    });
    // Enough fires: stop both (deleting a cron deletes its fire records, so they were read first).
    await Promise.all([client.crons.delete(kept.cron_id), client.crons.delete(dropped.cron_id)]);
    for (const threadId of keptThreads) {
      await vi.waitFor(async () => expect((await client.threads.get(threadId)).status).toBe('idle'), { timeout: 30_000 });
      const values = (await client.threads.getState(threadId)).values as { messages: { content: string }[] };
      expect(values.messages.at(-1)!.content).toBe('done for now');
      const [run] = await client.runs.list(threadId);
      expect((run as unknown as { kwargs: { config: { configurable: { cron_id: string } } } }).kwargs.config.configurable.cron_id).toBe(
        kept.cron_id,
      );
    }

    // The dropped cron's threads go once their grace period is over; the kept ones stay.
    await vi.waitFor(async () => expect(await client.threads.get(firstDropped!).catch(() => null)).toBeNull(), { timeout: 30_000 });
    for (const threadId of keptThreads) expect((await client.threads.get(threadId)).thread_id).toBe(threadId);
  }, 120_000);
});
