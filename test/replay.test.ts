import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scenarioHistory, scenarioMiddleware, scenarios } from './helpers/scenarios.js';
import { startStack, type Stack } from './helpers/stack.js';

// Threads live for months, so a deploy must replay the histories of threads already running. The recorded
// fixtures replay against the current workflow code (a change that breaks them needs a patch()), and so do
// histories produced right now by every scenario.

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'histories');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ middleware: scenarioMiddleware });
});
afterAll(() => stack?.stop());

describe('replay', () => {
  it('has fixtures for every scenario', () => {
    expect(fixtures.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(scenarios.map((s) => s.name).sort());
  });

  it.each(fixtures)('replays the recorded history %s', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
    expect(history.events!.length).toBeGreaterThan(10);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, replayName: file }, history);
  });

  it.each(scenarios.map((s) => [s.name, s] as const))('replays a fresh history of %s', async (_name, scenario) => {
    const threadId = await scenario.run(stack.client, stack.url, stack.temporal);
    const history = await scenarioHistory(stack.temporal, scenario, threadId);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, replayName: threadId }, history);
  });
});
