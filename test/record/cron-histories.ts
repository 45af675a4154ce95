import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { startDevEnv } from '../helpers/dev-env.js';
import { cronScenarios } from '../helpers/cron-scenarios.js';
import { projectRoot } from '../../scripts/temporal-cli.js';

// `npm run record-cron-histories [-- <scenario>]`: records the histories of cron fire workflows into
// test/fixtures/cron-histories. Record new scenarios only: fixtures of earlier code prove old histories replay.

const dir = path.join(projectRoot, 'test', 'fixtures', 'cron-histories');
mkdirSync(dir, { recursive: true });
const env = await startDevEnv('pglite', { memory: true });
const stack = await env.stack();
try {
  const only = process.argv.slice(2);
  for (const s of cronScenarios.filter((s) => !only.length || only.includes(s.name))) {
    const workflowId = await s.run(stack.client, stack.temporal);
    const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
    writeFileSync(path.join(dir, `${s.name}.json`), `${historyToJSON(history)}\n`);
    process.stdout.write(`recorded ${s.name}: ${history.events?.length} events\n`);
  }
} finally {
  await stack.stop();
  await env.stop();
}
