import { authBench } from './auth.js';
import { compareBench } from './compare.js';
import { benchEnv } from './harness.js';
import { historyBench } from './history.js';
import { parkedMemoryBench, resumeBench } from './hitl.js';
import { localBench } from './local.js';
import { runsBench } from './runs.js';
import { middlewareBench } from './middleware.js';
import { storeBench } from './store.js';
import { streamingBench } from './streaming.js';
import { waitBench } from './wait.js';

// `npm run bench [-- <name>...] [--db=postgres] [--split] [--server=memory] [--server=untuned] [--dc=key=json]`:
// prints figures; nothing here asserts a speed. --dc sets a dev-server dynamic config value (to try one); --split
// runs ours for `runs` as deployed, an API and a worker process (PostgreSQL).

const benches: Record<string, (env: Awaited<ReturnType<typeof benchEnv>>) => Promise<void>> = {
  streaming: streamingBench,
  resume: resumeBench,
  parked: (env) => parkedMemoryBench(env, parkedTargets),
  history: historyBench,
  store: storeBench,
  wait: waitBench,
  local: localBench,
  runs: (env) => runsBench(env, { split: args.includes('--split') }),
  compare: compareBench,
  auth: authBench,
  middleware: middlewareBench,
};

const args = process.argv.slice(2);
const db = args.includes('--db=postgres') ? 'postgres' : 'pglite';
const chosen = args.filter((a) => !a.startsWith('--'));
const parkedArg = args.find((a) => a.startsWith('--parked='));
const parkedTargets = parkedArg ? parkedArg.slice('--parked='.length).split(',').map(Number) : [0, 1000, 10_000];
const names = chosen.length ? chosen : Object.keys(benches);
const unknown = names.filter((n) => !benches[n]);
if (unknown.length) throw new Error(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(benches).join(', ')}`);

const dynamicConfig = Object.fromEntries(
  args
    .filter((a) => a.startsWith('--dc='))
    .map((a) => {
      const [k, v] = a.slice('--dc='.length).split(/=(.*)/s) as [string, string];
      return [k, JSON.parse(v) as unknown];
    }),
);
const env = await benchEnv(db, {
  untuned: args.includes('--server=untuned'),
  memory: args.includes('--server=memory'),
  dynamicConfig,
});
try {
  for (const name of names) await benches[name]!(env);
} finally {
  await env.stop();
}
