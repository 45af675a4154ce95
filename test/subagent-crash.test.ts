import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEffects } from '../db/effects.js';
import { spawnWorker, type ProcessEnv, type RuntimeProcess } from './helpers/processes.js';
import { startStack, type Stack } from './helpers/stack.js';

// A worker dies (SIGKILL) while a subagent's child workflow is mid-run: after its side-effect tool finished and
// while its model streams the answer. Another worker resumes inside the child at its last finished step: the parent
// gets the answer, and the subagent's side effect happened once.

const agentsDir = fileURLToPath(new URL('./fixtures/agents', import.meta.url));
let stack: Stack;
let env: ProcessEnv;
const workers: RuntimeProcess[] = [];
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', noWorker: true, agentsDir });
  env = {
    DATABASE_URL: stack.dbUrl!,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    AGENTS_DIR: agentsDir,
  };
  workers.push(await spawnWorker(env));
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await stack?.stop();
});

describe('a worker crash inside a subagent', () => {
  it('resumes inside the child workflow without repeating its side effect', async () => {
    const { thread_id } = await stack.client.threads.create();
    const answer = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const researcher = [
      { tool_calls: [{ name: 'create_ticket', args: { title: 'Check the racks' } }] },
      { content: answer, delay_ms: 10_000 },
    ];
    const run = await stack.client.runs.create(thread_id, 'shop', {
      input: { messages: [{ role: 'user', content: 'delegate' }] },
      config: {
        configurable: {
          script: [
            { tool_calls: [{ name: 'task', args: { description: 'open a ticket', subagent_type: 'researcher' } }] },
            { content: 'done' },
          ],
          subagent_scripts: { researcher },
        },
      },
      streamMode: ['messages-tuple'],
    });
    let child = '';
    await expect
      .poll(async () => (child = (await stack.client.threads.search({ metadata: { subagent_of: { thread_id } } }))[0]?.thread_id ?? ''))
      .not.toBe('');
    const tokens = async () =>
      (
        await stack.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM run_events e JOIN runs r USING (run_id)
           WHERE r.thread_id = $1 AND e.event = 'messages' AND e.data->0->>'content' LIKE 'word%'`,
          [child],
        )
      ).rows[0]!.n;
    await expect.poll(async () => (await listEffects(stack.db, child)).length).toBe(1);
    await expect.poll(tokens).toBeGreaterThanOrEqual(3);
    await workers[0]!.kill();
    workers.shift();
    // The precondition, checked while no worker runs: the kill came mid-turn inside the child.
    expect(await tokens()).toBeLessThan(30);
    expect((await stack.client.runs.get(thread_id, run.run_id)).status).toBe('running');
    workers.push(await spawnWorker(env));

    const done = (await stack.client.runs.join(thread_id, run.run_id)) as { messages: { type: string; content: string }[] };
    expect(done.messages.map((m) => m.type)).toEqual(['human', 'ai', 'tool', 'ai']);
    expect(done.messages[2]!.content).toBe(answer);
    expect((await listEffects(stack.db, child)).map((e) => e.args)).toEqual([{ title: 'Check the racks', priority: 'normal' }]);
  }, 180_000);
});
