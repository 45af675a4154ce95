import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// A fuzz-style table over every route of the OpenAPI document: a NUL, an unpaired surrogate or a huge number in
// each path and query parameter, in each top-level body field, in every string of a valid body, and as a value
// and a key in every object of it. The rule (the SDK retries any 5xx): never a 5xx, and a refused request
// leaves every stored row as it was. A request the API accepts is fine; the table waits for its runs to end.

const poisons: Record<string, unknown> = {
  nul: 'a\u0000b',
  highSurrogate: 'a\ud800b',
  lowSurrogate: '\udc00',
  huge: 1e308,
  beyondInt64: 2 ** 64,
};
const textPoisons = ['x\u0000', 'x\ud800'];
/** Inside a valid body the text poisons already cover every string; one of each kind is enough for new values. */
const deepPoisons = ['nul', 'highSurrogate', 'huge'];
const topPoisons = ['nul', 'lowSurrogate', 'huge', 'beyondInt64'];

let stack: Stack;
const ids: Record<string, string> = {};
beforeAll(async () => {
  stack = await startStack();
  await fixtures();
});
afterAll(() => stack?.stop());

/** Ids the path parameters name; recreated when a request the table sent deleted them. */
async function fixtures(): Promise<void> {
  const c = stack.client;
  if (!ids.assistant_id || !(await c.assistants.get(ids.assistant_id).catch(() => null)))
    ids.assistant_id = (await c.assistants.create({ graphId: 'agent', name: 'fuzz' })).assistant_id;
  if (!ids.thread_id || !(await c.threads.get(ids.thread_id).catch(() => null))) {
    ids.thread_id = (await c.threads.create({ metadata: { k: 'v' } })).thread_id;
    delete ids.run_id;
  }
  if (!ids.run_id || !(await c.runs.get(ids.thread_id, ids.run_id).catch(() => null))) {
    await c.runs.wait(ids.thread_id, 'agent', { input: human('hello') });
    ids.run_id = (await c.runs.list(ids.thread_id))[0]!.run_id;
  }
  ids.checkpoint_id = (await c.threads.getState(ids.thread_id)).checkpoint.checkpoint_id!;
  ids.namespace = 'x';
}

const runBody = () => ({
  assistant_id: 'agent',
  input: human('hi'),
  metadata: { k: 'v' },
  config: { configurable: { system_prompt: 'be brief' } },
  stream_mode: ['values'],
  // A stateless run's thread would otherwise be deleted a minute later, in the middle of another case.
  on_completion: 'keep',
});

/** A valid body per route (by method and path), so that poison in one place is the only thing wrong. */
function baseBody(key: string): unknown {
  const t = ids.thread_id!;
  const bodies: Record<string, unknown> = {
    'POST /assistants': {
      graph_id: 'agent',
      name: 'n',
      description: 'd',
      metadata: { k: 'v' },
      config: { configurable: { model: 'scripted' } },
    },
    'POST /assistants/search': { graph_id: 'agent', name: 'n', metadata: { k: 'v' }, limit: 5 },
    'POST /assistants/count': { graph_id: 'agent', metadata: { k: 'v' } },
    'PATCH /assistants/{assistant_id}': { name: 'n', metadata: { k: 'v' }, config: { configurable: { system_prompt: 's' } } },
    'POST /assistants/{assistant_id}/versions': { metadata: { k: 'v' }, limit: 5 },
    'POST /assistants/{assistant_id}/latest': { version: 1 },
    'POST /threads': { metadata: { k: 'v' }, ttl: 60 },
    'POST /threads/search': { metadata: { k: 'v' }, values: { a: 'b' }, status: 'idle', limit: 5 },
    'POST /threads/count': { metadata: { k: 'v' }, values: { a: 'b' } },
    'POST /threads/prune': { thread_ids: [] },
    'PATCH /threads/{thread_id}': { metadata: { k: 'v' }, ttl: 60 },
    'POST /threads/{thread_id}/state': { values: { messages: [{ role: 'user', content: 'x' }] }, as_node: 'agent' },
    'PATCH /threads/{thread_id}/state': { metadata: { k: 'v' } },
    'POST /threads/{thread_id}/state/checkpoint': { checkpoint: { checkpoint_id: ids.checkpoint_id } },
    'POST /threads/{thread_id}/history': { limit: 5, metadata: { k: 'v' } },
    'POST /runs/batch': [runBody()],
    'POST /runs/cancel': { thread_id: t, run_ids: [ids.run_id] },
    'POST /threads/{thread_id}/commands': { id: 1, method: 'state.get', params: { namespace: [] } },
    'POST /threads/{thread_id}/stream/events': { channels: ['values'] },
    'PUT /store/items': { namespace: ['fuzz', 'a'], key: 'k', value: { a: 'b', n: 1 }, ttl: 5 },
    'DELETE /store/items': { namespace: ['fuzz', 'a'], key: 'k' },
    'POST /store/items/search': { namespace_prefix: ['fuzz'], filter: { a: 'b' }, query: 'q', limit: 5 },
    'POST /store/namespaces': { prefix: ['fuzz'], max_depth: 2, limit: 5 },
  };
  if (key.endsWith('/runs') || key.endsWith('/runs/stream') || key.endsWith('/runs/wait')) return runBody();
  return bodies[key] ?? {};
}

interface Operation {
  method: string;
  path: string;
  params: { in: string; name: string }[];
  bodyProps: string[];
  hasBody: boolean;
}

interface Case {
  name: string;
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
}

async function operations(): Promise<Operation[]> {
  const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: unknown }>>;
  };
  const ops: Operation[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(byMethod)) {
      const schema = (op.requestBody as { content?: Record<string, { schema?: { properties?: object } }> } | undefined)?.content?.[
        'application/json'
      ]?.schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        bodyProps: Object.keys(schema?.properties ?? {}),
        hasBody: !!op.requestBody,
      });
    }
  }
  // Deleting routes last, so the fixtures they might remove serve the others first.
  return ops.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
}

/** Every way to put one poison into a valid body: each string leaf, and a key and a value in each object. */
function* deepVariants(body: unknown): Generator<[string, unknown]> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, at: (string | number)[]) => {
    if (typeof v === 'string' || (v !== null && typeof v === 'object')) paths.push(at);
    if (v !== null && typeof v === 'object')
      for (const [k, child] of Object.entries(v)) walk(child, [...at, Array.isArray(v) ? Number(k) : k]);
  };
  walk(body, []);
  for (const at of paths) {
    const target = at.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], body);
    const name = at.join('.') || 'body';
    if (typeof target === 'string') {
      for (const p of textPoisons) yield [`${name} = ${JSON.stringify(p)}`, setAt(body, at, p)];
    } else if (!Array.isArray(target)) {
      yield [`${name} gets a NUL key`, setAt(body, at, { ...(target as object), 'k\u0000': 1 })];
      for (const pn of deepPoisons) yield [`${name}.x = ${pn}`, setAt(body, at, { ...(target as object), x: poisons[pn] })];
    }
  }
}

function setAt(body: unknown, at: (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let node = copy;
  for (const k of at.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  node[at.at(-1)!] = value;
  return copy;
}

function casesFor(op: Operation): Case[] {
  const key = `${op.method} ${op.path}`;
  const base = op.hasBody ? baseBody(key) : undefined;
  const plain = { method: op.method, path: op.path, query: {} as Record<string, string>, ...(op.hasBody ? { body: base } : {}) };
  const out: Case[] = [];
  for (const p of op.params) {
    for (const [pn, value] of [
      ['nul', 'x\u0000'],
      ['huge', '1e308'],
      ['beyondInt64', '18446744073709551616'],
    ]) {
      if (p.in === 'path')
        out.push({ ...plain, name: `${key}: path ${p.name} = ${pn}`, path: op.path.replace(`{${p.name}}`, encodeURIComponent(value!)) });
      if (p.in === 'query') out.push({ ...plain, name: `${key}: query ${p.name} = ${pn}`, query: { [p.name]: value! } });
    }
  }
  if (!op.hasBody) return out;
  for (const prop of op.bodyProps) {
    for (const pn of topPoisons) {
      out.push({ ...plain, name: `${key}: body.${prop} = ${pn}`, body: { ...(base as object), [prop]: poisons[pn] } });
    }
  }
  for (const [name, body] of deepVariants(base)) out.push({ ...plain, name: `${key}: ${name}`, body });
  return out;
}

/** A digest of every stored row per table (run events excepted: requests that succeed append to them). */
let snapshotSql: string | undefined;
async function snapshot(): Promise<Record<string, string | null>> {
  if (!snapshotSql) {
    const tables = await stack.db.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('schema_migrations', 'run_events')
       ORDER BY table_name`,
    );
    snapshotSql = `SELECT ${tables.rows
      .map(({ name }) => `(SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM "${name}" t) AS "${name}"`)
      .join(', ')}`;
  }
  return (await stack.db.query<Record<string, string | null>>(snapshotSql)).rows[0]!;
}

const changed = (a: Record<string, string | null>, b: Record<string, string | null>) => Object.keys(a).filter((k) => a[k] !== b[k]);

async function send(c: Case): Promise<number> {
  const path = c.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(ids[name] ?? 'x'));
  const query = new URLSearchParams(c.query).toString();
  const abort = new AbortController();
  const res = await fetch(`${stack.url}${path}${query ? `?${query}` : ''}`, {
    method: c.method,
    signal: abort.signal,
    ...(c.body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(c.body) } : {}),
  });
  // A stream that was accepted stays open: its status is all this table needs.
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) abort.abort();
  else await res.text();
  return res.status;
}

/** Waits until the runs the table started have ended. */
async function quiet(): Promise<void> {
  const active = async () => (await stack.db.query(`SELECT 1 FROM runs WHERE status IN ('pending', 'running') LIMIT 1`)).rowCount;
  await expect.poll(active, { message: 'runs started by the table end' }).toBe(0);
}

describe('poison in every route', () => {
  it('never answers 5xx, and a refused request changes nothing stored', async () => {
    const failures: string[] = [];
    let total = 0;
    let accepted = 0;
    let before = await snapshot();
    for (const op of await operations()) {
      for (const c of casesFor(op)) {
        total++;
        const status = await send(c);
        if (status >= 500) failures.push(`${c.name} → ${status}`);
        if (status >= 200 && status < 300) {
          accepted++;
          await quiet();
          await fixtures();
          before = await snapshot();
          continue;
        }
        const after = await snapshot();
        const diff = changed(before, after);
        if (diff.length) failures.push(`${c.name} → ${status} but stored data changed (${diff.join(', ')})`);
        before = after;
      }
    }
    expect(failures).toEqual([]);
    // The table really covered the API, and most poison was refused.
    expect(total).toBeGreaterThan(1200);
    expect(accepted).toBeLessThan(total / 2);
  }, 600_000);
});
