import { authBench } from './auth.js';
import { benchEnv } from './harness.js';
import { historyBench } from './history.js';
import { parkedMemoryBench, resumeBench } from './hitl.js';
import { localBench } from './local.js';
import { storeBench } from './store.js';
import { streamingBench } from './streaming.js';
import { waitBench } from './wait.js';

// `npm run bench [-- <name>...] [--db=postgres]`: prints figures; nothing here asserts a speed.

const benches: Record<string, (env: Awaited<ReturnType<typeof benchEnv>>) => Promise<void>> = {
  streaming: streamingBench,
  resume: resumeBench,
  parked: (env) => parkedMemoryBench(env, parkedTargets),
  history: historyBench,
  store: storeBench,
  wait: waitBench,
  local: localBench,
  auth: authBench,
};

const args = process.argv.slice(2);
const db = args.includes('--db=postgres') ? 'postgres' : 'pglite';
const chosen = args.filter((a) => !a.startsWith('--'));
const parkedArg = args.find((a) => a.startsWith('--parked='));
const parkedTargets = parkedArg ? parkedArg.slice('--parked='.length).split(',').map(Number) : [0, 1000, 10_000];
const names = chosen.length ? chosen : Object.keys(benches);
const unknown = names.filter((n) => !benches[n]);
if (unknown.length) throw new Error(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(benches).join(', ')}`);

const env = await benchEnv(db);
try {
  for (const name of names) await benches[name]!(env);
} finally {
  await env.stop();
}
