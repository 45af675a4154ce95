import { randomBytes } from 'node:crypto';
import { Client } from '@langchain/langgraph-sdk';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { threadWorkflowId } from '../core/ids.js';
import { threadSnapshot } from '../workflows/messages.js';
import { ModelGate } from './helpers/gate.js';
import { spawnApi, type ProcessEnv, type RuntimeProcess } from './helpers/processes.js';
import { openTestDb, startTestWorker, testModels, type TestDb, type TestWorker } from './helpers/stack.js';
import { human } from './helpers/input.js';

// Per multitask strategy, 20 runs sent at once to one thread through two API processes (two workers, one
// Temporal, one PostgreSQL). The invariants are checked from the database and the workflow's own queue.
// The API processes are real `npm run api` processes, racing each other to admit runs. The two workers run in
// this process so that the test can hold their model turns (ModelGate): the run in flight while the 20 arrive
// stays in flight until all 20 have been answered, however long that takes on a loaded machine.

const gate = new ModelGate();
let db: TestDb;
let env: ProcessEnv;
const procs: RuntimeProcess[] = [];
let workers: TestWorker[] = [];
let apis: (RuntimeProcess & { url: string })[];
let temporal: TemporalClient;

beforeAll(async () => {
  const log = createLogger('warn');
  db = await openTestDb('postgres', log);
  env = { DATABASE_URL: db.url!, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: `dt-${randomBytes(4).toString('hex')}` };
  const worker = () =>
    startTestWorker({
      address: env.TEMPORAL_ADDRESS,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      db: db.db,
      log,
      bundlePath: inject('workflowBundlePath'),
      models: gate.wrap(testModels()),
    });
  workers = await Promise.all([worker(), worker()]);
  apis = await Promise.all([spawnApi(env), spawnApi(env)]);
  procs.push(...apis);
  temporal = new TemporalClient({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }) });
}, 180_000);

afterEach(() => gate.releaseAll());
afterAll(async () => {
  for (const p of procs) if (p.output().includes('"level":"error"')) console.log('PROC-OUTPUT', p.output().slice(0, 3000));
  await Promise.all(procs.map((p) => p.stop()));
  await Promise.all(workers.map((w) => w.stop()));
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
/** Turn 0 answers 'first answer', turn n 'answer n'; later turns take `laterMs` each. */
const script = (laterMs: number) => ({
  configurable: {
    script: [{ content: 'first answer' }, ...Array.from({ length: 30 }, (_, i) => ({ content: `answer ${i + 1}`, delay_ms: laterMs }))],
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

/** The thread's runs once none is pending or running (21 runs one after another can take a while under load). */
async function settled(threadId: string): Promise<RunRow[]> {
  const active = async () => (await runsOf(threadId)).filter((r) => ['pending', 'running'].includes(r.status)).length;
  await expect.poll(active, { timeout: 150_000, interval: 100 }).toBe(0);
  return runsOf(threadId);
}

/** At most one run active at any time: every run starts after the one before it ended. */
function expectSequential(runs: RunRow[]): void {
  const started = runs.filter((r) => r.started_at);
  for (let i = 1; i < started.length; i++) {
    expect(Date.parse(started[i]!.started_at!)).toBeGreaterThanOrEqual(Date.parse(started[i - 1]!.ended_at!));
  }
}

async function waitRunning(threadId: string, runId: string): Promise<void> {
  await expect.poll(async () => (await runsOf(threadId)).find((r) => r.run_id === runId)?.status).toBe('running');
}

describe('20 concurrent runs on one thread, through two API processes', { timeout: 240_000 }, () => {
  it('reject: exactly one is accepted and 19 answer 409', async () => {
    const threadId = (await client().threads.create()).thread_id;
    // Whichever run is accepted cannot finish before all 20 are answered, so the other 19 meet a busy thread.
    const busy = gate.hold('*');
    const answers = await fire(threadId, 'reject', script(100));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
    busy.release();
    const runs = await settled(threadId);
    expect(runs.map((r) => r.status)).toEqual(['success']);
    expect((await db.db.query('SELECT 1 FROM run_requests WHERE thread_id = $1', [threadId])).rowCount).toBe(0);
  });

  it('enqueue: all are queued and complete one at a time in submission order', async () => {
    const threadId = (await client().threads.create()).thread_id;
    const config = script(150);
    const held = gate.hold('first');
    const first = await client().runs.create(threadId, 'agent', { input: human('first'), config });
    await expect.poll(() => held.entered).toBeGreaterThan(0);
    const answers = await fire(threadId, 'enqueue', config);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const queue = await temporal.workflow.getHandle(threadWorkflowId(threadId)).query(threadSnapshot);
    expect(queue.activeRunId).toBe(first.run_id);
    expect(new Set(queue.queuedRunIds)).toEqual(new Set(answers.map((a) => a.runId)));
    held.release();
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
    const config = script(100);
    await client().runs.wait(threadId, 'agent', { input: human('baseline'), config });
    // From here no run can finish before all 20 are in: each one meets the one before it still in flight.
    const inFlight = gate.hold('*');
    const doomed = await client().runs.create(threadId, 'agent', { input: human('doomed'), config });
    await waitRunning(threadId, doomed.run_id);
    const answers = await fire(threadId, 'rollback', config);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    inFlight.release();
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
    const config = script(100);
    // No run can finish before all 20 are in, so the first one is certainly interrupted.
    const inFlight = gate.hold('*');
    const first = await client().runs.create(threadId, 'agent', { input: human('first'), config });
    await waitRunning(threadId, first.run_id);
    const answers = await fire(threadId, 'interrupt', config);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    inFlight.release();
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
