import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './helpers/stack.js';

// Raw HTTP against every run route: each bad request gets its 4xx in the API's error shape, never a 5xx, and
// what was stored before is unchanged afterwards.

let stack: Stack;
let threadId: string;
let runId: string;
beforeAll(async () => {
  stack = await startStack();
  threadId = (await stack.client.threads.create()).thread_id;
  await stack.client.runs.wait(threadId, 'agent', { input: { messages: [{ role: 'user', content: 'keep me' }] } });
  runId = (await stack.client.runs.list(threadId))[0]!.run_id;
});
afterAll(() => stack?.stop());

const unknown = '00000000-0000-4000-8000-000000000000';
const huge = JSON.stringify({ assistant_id: 'agent', input: { messages: [{ role: 'user', content: 'x'.repeat(1_100_000) }] } });

interface Case {
  name: string;
  method: string;
  path: () => string;
  body?: unknown;
  raw?: string;
  status: number;
  /** A field the error must name. */
  field?: string;
}

const cases: Case[] = [
  { name: 'malformed JSON', method: 'POST', path: () => `/threads/${threadId}/runs`, raw: '{"assistant_id": "agent",', status: 400 },
  {
    name: 'missing assistant_id',
    method: 'POST',
    path: () => `/threads/${threadId}/runs`,
    body: { input: null },
    status: 422,
    field: 'body.assistant_id',
  },
  {
    name: 'wrong stream_mode type',
    method: 'POST',
    path: () => `/threads/${threadId}/runs/stream`,
    body: { assistant_id: 'agent', stream_mode: 5 },
    status: 422,
    field: 'body.stream_mode',
  },
  {
    name: 'unknown stream mode',
    method: 'POST',
    path: () => `/threads/${threadId}/runs`,
    body: { assistant_id: 'agent', stream_mode: ['telepathy'] },
    status: 422,
    field: 'body.stream_mode',
  },
  {
    name: 'input not an object',
    method: 'POST',
    path: () => `/threads/${threadId}/runs/wait`,
    body: { assistant_id: 'agent', input: 'hello' },
    status: 422,
    field: 'body.input',
  },
  {
    name: 'message of unknown type',
    method: 'POST',
    path: () => `/threads/${threadId}/runs`,
    body: { assistant_id: 'agent', input: { messages: [{ type: 'alien', content: 'x' }] } },
    status: 422,
    field: 'body.input',
  },
  {
    name: 'negative after_seconds',
    method: 'POST',
    path: () => `/threads/${threadId}/runs`,
    body: { assistant_id: 'agent', after_seconds: -1 },
    status: 422,
    field: 'body.after_seconds',
  },
  {
    name: 'unknown multitask strategy',
    method: 'POST',
    path: () => `/threads/${threadId}/runs`,
    body: { assistant_id: 'agent', multitask_strategy: 'shout' },
    status: 422,
    field: 'body.multitask_strategy',
  },
  {
    name: 'recursion_limit not a number',
    method: 'POST',
    path: () => `/threads/${threadId}/runs`,
    body: { assistant_id: 'agent', config: { recursion_limit: 'lots' } },
    status: 422,
    field: 'body.config.recursion_limit',
  },
  {
    name: 'bad tools setting',
    method: 'POST',
    path: () => `/threads/${threadId}/runs`,
    body: { assistant_id: 'agent', config: { configurable: { tools: 'calculator' } } },
    status: 422,
  },
  { name: 'unknown assistant', method: 'POST', path: () => `/threads/${threadId}/runs`, body: { assistant_id: 'nobody' }, status: 404 },
  { name: 'unknown thread', method: 'POST', path: () => `/threads/${unknown}/runs/wait`, body: { assistant_id: 'agent' }, status: 404 },
  {
    name: 'thread id not a uuid',
    method: 'POST',
    path: () => `/threads/not-a-uuid/runs`,
    body: { assistant_id: 'agent' },
    status: 422,
    field: 'path.thread_id',
  },
  {
    name: 'unknown checkpoint',
    method: 'POST',
    path: () => `/threads/${threadId}/runs`,
    body: { assistant_id: 'agent', checkpoint_id: unknown },
    status: 404,
  },
  { name: 'oversized body', method: 'POST', path: () => `/threads/${threadId}/runs`, raw: huge, status: 413 },
  { name: 'stateless unknown assistant', method: 'POST', path: () => `/runs/wait`, body: { assistant_id: unknown }, status: 404 },
  {
    name: 'stateless stream bad body',
    method: 'POST',
    path: () => `/runs/stream`,
    body: { assistant_id: 7 },
    status: 422,
    field: 'body.assistant_id',
  },
  {
    name: 'stateless run with a malformed message',
    method: 'POST',
    path: () => `/runs/wait`,
    body: { assistant_id: 'agent', input: { messages: [{ type: 'alien' }] } },
    status: 422,
    field: 'body.input',
  },
  {
    name: 'stateless run with bad agent settings',
    method: 'POST',
    path: () => `/runs`,
    body: { assistant_id: 'agent', config: { configurable: { tools: 'all' } } },
    status: 422,
  },
  {
    name: 'create-if-missing run with a malformed message',
    method: 'POST',
    path: () => `/threads/${unknown}/runs`,
    body: { assistant_id: 'agent', if_not_exists: 'create', input: { messages: [42] } },
    status: 422,
    field: 'body.input',
  },
  { name: 'empty batch', method: 'POST', path: () => `/runs/batch`, body: [], status: 422 },
  {
    name: 'batch item without assistant',
    method: 'POST',
    path: () => `/runs/batch`,
    body: [{ input: null }],
    status: 422,
    field: 'body.0.assistant_id',
  },
  {
    name: 'cancel many with bad ids',
    method: 'POST',
    path: () => `/runs/cancel`,
    body: { run_ids: ['nope'] },
    status: 422,
    field: 'body.run_ids.0',
  },
  { name: 'list runs of unknown thread', method: 'GET', path: () => `/threads/${unknown}/runs`, status: 404 },
  { name: 'list runs with bad limit', method: 'GET', path: () => `/threads/${threadId}/runs?limit=-3`, status: 422, field: 'query.limit' },
  { name: 'get unknown run', method: 'GET', path: () => `/threads/${threadId}/runs/${unknown}`, status: 404 },
  { name: 'get run on the wrong thread', method: 'GET', path: () => `/threads/${unknown}/runs/${runId}`, status: 404 },
  { name: 'join unknown run', method: 'GET', path: () => `/threads/${threadId}/runs/${unknown}/join`, status: 404 },
  { name: 'join stream unknown run', method: 'GET', path: () => `/threads/${threadId}/runs/${unknown}/stream`, status: 404 },
  { name: 'stateless join stream unknown run', method: 'GET', path: () => `/runs/${unknown}/stream`, status: 404 },
  { name: 'cancel unknown run', method: 'POST', path: () => `/threads/${threadId}/runs/${unknown}/cancel`, status: 404 },
  {
    name: 'cancel with unknown action',
    method: 'POST',
    path: () => `/threads/${threadId}/runs/${runId}/cancel?action=explode`,
    status: 422,
    field: 'query.action',
  },
  {
    name: 'cancel with bad wait flag',
    method: 'POST',
    path: () => `/threads/${threadId}/runs/${runId}/cancel?wait=maybe`,
    status: 422,
    field: 'query.wait',
  },
  { name: 'delete unknown run', method: 'DELETE', path: () => `/threads/${threadId}/runs/${unknown}`, status: 404 },
  { name: 'thread stream of unknown thread', method: 'GET', path: () => `/threads/${unknown}/stream`, status: 404 },
  { name: 'malformed percent-encoding in the path', method: 'GET', path: () => `/threads/%E0%A4%A/runs`, status: 400 },
  { name: 'unknown route', method: 'GET', path: () => `/threads/${threadId}/runs/${runId}/teleport`, status: 404 },
];

describe('bad input on run routes', () => {
  it.each(cases)('$name → $status', async (c) => {
    const before = await snapshot();
    const res = await fetch(`${stack.url}${c.path()}`, {
      method: c.method,
      headers: c.raw !== undefined || c.body !== undefined ? { 'content-type': 'application/json' } : {},
      ...(c.raw !== undefined ? { body: c.raw } : c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
    });
    const body = (await res.json()) as { error: string; message: string; details?: { path: string }[] };
    expect(res.status).toBe(c.status);
    expect(typeof body.error).toBe('string');
    expect(body.message.length).toBeGreaterThan(0);
    if (c.field)
      expect(body.details?.map((d) => d.path) ?? [body.message]).toEqual(expect.arrayContaining([expect.stringContaining(c.field)]));
    expect(await snapshot()).toEqual(before);
  });
});

async function snapshot() {
  const state = await stack.client.threads.getState(threadId);
  const runs = await stack.client.runs.list(threadId);
  // A refused stateless run must not leave its temporary thread behind either.
  const threads = await stack.client.threads.count();
  return { values: state.values, checkpoint: state.checkpoint, runs: runs.map((r) => [r.run_id, r.status]), threads };
}
