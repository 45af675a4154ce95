import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { startDevEnv } from '../helpers/dev-env.js';
import { scenarioHistory, scenarioMiddleware, scenarios, type Scenario } from '../helpers/scenarios.js';
import { projectRoot } from '../../scripts/temporal-cli.js';

// `npm run record-histories`: plays the replay scenarios on a fresh dev server and writes each thread's
// workflow history to test/fixtures/histories. Name scenarios (`npm run record-histories -- webhook`) to record
// only those: fixtures of earlier code stay as they are, since they prove that old histories still replay.

const dir = path.join(projectRoot, 'test', 'fixtures', 'histories');
const only = process.argv.slice(2);
const chosen = scenarios.filter((s) => !only.length || only.includes(s.name));
// Scenarios that need a dev server configured their own way (continue-as-new suggested early) get one each.
const groups = new Map<string, Scenario[]>();
for (const s of chosen) groups.set(JSON.stringify(s.serverConfig ?? {}), [...(groups.get(JSON.stringify(s.serverConfig ?? {})) ?? []), s]);
for (const [config, group] of groups) {
  const env = await startDevEnv('pglite', { memory: true, dynamicConfig: JSON.parse(config) as Record<string, unknown> });
  const stack = await env.stack({ middleware: scenarioMiddleware });
  try {
    for (const s of group) {
      const threadId = await s.run(stack.client, stack.url, stack.temporal);
      const history = await scenarioHistory(stack.temporal, s, threadId);
      writeFileSync(path.join(dir, `${s.name}.json`), `${historyToJSON(history)}\n`);
      process.stdout.write(`recorded ${s.name}: ${history.events?.length} events\n`);
    }
  } finally {
    await stack.stop();
    await env.stop();
  }
}
