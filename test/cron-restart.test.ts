import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../scripts/temporal-cli.js';
import { human } from './helpers/input.js';
import { spawnRuntime, type RuntimeProcess } from './helpers/processes.js';

// A cron keeps its rhythm across a restart of everything (`npm start`: the Temporal dev server with its persisted
// database, worker, API, embedded database). Fires resume, none runs twice, and only fires due while the runtime
// was down may be missing: Temporal does not backfill them beyond its 10 s catch-up window.

let runtime: RuntimeProcess | undefined;
afterAll(async () => {
  await runtime?.stop();
});

const PERIOD_MS = 2_000;
/** A fire's run id is derived from its scheduled time: a UUIDv7 whose first 48 bits are that time. */
const scheduledMs = (runId: string) => parseInt(runId.replace(/-/g, '').slice(0, 12), 16);

describe('cron across a restart', () => {
  it('resumes firing after every process, Temporal included, was stopped and started again', async () => {
    const env = {
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'rt-cron-restart-')),
      PORT: String(await freePort()),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
    };
    runtime = await spawnRuntime(env);
    let client = new Client({ apiUrl: runtime.url, apiKey: null });
    const thread = await client.threads.create();
    const cron = await client.crons.createForThread(thread.thread_id, 'agent', {
      schedule: '*/2 * * * * * *',
      input: human('tick'),
      config: { configurable: { script: [{ content: 'tock' }] } },
    });
    const fired = async () => (await client.runs.list(thread.thread_id, { limit: 200 })).map((r) => scheduledMs(r.run_id));
    await vi.waitFor(async () => expect((await fired()).length).toBeGreaterThanOrEqual(2), { timeout: 60_000, interval: 500 });

    const stoppedAt = Date.now();
    expect(await runtime.stop()).toBe(0);
    runtime = await spawnRuntime(env);
    const readyAt = Date.now();
    client = new Client({ apiUrl: runtime.url, apiKey: null });
    await vi.waitFor(async () => expect((await fired()).filter((t) => t > readyAt).length).toBeGreaterThanOrEqual(2), {
      timeout: 60_000,
      interval: 500,
    });
    await client.crons.delete(cron.cron_id);

    const times = (await fired()).sort((a, b) => a - b);
    expect(new Set(times).size).toBe(times.length);
    // Every tick outside the outage fired; ticks inside it may be missing, and nothing else is.
    const missing: number[] = [];
    for (let t = times[0]!; t <= times.at(-1)!; t += PERIOD_MS) if (!times.includes(t)) missing.push(t);
    expect(missing.filter((t) => t < stoppedAt - 1_000 || t > readyAt + 1_000)).toEqual([]);
    expect(times.every((t) => t % PERIOD_MS === 0)).toBe(true);
    const runs = await client.runs.list(thread.thread_id, { limit: 200 });
    await vi.waitFor(async () => {
      const statuses = (await client.runs.list(thread.thread_id, { limit: 200 })).map((r) => r.status);
      expect(statuses.every((s) => s === 'success')).toBe(true);
    });
    expect(runs.length).toBe(times.length);
  }, 300_000);
});
