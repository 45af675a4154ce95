import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { benchEnv } from '../bench/harness.js';
import { scenarios } from '../test/helpers/scenarios.js';
import { threadWorkflowId } from '../workflows/messages.js';
import { projectRoot } from './temporal-cli.js';

// `npm run record-histories`: plays the replay scenarios on a fresh dev server and writes each thread's
// workflow history to test/fixtures/histories. Name scenarios (`npm run record-histories -- webhook`) to record
// only those: fixtures of earlier code stay as they are, since they prove that old histories still replay.

const dir = path.join(projectRoot, 'test', 'fixtures', 'histories');
// The dev server suggests continue-as-new after 40 events, so a scenario can cross that boundary in a few runs.
const env = await benchEnv('pglite', { 'limit.historyCount.suggestContinueAsNew': 40 });
const stack = await env.stack();
try {
  const only = process.argv.slice(2);
  for (const s of scenarios.filter((s) => !only.length || only.includes(s.name))) {
    const threadId = await s.run(stack.client, stack.url);
    const runId = s.firstExecution ? await firstExecution(stack.temporal, threadWorkflowId(threadId)) : undefined;
    const history = await stack.temporal.workflow.getHandle(threadWorkflowId(threadId), runId).fetchHistory();
    writeFileSync(path.join(dir, `${s.name}.json`), `${historyToJSON(history)}\n`);
    process.stdout.write(`recorded ${s.name}: ${history.events?.length} events\n`);
  }
} finally {
  await stack.stop();
  await env.stop();
}

async function firstExecution(temporal: Client, workflowId: string): Promise<string> {
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const w of temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(w);
  const first = runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())[0];
  if (!first || runs.length < 2) throw new Error(`${workflowId} never continued as new`);
  return first.runId;
}
