import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defineTool } from '../activities/tools/types.js';
import { listGuardrailEvents } from '../db/guardrails.js';
import { spentUsd } from '../db/spend.js';
import { startStack, startTestWorker, type Stack, type TestWorker } from './helpers/stack.js';
import { human } from './helpers/input.js';

// spend_cap on a real stack: PostgreSQL, two workers on one task queue, the scripted model. Prices make each
// output word cost $1 (the scripted model reports a word as a token) and input free, so every call's cost is
// known: "one two three" costs $3.

const prices = { scripted: { input_per_mtok: 0, output_per_mtok: 1_000_000 } };
const noop = defineTool({ name: 'noop', description: 'Does nothing', schema: z.object({}), run: () => 'ok' });

/** The runs whose model calls each worker streamed. */
const answered = [new Set<string>(), new Set<string>()] as const;
const recordOn = (set: Set<string>) => ({ onModelChunk: (runId: string) => void set.add(runId) });

let stack: Stack;
let second: TestWorker;
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', tools: [noop], modelPrices: prices, hooks: recordOn(answered[0]) });
  second = await startTestWorker({
    address: stack.temporalAddress,
    taskQueue: stack.taskQueue,
    db: stack.db,
    log: stack.log,
    bundlePath: inject('workflowBundlePath'),
    tools: [noop],
    modelPrices: prices,
    hooks: recordOn(answered[1]),
  });
}, 120_000);
afterAll(async () => {
  await second?.stop();
  await stack?.stop();
});

interface Values {
  messages: { type: string; content: string }[];
}

/** A turn that says `words` and calls noop, so the agent loops for another model call. */
const looping = (words: string, turns: number) => Array.from({ length: turns }, () => ({ content: words, tool_calls: [{ name: 'noop' }] }));
const lastText = (v: Values) => v.messages.at(-1)!.content;

async function charges(where: string, params: unknown[]): Promise<number[]> {
  const { rows } = await stack.db.query<{ usd: number }>(`SELECT usd FROM spend_charges WHERE ${where}`, params);
  return rows.map((r) => Number(r.usd));
}

describe('spend_cap', () => {
  it('ends a run at its run cap, and fails it when so configured', async () => {
    const thread = await stack.client.threads.create();
    const middleware = [{ name: 'spend_cap', options: { runUsd: 5 } }];
    const run = await stack.client.runs.create(thread.thread_id, 'agent', {
      input: human('go'),
      config: { configurable: { middleware, script: looping('one two three', 10) } },
    });
    await stack.client.runs.join(thread.thread_id, run.run_id);
    const state = (await stack.client.threads.getState(thread.thread_id)).values as unknown as Values;
    // $0 < 5 admits the first call, $3 < 5 the second, $6 refuses the third.
    expect(await charges('run_id = $1', [run.run_id])).toEqual([3, 3]);
    expect(await spentUsd(stack.db, `run:${run.run_id}`)).toBe(6);
    expect(lastText(state)).toContain('Spend cap reached: run spending is $6.0000 of a $5 cap.');
    expect((await stack.client.runs.get(thread.thread_id, run.run_id)).status).toBe('success');
    const events = await listGuardrailEvents(stack.db, run.run_id);
    expect(events.map((e) => [e.middleware, e.action])).toContainEqual(['spend_cap', 'cap_end']);

    const failing = await stack.client.threads.create();
    const failed = await stack.client.runs.create(failing.thread_id, 'agent', {
      input: human('go'),
      config: {
        configurable: {
          middleware: [{ name: 'spend_cap', options: { runUsd: 5, exitBehavior: 'error' } }],
          script: looping('one two three', 10),
        },
      },
    });
    await stack.client.runs.join(failing.thread_id, failed.run_id);
    expect((await stack.client.runs.get(failing.thread_id, failed.run_id)).status).toBe('error');
    expect(await charges('run_id = $1', [failed.run_id])).toEqual([3, 3]);
  });

  it('counts a thread cap across runs of the thread', async () => {
    const thread = await stack.client.threads.create();
    const configurable = { middleware: [{ name: 'spend_cap', options: { threadUsd: 5 } }], script: [{ content: 'one two three' }] };
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      // Each run's first turn sees i AI messages: the script's one step answers only the first; later ones echo.
      const v = (await stack.client.runs.wait(thread.thread_id, 'agent', {
        input: human('four five six'),
        config: { configurable },
      })) as unknown as Values;
      answers.push(lastText(v));
    }
    expect(answers.slice(0, 2)).toEqual(['one two three', 'four five six']);
    expect(answers[2]).toContain('Spend cap reached: thread spending is $6.0000 of a $5 cap.');
    expect(await spentUsd(stack.db, `thread:${thread.thread_id}`)).toBe(6);
  });

  it('holds a user daily cap across 5 threads racing on 2 workers, overspending by at most one call', async () => {
    const user = `spender-${Date.now()}`;
    const cap = 10;
    const configurable = {
      user_id: user,
      middleware: [{ name: 'spend_cap', options: { userDailyUsd: cap } }],
      script: looping('step', 30),
    };
    const threads = await Promise.all(Array.from({ length: 5 }, () => stack.client.threads.create()));
    const runs = await Promise.all(
      threads.map((t) => stack.client.runs.create(t.thread_id, 'agent', { input: human('go'), config: { configurable } })),
    );
    await Promise.all(runs.map((r) => stack.client.runs.join(r.thread_id, r.run_id)));
    const ids = runs.map((r) => r.run_id);
    const costs = await charges('run_id = ANY($1::text[])', [ids]);
    const total = costs.reduce((a, b) => a + b, 0);
    // The cap was reached (the script alone would have spent $150), and passed by no more than one call.
    expect(total).toBeGreaterThanOrEqual(cap);
    expect(total).toBeLessThanOrEqual(cap + Math.max(...costs));
    const day = new Date().toISOString().slice(0, 10);
    expect(await spentUsd(stack.db, `user:${user}:${day}`)).toBe(total);
    for (const t of threads) {
      const v = (await stack.client.threads.getState(t.thread_id)).values as unknown as Values;
      expect(lastText(v)).toContain('Spend cap reached: user daily spending');
    }
    // Both workers answered model calls of these runs: the race crossed workers.
    expect(ids.some((id) => answered[0].has(id))).toBe(true);
    expect(ids.some((id) => answered[1].has(id))).toBe(true);
  });
});
