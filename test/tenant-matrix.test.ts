import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCustomAuth } from '../api/auth/custom.js';
import { isPublic } from '../api/auth/middleware.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// The tenant matrix, generated from /openapi.json: for every route, user B acting on user A's resources is
// refused (404, 403 or 409, as the reference answers) or sees nothing of A's. A route without an entry fails the
// test, so a new route cannot ship without saying what another tenant gets from it.

let stack: Stack;
const A: Record<string, string> = {};

const as = (user: string) => async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'x-user': user, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text };
};
const alice = as('alice');
const bob = as('bob');

beforeAll(async () => {
  stack = await startStack({ auth: await loadCustomAuth('test/fixtures/auth/module.ts:isolated', false) });
  const json = async (r: Promise<{ status: number; text: string }>) => {
    const { status, text } = await r;
    expect(status, text).toBeLessThan(300);
    return JSON.parse(text) as Record<string, unknown>;
  };
  A.assistant = (await json(alice('POST', '/assistants', { graph_id: 'agent', name: 'alice-bot' }))).assistant_id as string;
  A.thread = (await json(alice('POST', '/threads', {}))).thread_id as string;
  await json(
    alice('POST', `/threads/${A.thread}/runs/wait`, {
      assistant_id: A.assistant,
      input: human('hi'),
      config: { configurable: { script: [{ content: 'ok' }] } },
    }),
  );
  A.run = (await json(alice('POST', `/threads/${A.thread}/runs`, { assistant_id: A.assistant, input: human('later'), after_seconds: 100 })))
    .run_id as string;
  const state = await json(alice('GET', `/threads/${A.thread}/state`));
  A.checkpoint = (state.checkpoint as { checkpoint_id: string }).checkpoint_id;
  A.cron = (await json(alice('POST', `/threads/${A.thread}/runs/crons`, { assistant_id: A.assistant, schedule: '0 0 1 1 *' })))
    .cron_id as string;
  expect((await alice('PUT', '/store/items', { namespace: ['alice', 'notes'], key: 'k', value: { secret: 'alice-only' } })).status).toBe(
    204,
  );
});
afterAll(() => stack?.stop());

type Check = { method: string; path: string; body?: unknown; expect: number[]; hides?: boolean };
const denied = [403, 404, 409];

/** B's requests on A's resources, by `METHOD /openapi/path`. `hides`: answers 2xx but nothing of A's shows. */
const matrix = (): Record<string, Check> => {
  const t = `/threads/${A.thread}`;
  const a = `/assistants/${A.assistant}`;
  const run = { assistant_id: A.assistant, input: human('x') };
  const onAThread = { assistant_id: 'agent', input: human('x') };
  return {
    'POST /assistants': { method: 'POST', path: '/assistants', body: { assistant_id: A.assistant, graph_id: 'agent' }, expect: [409] },
    'POST /assistants/search': { method: 'POST', path: '/assistants/search', body: {}, expect: [200], hides: true },
    'POST /assistants/count': { method: 'POST', path: '/assistants/count', body: {}, expect: [200], hides: true },
    'GET /assistants/{assistant_id}': { method: 'GET', path: a, expect: [404] },
    'PATCH /assistants/{assistant_id}': { method: 'PATCH', path: a, body: { metadata: { x: 1 } }, expect: [404] },
    'DELETE /assistants/{assistant_id}': { method: 'DELETE', path: a, expect: [404] },
    'GET /assistants/{assistant_id}/graph': { method: 'GET', path: `${a}/graph`, expect: [404] },
    'GET /assistants/{assistant_id}/schemas': { method: 'GET', path: `${a}/schemas`, expect: [404] },
    'GET /assistants/{assistant_id}/subgraphs': { method: 'GET', path: `${a}/subgraphs`, expect: [404] },
    'GET /assistants/{assistant_id}/subgraphs/{namespace}': { method: 'GET', path: `${a}/subgraphs/x`, expect: [404] },
    'POST /assistants/{assistant_id}/versions': { method: 'POST', path: `${a}/versions`, body: {}, expect: [404] },
    'POST /assistants/{assistant_id}/latest': { method: 'POST', path: `${a}/latest`, body: { version: 1 }, expect: [404] },
    'POST /threads': { method: 'POST', path: '/threads', body: { thread_id: A.thread }, expect: [409] },
    'POST /threads/search': { method: 'POST', path: '/threads/search', body: {}, expect: [200], hides: true },
    'POST /threads/count': { method: 'POST', path: '/threads/count', body: {}, expect: [200], hides: true },
    'POST /threads/prune': { method: 'POST', path: '/threads/prune', body: { thread_ids: [A.thread] }, expect: [200], hides: true },
    'GET /threads/{thread_id}': { method: 'GET', path: t, expect: [404] },
    'PATCH /threads/{thread_id}': { method: 'PATCH', path: t, body: { metadata: { x: 1 } }, expect: [404] },
    'DELETE /threads/{thread_id}': { method: 'DELETE', path: t, expect: [404] },
    'POST /threads/{thread_id}/copy': { method: 'POST', path: `${t}/copy`, expect: [409] },
    'GET /threads/{thread_id}/state': { method: 'GET', path: `${t}/state`, expect: [404] },
    'POST /threads/{thread_id}/state': { method: 'POST', path: `${t}/state`, body: { values: { x: 1 } }, expect: [404] },
    'PATCH /threads/{thread_id}/state': { method: 'PATCH', path: `${t}/state`, body: { metadata: { x: 1 } }, expect: [404] },
    'GET /threads/{thread_id}/state/{checkpoint_id}': { method: 'GET', path: `${t}/state/${A.checkpoint}`, expect: [404] },
    'POST /threads/{thread_id}/state/checkpoint': {
      method: 'POST',
      path: `${t}/state/checkpoint`,
      body: { checkpoint: { checkpoint_id: A.checkpoint } },
      expect: [404],
    },
    'POST /threads/{thread_id}/history': { method: 'POST', path: `${t}/history`, body: {}, expect: [404] },
    'GET /threads/{thread_id}/history': { method: 'GET', path: `${t}/history`, expect: [404] },
    'POST /runs/crons': { method: 'POST', path: '/runs/crons', body: { assistant_id: A.assistant, schedule: '0 0 1 1 *' }, expect: [404] },
    'POST /threads/{thread_id}/runs/crons': {
      method: 'POST',
      path: `${t}/runs/crons`,
      body: { assistant_id: 'agent', schedule: '0 0 1 1 *' },
      expect: [404],
    },
    'POST /runs/crons/search': { method: 'POST', path: '/runs/crons/search', body: {}, expect: [200], hides: true },
    'POST /runs/crons/count': { method: 'POST', path: '/runs/crons/count', body: {}, expect: [200], hides: true },
    'GET /runs/crons/{cron_id}': { method: 'GET', path: `/runs/crons/${A.cron}`, expect: [404] },
    'PATCH /runs/crons/{cron_id}': { method: 'PATCH', path: `/runs/crons/${A.cron}`, body: { enabled: false }, expect: [404] },
    'DELETE /runs/crons/{cron_id}': { method: 'DELETE', path: `/runs/crons/${A.cron}`, expect: [404] },
    'POST /threads/{thread_id}/runs': { method: 'POST', path: `${t}/runs`, body: onAThread, expect: [404] },
    'GET /threads/{thread_id}/runs': { method: 'GET', path: `${t}/runs`, expect: [404] },
    'POST /threads/{thread_id}/runs/stream': { method: 'POST', path: `${t}/runs/stream`, body: onAThread, expect: [404] },
    'POST /threads/{thread_id}/runs/wait': { method: 'POST', path: `${t}/runs/wait`, body: onAThread, expect: [404] },
    'POST /runs': { method: 'POST', path: '/runs', body: run, expect: [404] },
    'POST /runs/stream': { method: 'POST', path: '/runs/stream', body: run, expect: [404] },
    'POST /runs/wait': { method: 'POST', path: '/runs/wait', body: run, expect: [404] },
    'GET /runs/{run_id}/stream': { method: 'GET', path: `/runs/${A.run}/stream`, expect: [404] },
    'POST /runs/batch': { method: 'POST', path: '/runs/batch', body: [run], expect: [404] },
    'POST /runs/cancel': { method: 'POST', path: '/runs/cancel', body: { run_ids: [A.run] }, expect: [404] },
    'GET /threads/{thread_id}/runs/{run_id}': { method: 'GET', path: `${t}/runs/${A.run}`, expect: [404] },
    'DELETE /threads/{thread_id}/runs/{run_id}': { method: 'DELETE', path: `${t}/runs/${A.run}`, expect: [404] },
    'GET /threads/{thread_id}/runs/{run_id}/join': { method: 'GET', path: `${t}/runs/${A.run}/join`, expect: [404] },
    'GET /threads/{thread_id}/runs/{run_id}/stream': { method: 'GET', path: `${t}/runs/${A.run}/stream`, expect: [404] },
    'POST /threads/{thread_id}/runs/{run_id}/cancel': { method: 'POST', path: `${t}/runs/${A.run}/cancel`, expect: [404] },
    'GET /threads/{thread_id}/stream': { method: 'GET', path: `${t}/stream`, expect: [404] },
    'POST /threads/{thread_id}/commands': {
      method: 'POST',
      path: `${t}/commands`,
      body: { id: 1, method: 'state.get', params: {} },
      expect: [404],
    },
    'POST /threads/{thread_id}/stream/events': {
      method: 'POST',
      path: `${t}/stream/events`,
      body: { channels: ['values'] },
      expect: [404],
    },
    'PUT /store/items': {
      method: 'PUT',
      path: '/store/items',
      body: { namespace: ['alice', 'notes'], key: 'k', value: { x: 1 } },
      expect: [403],
    },
    'GET /store/items': { method: 'GET', path: '/store/items?namespace=alice.notes&key=k', expect: [403] },
    'DELETE /store/items': { method: 'DELETE', path: '/store/items', body: { namespace: ['alice', 'notes'], key: 'k' }, expect: [403] },
    'POST /store/items/search': { method: 'POST', path: '/store/items/search', body: {}, expect: [200], hides: true },
    'POST /store/namespaces': { method: 'POST', path: '/store/namespaces', body: {}, expect: [200], hides: true },
    'POST /mcp': {
      method: 'POST',
      path: '/mcp',
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      expect: [200],
      hides: true,
    },
    'GET /mcp': { method: 'GET', path: '/mcp', expect: [405] },
    'DELETE /mcp': { method: 'DELETE', path: '/mcp', expect: [404] },
    'GET /a2a/{assistant_id}/.well-known/agent-card.json': {
      method: 'GET',
      path: `/a2a/${A.assistant}/.well-known/agent-card.json`,
      expect: [404],
    },
    'GET /a2a/{assistant_id}/.well-known/agent.json': { method: 'GET', path: `/a2a/${A.assistant}/.well-known/agent.json`, expect: [404] },
    'GET /a2a/{assistant_id}': { method: 'GET', path: `/a2a/${A.assistant}`, expect: denied },
    'POST /a2a/{assistant_id}': {
      method: 'POST',
      path: `/a2a/${A.assistant}`,
      body: { jsonrpc: '2.0', id: 1, method: 'tasks/get', params: { id: `${A.thread}:${A.run}` } },
      expect: [404],
    },
    'DELETE /a2a/{assistant_id}': { method: 'DELETE', path: `/a2a/${A.assistant}`, expect: denied },
    // Connections are the caller's own; this stack has no Agent Auth providers (404 either way).
    'GET /agent-auth/connections': { method: 'GET', path: '/agent-auth/connections', expect: [404], hides: true },
    'DELETE /agent-auth/connections': { method: 'DELETE', path: '/agent-auth/connections', expect: [404], hides: true },
    'GET /audit': { method: 'GET', path: '/audit', expect: [403] },
    // Operator guardrail policies: policies:write (or admin) only, to read as well as to change.
    'GET /policies': { method: 'GET', path: '/policies', expect: [403] },
    'PUT /policies': { method: 'PUT', path: '/policies', body: { middleware: [] }, expect: [403] },
  };
};

describe('tenant matrix', () => {
  it('refuses user B on every route that touches user A’s resources, and shows B nothing of A’s', async () => {
    const doc = JSON.parse((await alice('GET', '/openapi.json')).text) as { paths: Record<string, Record<string, unknown>> };
    const table = matrix();
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const uncovered = routes.filter((r) => {
      const [method, path] = r.split(' ') as [string, string];
      return !table[r] && !isPublic(method, path);
    });
    expect(uncovered, 'routes without a tenant-matrix entry').toEqual([]);
    const secrets = [A.assistant, A.thread, A.run, A.cron, 'alice-only', 'alice-bot', '"alice"'].map(String);
    const failures: string[] = [];
    for (const route of routes) {
      const c = table[route];
      if (!c) continue;
      const { status, text } = await bob(c.method, c.path, c.body);
      if (!c.expect.includes(status)) failures.push(`${route}: ${status} ${text.slice(0, 200)}`);
      if (c.hides && secrets.some((s) => text.includes(s))) failures.push(`${route}: shows A's data: ${text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
    // Nothing B did changed A's resources.
    expect((await alice('GET', `/threads/${A.thread}`)).status).toBe(200);
    expect((await alice('GET', `/assistants/${A.assistant}`)).status).toBe(200);
    expect((await alice('GET', `/runs/crons/${A.cron}`)).text).toContain('"enabled":true');
    expect(JSON.parse((await bob('POST', '/threads/count', {})).text)).toBe(0);
  });
});
