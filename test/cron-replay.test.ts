import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cronScenarios } from './helpers/cron-scenarios.js';
import { startStack, type Stack } from './helpers/stack.js';

// Cron fire workflows replay like thread workflows: the recorded fixtures against the current code (a change that
// breaks them needs patched()), and histories produced right now by every cron scenario.

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'cron-histories');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

describe('cron fire replay', () => {
  it('has fixtures for every cron scenario', () => {
    expect(fixtures.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(cronScenarios.map((s) => s.name).sort());
  });

  it.each(fixtures)('replays the recorded history %s', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
    expect(history.events!.length).toBeGreaterThan(5);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, replayName: file }, history);
  });

  it.each(cronScenarios.map((s) => [s.name, s] as const))('replays a fresh history of %s', async (_name, scenario) => {
    const workflowId = await scenario.run(stack.client, stack.temporal);
    const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, replayName: workflowId }, history);
  });
});
