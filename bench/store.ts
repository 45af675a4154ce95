import { createLexicalEmbedder } from '../store/lexical.js';
import { createStore, type PutEntry, type StoreService } from '../store/service.js';
import { openTestDb } from '../test/helpers/stack.js';
import type { BenchEnv } from './harness.js';
import { ms, percentile, printTable } from './harness.js';

// Long-term store latency at 10k and 100k items on the engine of the run, through the service (no HTTP):
// single put and get, and search by filter alone and by query (vector ranking), within one user's namespace
// and across every user. Items are spread over 100 users; the local lexical embedder indexes each text.

const SIZES = [10_000, 100_000];
const USERS = 100;
const LOAD_BATCH = 500;
const WORDS =
  'alpha river stone garden coffee budget travel music winter meeting doctor python invoice beach summer report guitar kitchen tennis planet bicycle recipe mountain office camera holiday market theatre forest science'.split(
    ' ',
  );

export async function storeBench(env: BenchEnv): Promise<void> {
  const { db, drop } = await openTestDb(env.db, env.log);
  const store = createStore({ db, embedder: createLexicalEmbedder(), defaultIndexFields: ['text'] });
  try {
    const rows: (string | number)[][] = [];
    let loaded = 0;
    for (const size of SIZES) {
      const started = performance.now();
      await load(store, loaded, size);
      // Statistics as autovacuum would have them after a while; right after a bulk load the planner guesses.
      await db.query('ANALYZE store_items, store_vectors');
      const rate = Math.round(((size - loaded) / (performance.now() - started)) * 1000);
      loaded = size;
      for (const [name, samples, op] of operations(store, size)) {
        const t = await timeIt(samples, op);
        rows.push([size, name, samples, ms(percentile(t, 50)), ms(percentile(t, 95))]);
      }
      rows.push([size, `bulk load (putMany ×${LOAD_BATCH})`, '', `${rate} items/s`, '']);
    }
    printTable(`Store (${env.db}, ${await store.vectorBackend()})`, ['items', 'operation', 'samples', 'p50', 'p95'], rows);
  } finally {
    await drop();
  }
}

type Operation = [name: string, samples: number, run: (i: number) => Promise<unknown>];

function operations(store: StoreService, size: number): Operation[] {
  const user = (i: number) => ['users', `u${i % USERS}`];
  // Whole-store vector ranking scores every vector, so it gets fewer samples at 100k.
  const wide = size > 10_000 ? 10 : 30;
  return [
    ['put (one item)', 200, (i) => store.put(user(i), `new-${size}-${i}`, itemValue(size + i))],
    ['get', 200, (i) => store.get(user(i), `k${(i * 7919) % size}`, { refreshTtl: false })],
    ['search filter, one user', 100, (i) => store.search(user(i), { filter: { status: 'active', score: { $gte: 5 } }, limit: 10 })],
    ['search filter, all users', 50, (i) => store.search(['users'], { filter: { topic: WORDS[i % WORDS.length]! }, limit: 10 })],
    ['search query, one user', 100, (i) => store.search(user(i), { query: sentence(i, 3), limit: 10 })],
    [
      'search query + filter, all users',
      wide,
      (i) => store.search(['users'], { query: sentence(i, 3), filter: { status: 'active' }, limit: 10 }),
    ],
    ['search query, all users', wide, (i) => store.search(['users'], { query: sentence(i, 3), limit: 10 })],
  ];
}

async function load(store: StoreService, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += LOAD_BATCH) {
    const entries: PutEntry[] = [];
    for (let i = start; i < Math.min(to, start + LOAD_BATCH); i++)
      entries.push({ namespace: ['users', `u${i % USERS}`], key: `k${i}`, value: itemValue(i) });
    await store.putMany(entries);
  }
}

function itemValue(i: number): Record<string, unknown> {
  return { text: sentence(i, 12), topic: WORDS[(i * 31) % WORDS.length], status: i % 3 ? 'active' : 'archived', score: i % 10 };
}

/** Deterministic pseudo-random words (a linear congruential walk over the vocabulary). */
function sentence(seed: number, words: number): string {
  let x = (seed * 2_654_435_761) >>> 0;
  const out: string[] = [];
  for (let n = 0; n < words; n++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    out.push(WORDS[(x >>> 8) % WORDS.length]!);
  }
  return out.join(' ');
}

async function timeIt(samples: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await op(i);
    out.push(performance.now() - t);
  }
  return out;
}
