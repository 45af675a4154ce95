import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { builtinAuth, sha256Hex } from '../api/auth/builtin.js';
import { loadCustomAuth } from '../api/auth/custom.js';
import type { AuthService } from '../api/auth/types.js';
import { searchThreads } from '../db/threads.js';
import type { Queryable } from '../db/pool.js';
import type { BenchEnv } from './harness.js';
import { ms, percentile, printTable } from './harness.js';

// What authentication adds: a 1-step runs/wait with no auth, a custom Auth module, a JWT (RS256, JWKS served
// here) and an API key, on one stack whose authenticator is swapped between series; then a thread search over
// 10,000 threads of 100 users, with and without the owner filter, and the plan that shows the index it uses.

const RUNS = 20;
const oneStep = { configurable: { script: [{ content: 'done' }] } };

interface Mode {
  name: string;
  auth: AuthService | undefined;
  headers: Record<string, string>;
}

export async function authBench(env: BenchEnv): Promise<void> {
  const keys = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256' };
  const jwks = createServer((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const keysFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'rt-bench-keys-')), 'keys.json');
  writeFileSync(keysFile, JSON.stringify({ [sha256Hex('bench-key')]: { identity: 'user7', permissions: [] } }));
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setSubject('user7')
    .setExpirationTime('1h')
    .sign(keys.privateKey);
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  const modes: Mode[] = [
    { name: 'none', auth: undefined, headers: {} },
    { name: 'custom module', auth: await loadCustomAuth('test/fixtures/auth/module.ts:isolated', false), headers: { 'x-user': 'user7' } },
    {
      name: 'JWT (RS256, JWKS)',
      auth: builtinAuth({ jwt: { jwksUrl, permissionsClaim: 'permissions' } }),
      headers: { authorization: `Bearer ${token}` },
    },
    { name: 'API key', auth: builtinAuth({ apiKeysFile: keysFile }), headers: { 'x-api-key': 'bench-key' } },
  ];
  const stack = await env.stack();
  try {
    const client = (m: Mode) => new Client({ apiUrl: stack.url, apiKey: null, defaultHeaders: m.headers });
    const use = (m: Mode) => (m.auth ? (stack.deps.auth = m.auth) : delete stack.deps.auth);
    // Modes take turns run by run, so a load spike on the shared machine hits them all alike.
    const times = new Map<Mode, number[]>(modes.map((m) => [m, []]));
    for (let i = 0; i < RUNS + 2; i++)
      for (const m of modes) {
        use(m);
        const c = client(m);
        const thread = await c.threads.create();
        const start = performance.now();
        await c.runs.wait(thread.thread_id, 'agent', { input: { messages: [{ role: 'user', content: 'go' }] }, config: oneStep });
        if (i >= 2) times.get(m)!.push(performance.now() - start); // the first rounds warm the worker up
      }
    const base = percentile(times.get(modes[0]!)!, 50);
    const waitRows = modes.map((m) => {
      const p50 = percentile(times.get(m)!, 50);
      return [m.name, RUNS, ms(p50), ms(percentile(times.get(m)!, 95)), ms(p50 - base), `${(p50 / base).toFixed(2)}x`];
    });
    printTable(`auth: 1-step runs/wait (${env.db})`, ['auth', 'runs', 'p50', 'p95', 'added (p50)', 'ratio'], waitRows);
    await searchBench(env, stack.db, stack.url, modes, use);
  } finally {
    await stack.stop();
    await new Promise<void>((r) => jwks.close(() => r()));
  }
}

async function searchBench(env: BenchEnv, db: Queryable, url: string, modes: Mode[], use: (m: Mode) => unknown): Promise<void> {
  await db.query(
    `INSERT INTO threads (thread_id, metadata, created_at)
     SELECT gen_random_uuid(), jsonb_build_object('owner', 'user' || (i % 100)), now() - i * interval '1 second'
     FROM generate_series(1, 10000) AS i`,
  );
  await db.query('ANALYZE threads');
  const rows: (string | number)[][] = [];
  let base = 0;
  for (const m of [modes[0]!, modes[3]!]) {
    use(m);
    const c = new Client({ apiUrl: url, apiKey: null, defaultHeaders: m.headers });
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < 52; i++) {
      const start = performance.now();
      found = (await c.threads.search({ limit: 10 })).length;
      if (i >= 2) times.push(performance.now() - start);
    }
    const p50 = percentile(times, 50);
    if (!base) base = p50;
    const label = m.name === 'none' ? 'none (all 10,000+)' : `${m.name} (owner user7: ~100)`;
    rows.push([label, times.length, found, ms(p50), ms(percentile(times, 95)), `${(p50 / base).toFixed(2)}x`]);
  }
  printTable(
    `auth: POST /threads/search limit 10 over 10,000 threads of 100 users (${env.db})`,
    ['auth', 'searches', 'rows', 'p50', 'p95', 'ratio'],
    rows,
  );
  // The plan of exactly the query the search route runs, captured from the query function.
  const captured: { text: string; params: unknown[] }[] = [];
  const spy = { query: (text: string, params: unknown[]) => (captured.push({ text, params }), db.query(text, params)) } as Queryable;
  await searchThreads(spy, { authFilter: { owner: 'user7' }, sortBy: 'created_at', sortOrder: 'desc', limit: 10, offset: 0 });
  const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${captured[0]!.text}`, captured[0]!.params);
  process.stdout.write(`  plan of the owner-filtered search:\n${plan.rows.map((r) => `    ${r['QUERY PLAN']}`).join('\n')}\n`);
  const usesIndex = plan.rows.some((r) => r['QUERY PLAN'].includes('threads_owner_idx'));
  process.stdout.write(`  uses threads_owner_idx: ${usesIndex ? 'yes' : 'NO (filters in memory)'}\n`);
}
