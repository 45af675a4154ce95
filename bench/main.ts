import { benchEnv } from './harness.js';
import { streamingBench } from './streaming.js';

// `npm run bench [-- <name>...] [--db=postgres]`: prints figures; nothing here asserts a speed.

const benches: Record<string, (env: Awaited<ReturnType<typeof benchEnv>>) => Promise<void>> = {
  streaming: streamingBench,
};

const args = process.argv.slice(2);
const db = args.includes('--db=postgres') ? 'postgres' : 'pglite';
const chosen = args.filter((a) => !a.startsWith('--'));
const names = chosen.length ? chosen : Object.keys(benches);
const unknown = names.filter((n) => !benches[n]);
if (unknown.length) throw new Error(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(benches).join(', ')}`);

const env = await benchEnv(db);
try {
  for (const name of names) await benches[name]!(env);
} finally {
  await env.stop();
}
