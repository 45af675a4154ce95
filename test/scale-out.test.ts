import { randomBytes } from 'node:crypto';
import { Client } from '@langchain/langgraph-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLogger } from '../config/logger.js';
import { openTestDb, type TestDb } from './helpers/stack.js';
import { spawnApi, spawnWorker, type ProcessEnv, type RuntimeProcess } from './helpers/processes.js';
import { human } from './helpers/input.js';

// Scale-out with real processes on one machine: the `npm run api` and `npm run worker` entrypoints, several of
// each, against one Temporal dev server and one PostgreSQL database (PGlite cannot be shared by processes).

let db: TestDb;
let env: ProcessEnv;
const procs: RuntimeProcess[] = [];
let apiA: RuntimeProcess & { url: string };
let apiB: RuntimeProcess & { url: string };

beforeAll(async () => {
  db = await openTestDb('postgres', createLogger('warn'));
  env = {
    DATABASE_URL: db.url!,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `scale-${randomBytes(4).toString('hex')}`,
  };
  const started = await Promise.all([spawnWorker(env), spawnWorker(env), spawnApi(env), spawnApi(env)]);
  procs.push(...started);
  [apiA, apiB] = [started[2] as typeof apiA, started[3] as typeof apiB];
}, 180_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await db?.drop();
});

type Part = { event: string; data: unknown; id?: string };
const slowScript = (words: number, ms: number) => ({
  configurable: { script: [{ content: Array.from({ length: words }, (_, i) => `word${i}`).join(' '), delay_ms: ms }] },
});

async function collect(stream: AsyncIterable<unknown>, onPart?: (p: Part) => void): Promise<Part[]> {
  const parts: Part[] = [];
  for await (const p of stream) {
    parts.push(p as Part);
    onPart?.(p as Part);
  }
  return parts;
}

describe('several API processes and workers', () => {
  it('streams through one API process a run started through the other', async () => {
    const a = new Client({ apiUrl: apiA.url, apiKey: null });
    const b = new Client({ apiUrl: apiB.url, apiKey: null });
    const thread = await a.threads.create();
    const run = await a.runs.create(thread.thread_id, 'agent', {
      input: human('hello'),
      config: slowScript(20, 1500),
      streamMode: ['values', 'messages-tuple'],
      streamResumable: true,
    });
    const parts = await collect(b.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: '-1' }));
    expect(parts[0]!.event).toBe('metadata');
    expect(parts.map((p) => Number(p.id))).toEqual(parts.map((_, i) => i));
    const tokens = parts.filter((p) => p.event === 'messages').map((p) => (p.data as [{ content: string }])[0].content);
    expect(tokens.join('')).toBe(Array.from({ length: 20 }, (_, i) => `word${i}`).join(' '));
    expect((await b.runs.get(thread.thread_id, run.run_id)).status).toBe('success');
    const state = await a.threads.getState<{ messages: { content: string }[] }>(thread.thread_id);
    expect(state.values.messages.at(-1)!.content).toBe(tokens.join(''));
  });

  it('resumes a stream with Last-Event-ID after the API process serving it was killed and restarted', async () => {
    const victim = await spawnApi(env);
    procs.push(victim);
    const client = new Client({ apiUrl: victim.url, apiKey: null });
    const thread = await client.threads.create();
    const abort = new AbortController();
    let runId = '';
    const before: Part[] = [];
    const firstLeg = collect(
      client.runs.stream(thread.thread_id, 'agent', {
        input: human('a long answer please'),
        // 0.2 s a word: the kill after the fifth word lands long before the answer ends (after.length checks it).
        config: slowScript(40, 8000),
        streamMode: ['values', 'messages-tuple'],
        streamResumable: true,
        signal: abort.signal,
        onRunCreated: (r) => void (runId = r.run_id),
      }),
      (p) => before.push(p),
    ).catch(() => []);
    await expect.poll(() => before.filter((p) => p.event === 'messages').length, { interval: 20 }).toBeGreaterThanOrEqual(5);
    await victim.kill();
    abort.abort();
    await firstLeg;
    const lastId = before.at(-1)!.id!;

    const restarted = await spawnApi(env, Number(new URL(victim.url).port));
    procs.push(restarted);
    const again = new Client({ apiUrl: restarted.url, apiKey: null });
    const after = await collect(again.runs.joinStream(thread.thread_id, runId, { lastEventId: lastId }));
    const whole = await collect(again.runs.joinStream(thread.thread_id, runId, { lastEventId: '-1' }));

    const union = [...before, ...after];
    expect(union.map((p) => p.id)).toEqual(whole.map((p) => p.id));
    expect(union.map((p) => [p.event, p.data])).toEqual(whole.map((p) => [p.event, p.data]));
    expect(after.length).toBeGreaterThan(0);
    expect(whole.at(-1)!.event).toBe('values');
  });
});
