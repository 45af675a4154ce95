import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './helpers/stack.js';

// What crosses the wire, read raw: SSE framing, headers and heartbeats; the OpenAPI document and docs page;
// and the search attributes an operator queries threads by.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ settings: { heartbeatSeconds: 1 } });
});
afterAll(() => stack?.stop());

describe('server-sent events', () => {
  it('frames events as event/data/id, sets the run location headers and sends heartbeats while quiet', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const res = await fetch(`${stack.url}/threads/${threadId}/runs/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        assistant_id: 'agent',
        input: { messages: [{ role: 'user', content: 'hi' }] },
        config: { configurable: { script: [{ content: 'slow reply', delay_ms: 3500 }] } },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const location = res.headers.get('content-location')!;
    expect(location).toMatch(new RegExp(`^/threads/${threadId}/runs/[0-9a-f-]{36}$`));
    expect(res.headers.get('location')).toBe(`${location}/stream`);
    const text = await res.text();
    const blocks = text.split('\n\n').filter(Boolean);
    const heartbeats = blocks.filter((b) => b === ': heartbeat');
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    const events = blocks.filter((b) => !b.startsWith(':')).map((b) => b.split('\n'));
    for (const [i, lines] of events.entries()) {
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^event: \S+$/);
      expect(() => JSON.parse(lines[1]!.slice('data: '.length))).not.toThrow();
      expect(lines[2]).toBe(`id: ${i}`);
    }
    expect(events[0]![0]).toBe('event: metadata');
  });
});

describe('documentation', () => {
  it('serves an OpenAPI document generated from the route schemas, and a docs page', async () => {
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.0.3');
    for (const path of [
      '/assistants/search',
      '/threads/{thread_id}/state',
      '/threads/{thread_id}/runs/stream',
      '/runs/wait',
      '/store/items',
      '/threads/{thread_id}/commands',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(Object.keys(doc.paths['/threads/{thread_id}/runs']!).sort()).toEqual(['get', 'post']);
    const page = await fetch(`${stack.url}/docs/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger-ui');
  });
});

describe('operator view', () => {
  it('finds threads by status, graph and assistant search attributes', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const config = {
      configurable: { script: [{ tool_calls: [{ name: 'create_ticket', args: { title: 'x' } }] }], interrupt_on: { create_ticket: true } },
    };
    await stack.client.runs.wait(threadId, 'agent', { input: { messages: [{ role: 'user', content: 'hi' }] }, config });
    const query = `WorkflowId = 'thread-${threadId}' AND ThreadStatus = 'interrupted' AND GraphId = 'agent' AND AssistantId = 'fe096781-5601-53d2-b2f6-0d3403f7e9ca'`;
    const found = async () => {
      const ids: string[] = [];
      for await (const w of stack.temporal.workflow.list({ query })) ids.push(w.workflowId);
      return ids;
    };
    // Visibility is eventually consistent: the attributes show up in queries shortly after they are set.
    await expect.poll(found).toEqual([`thread-${threadId}`]);
    const described = await stack.temporal.workflow.getHandle(`thread-${threadId}`).describe();
    expect(described.memo).toEqual({ thread_id: threadId });
  });
});
