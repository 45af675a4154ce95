import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, portIsFree } from '../scripts/temporal-cli.js';
import { spawnRuntime, type RuntimeProcess } from './helpers/processes.js';

// A person answers an approval after everything was restarted: the whole runtime (`npm start`: Temporal dev
// server, worker, API, embedded database) is stopped while a thread waits, started again on the same data
// folder, and the thread completes from where it stopped.

let runtime: RuntimeProcess | undefined;
afterAll(async () => {
  await runtime?.stop();
});

type Values = { messages: { type: string; content: string }[]; __interrupt__?: { id: string }[] };
const config = {
  configurable: {
    script: [
      { tool_calls: [{ name: 'create_ticket', args: { title: 'Replace the badge reader', priority: 'normal' } }] },
      { content: 'The ticket is open.' },
    ],
    interrupt_on: { create_ticket: true },
  },
};

describe('restart while waiting', () => {
  it('resumes a thread after every process, Temporal included, was stopped and started again', async () => {
    const env = {
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'rt-restart-')),
      PORT: String(await freePort()),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
    };
    runtime = await spawnRuntime(env);
    let client = new Client({ apiUrl: runtime.url, apiKey: null });
    const thread = await client.threads.create();
    const paused = (await client.runs.wait(thread.thread_id, 'agent', {
      input: { messages: [{ role: 'user', content: 'my badge reader is broken' }] },
      config,
    })) as Values;
    expect(paused.__interrupt__).toHaveLength(1);
    const before = await client.threads.getState(thread.thread_id);

    expect(await runtime.stop()).toBe(0);
    expect(await portIsFree(Number(env.TEMPORAL_PORT))).toBe(true);

    runtime = await spawnRuntime(env);
    client = new Client({ apiUrl: runtime.url, apiKey: null });
    const after = await client.threads.getState(thread.thread_id);
    expect(after.checkpoint).toEqual(before.checkpoint);
    expect((await client.threads.get(thread.thread_id)).status).toBe('interrupted');

    const done = (await client.runs.wait(thread.thread_id, 'agent', {
      command: { resume: { decisions: [{ type: 'approve' }] } },
      config,
    })) as Values;
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(done.messages.at(-1)!.content).toBe('The ticket is open.');
    const history = await client.threads.getHistory(thread.thread_id, { limit: 20 });
    expect(history.map((h) => h.metadata?.step)).toEqual([3, 2, 1, 0, -1]);
  }, 240_000);
});
