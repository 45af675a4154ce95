import { randomBytes } from 'node:crypto';
import { Client } from '@langchain/langgraph-sdk';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { threadSnapshot, threadWorkflowId } from '../workflows/messages.js';
import { spawnApi, spawnWorker, type ProcessEnv, type RuntimeProcess } from './helpers/processes.js';
import { openTestDb, type TestDb } from './helpers/stack.js';
import { human } from './helpers/input.js';

// Per multitask strategy, 20 runs sent at once to one thread through two API processes (two workers, one
// Temporal, one PostgreSQL). The invariants are checked from the database and the workflow's own queue.

let db: TestDb;
let env: ProcessEnv;
const procs: RuntimeProcess[] = [];
let apis: (RuntimeProcess & { url: string })[];
let temporal: TemporalClient;

beforeAll(async () => {
  db = await openTestDb('postgres', createLogger('warn'));
  env = { DATABASE_URL: db.url!, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: `dt-${randomBytes(4).toString('hex')}` };
  const started = await Promise.all([spawnWorker(env), spawnWorker(env), spawnApi(env), spawnApi(env)]);
  procs.push(...started);
  apis = started.slice(2) as typeof apis;
  temporal = new TemporalClient({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }) });
}, 180_000);

afterAll(async () => {
  for (const p of procs) if (p.output().includes('"level":"error"')) console.log('PROC-OUTPUT', p.output().slice(0, 3000));
  await Promise.all(procs.map((p) => p.stop()));
  await temporal?.connection.close();
  await db?.drop();
});

interface RunRow {
  run_id: string;
  status: string;
  started_at: string | null;
  ended_at: string | null;
}

const client = (i = 0) => new Client({ apiUrl: apis[i % 2]!.url, apiKey: null });
/** Turn 0 is slow, so the thread is busy when the 20 arrive; later turns take a little time each. */
const script = (firstMs: number, laterMs: number) => ({
  configurable: {
    script: [
      { content: 'first answer', delay_ms: firstMs },
      ...Array.from({ length: 30 }, (_, i) => ({ content: `answer ${i + 1}`, delay_ms: laterMs })),
    ],
  },
});

async function fire(threadId: string, strategy: string, config: object): Promise<{ status: number; runId?: string; text: string }[]> {
  return Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const res = await fetch(`${apis[i % 2]!.url}/threads/${threadId}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ assistant_id: 'agent', input: human(`message ${i}`), config, multitask_strategy: strategy }),
      });
      const body = (await res.json()) as { run_id?: string };
      return { status: res.status, runId: body.run_id, text: `message ${i}` };
    }),
  );
}

async function runsOf(threadId: string): Promise<RunRow[]> {
  const r = await db.db.query<RunRow>(
    'SELECT run_id, status, started_at, ended_at FROM runs WHERE thread_id = $1 ORDER BY started_at NULLS LAST',
    [threadId],
  );
  return r.rows;
}

async function settled(threadId: string): Promise<RunRow[]> {
  for (let i = 0; i < 600; i++) {
    const runs = await runsOf(threadId);
    if (runs.every((r) => !['pending', 'running'].includes(r.status))) return runs;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('runs never settled');
}

/** At most one run active at any time: every run starts after the one before it ended. */
function expectSequential(runs: RunRow[]): void {
  const started = runs.filter((r) => r.started_at);
  for (let i = 1; i < started.length; i++) {
    expect(Date.parse(started[i]!.started_at!)).toBeGreaterThanOrEqual(Date.parse(started[i - 1]!.ended_at!));
  }
}

async function waitRunning(threadId: string, runId: string): Promise<void> {
  for (let i = 0; i < 200 && (await runsOf(threadId)).find((r) => r.run_id === runId)?.status !== 'running'; i++)
    await new Promise((r) => setTimeout(r, 50));
}

describe('20 concurrent runs on one thread, through two API processes', () => {
  it('reject: exactly one is accepted and 19 answer 409', async () => {
    const threadId = (await client().threads.create()).thread_id;
    const answers = await fire(threadId, 'reject', script(3000, 100));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
    const runs = await settled(threadId);
    expect(runs.map((r) => r.status)).toEqual(['success']);
    expect((await db.db.query('SELECT 1 FROM run_requests WHERE thread_id = $1', [threadId])).rowCount).toBe(0);
  });

  it('enqueue: all are queued and complete one at a time in submission order', async () => {
    const threadId = (await client().threads.create()).thread_id;
    const config = script(5000, 150);
    const first = await client().runs.create(threadId, 'agent', { input: human('first'), config });
    const answers = await fire(threadId, 'enqueue', config);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const queue = await temporal.workflow.getHandle(threadWorkflowId(threadId)).query(threadSnapshot);
    expect(queue.activeRunId).toBe(first.run_id);
    expect(new Set(queue.queuedRunIds)).toEqual(new Set(answers.map((a) => a.runId)));
    const runs = await settled(threadId);
    expectSequential(runs);
    expect(runs.map((r) => r.run_id)).toEqual([first.run_id, ...queue.queuedRunIds]);
    expect(runs.every((r) => r.status === 'success')).toBe(true);
    const state = await client(1).threads.getState<{ messages: { type: string; content: string }[] }>(threadId);
    const byRun = new Map(answers.map((a) => [a.runId, a.text]));
    expect(state.values.messages.filter((m) => m.type === 'human').map((m) => m.content)).toEqual([
      'first',
      ...queue.queuedRunIds.map((id) => byRun.get(id)),
    ]);
  });

  it('rollback: only the last run survives, with no trace of the others in state or history', async () => {
    const threadId = (await client().threads.create()).thread_id;
    const config = script(0, 2000);
    await client().runs.wait(threadId, 'agent', { input: human('baseline'), config });
    const doomed = await client().runs.create(threadId, 'agent', { input: human('doomed'), config });
    await waitRunning(threadId, doomed.run_id);
    const answers = await fire(threadId, 'rollback', config);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const runs = await settled(threadId);
    expectSequential(runs);
    expect(runs).toHaveLength(2);
    const survivor = answers.find((a) => a.runId === runs[1]!.run_id)!;
    expect(runs.map((r) => r.status)).toEqual(['success', 'success']);
    const state = await client(1).threads.getState<{ messages: { content: string }[] }>(threadId);
    expect(state.values.messages.map((m) => m.content)).toEqual(['baseline', 'first answer', survivor.text, 'answer 1']);
    const history = await client(1).threads.getHistory(threadId, { limit: 100 });
    const kept = new Set(runs.map((r) => r.run_id));
    expect(history.every((h) => kept.has(h.metadata?.run_id as string))).toBe(true);
  });

  it('interrupt: runs in flight are interrupted, their completed steps stay', async () => {
    const threadId = (await client().threads.create()).thread_id;
    const config = script(4000, 1500);
    const first = await client().runs.create(threadId, 'agent', { input: human('first'), config });
    await waitRunning(threadId, first.run_id);
    const answers = await fire(threadId, 'interrupt', config);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const runs = await settled(threadId);
    expectSequential(runs);
    expect(runs.find((r) => r.run_id === first.run_id)!.status).toBe('interrupted');
    expect(runs.filter((r) => r.status === 'success').length).toBeGreaterThanOrEqual(1);
    expect(runs.every((r) => ['success', 'interrupted'].includes(r.status))).toBe(true);
    const state = await client(1).threads.getState<{ messages: { type: string; content: string }[] }>(threadId);
    const humans = state.values.messages.filter((m) => m.type === 'human').map((m) => m.content);
    const history = await client(1).threads.getHistory(threadId, { limit: 500 });
    const text = new Map([[first.run_id, 'first'], ...answers.map((a) => [a.runId!, a.text] as [string, string])]);
    for (const run of runs.filter((r) => r.started_at)) {
      expect(history.some((h) => h.metadata?.run_id === run.run_id)).toBe(true);
      expect(humans).toContain(text.get(run.run_id));
    }
  });
});
