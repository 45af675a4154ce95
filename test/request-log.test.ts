import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../config/logger.js';
import { createApp } from '../api/app.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// Every request is logged at info with method, path, status, duration and run id, so a refusal a UI swallows
// (a 422 from agent-chat-ui, say) is still visible to the operator. A second app on the same stack logs into
// memory so the lines can be read.

type Line = { level: string; msg: string; fields: Record<string, unknown> };
const lines: Line[] = [];
const memoryLog = (base: Record<string, unknown> = {}): Logger => {
  const write =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, msg, fields: { ...base, ...fields } });
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (f) => memoryLog({ ...base, ...f }),
  };
};

let stack: Stack;
let server: Server;
let url: string;
beforeAll(async () => {
  stack = await startStack();
  const app = createApp({ ...stack.deps, log: memoryLog() });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await stack?.stop();
});

const requests = (): Record<string, unknown>[] => lines.filter((l) => l.msg === 'request').map((l) => ({ level: l.level, ...l.fields }));

describe('request log', () => {
  it('logs a refused request at info with its status and duration', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const res = await fetch(`${url}/threads/${threadId}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: 'agent', stream_mode: 'bogus' }),
    });
    expect(res.status).toBe(422);
    await res.text();
    await expect
      .poll(() => requests().find((r) => r.path === `/threads/${threadId}/runs`))
      .toMatchObject({ level: 'info', method: 'POST', status: 422, duration_ms: expect.any(Number) });
  });

  it('names the run of a run request, from its path or its Content-Location', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const created = await fetch(`${url}/threads/${threadId}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: 'agent', input: human('log me') }),
    });
    const run = (await created.json()) as { run_id: string };
    const joined = await fetch(`${url}/threads/${threadId}/runs/${run.run_id}/join`);
    expect(joined.status).toBe(200);
    await joined.json();
    await expect
      .poll(() => requests().filter((r) => r.run_id === run.run_id))
      .toEqual([
        expect.objectContaining({ method: 'POST', path: `/threads/${threadId}/runs`, status: 200 }),
        expect.objectContaining({ method: 'GET', path: `/threads/${threadId}/runs/${run.run_id}/join`, status: 200 }),
      ]);
  });
});
