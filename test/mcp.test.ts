import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStack, type Stack } from './helpers/stack.js';

// `/mcp` driven by the MCP SDK's own client over Streamable HTTP: every assistant is a tool, and tools/call runs
// the assistant as a stateless run whose final state comes back as JSON text.

let stack: Stack;
let mcp: McpClient;
beforeAll(async () => {
  stack = await startStack();
  mcp = new McpClient({ name: 'mcp-test', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp`)));
});
afterAll(async () => {
  await mcp?.close();
  await stack?.stop();
});

const rpcCode = (err: unknown) => (err instanceof McpError ? err.code : err);

describe('MCP endpoint', () => {
  it('lists every assistant as a tool, named and described from it, with a text messages input', async () => {
    await stack.client.assistants.create({ graphId: 'agent', name: 'Ticket desk', description: 'Opens and tracks tickets.' });
    await stack.client.assistants.create({ graphId: 'agent', name: 'plain (v2)!' });
    const { tools } = await mcp.listTools();
    const desk = tools.find((t) => t.name === 'Ticket_desk');
    expect(desk).toMatchObject({ title: 'Ticket desk', description: 'Opens and tracks tickets.' });
    expect(desk!.inputSchema).toMatchObject({ type: 'object', properties: { messages: { type: 'string' } } });
    expect(tools.find((t) => t.name === 'plain_v2')?.description).toBe('Tool based on the plain (v2)! assistant');
    expect(tools.map((t) => t.name)).toContain('agent');
  });

  it('calls a tool as a stateless run and answers its final state as JSON; the run is in history and streams', async () => {
    const echo = await stack.client.assistants.create({
      graphId: 'agent',
      name: 'echo bot',
      config: { configurable: { script: [{ content: 'echo: the build is green', delay_ms: 1_500 }] } },
    });
    const calling = mcp.callTool({ name: 'echo_bot', arguments: { messages: 'is the build green?' } });

    // While it runs, its (temporary) thread streams it like any other run.
    const thread = await vi.waitFor(
      async () => {
        const [t] = await stack.client.threads.search({ metadata: { assistant_id: echo.assistant_id } });
        expect(t).toBeDefined();
        return t!;
      },
      { timeout: 20_000, interval: 100 },
    );
    const seen: string[] = [];
    for await (const part of stack.client.threads.joinStream(thread.thread_id, { streamMode: ['run_modes', 'lifecycle'] })) {
      seen.push(part.event);
      if (part.event === 'lifecycle' && (part.data as { event: string }).event === 'success') break;
    }
    expect(seen).toContain('values');

    const result = (await calling) as { content: { type: string; text: string }[]; isError?: boolean };
    expect(result.isError).toBeFalsy();
    const state = JSON.parse(result.content[0]!.text) as { messages: { type: string; content: string }[] };
    expect(state.messages.map((m) => [m.type, m.content])).toEqual([
      ['human', 'is the build green?'],
      ['ai', 'echo: the build is green'],
    ]);
    const [run] = await stack.client.runs.list(thread.thread_id);
    expect(run).toMatchObject({ status: 'success', assistant_id: echo.assistant_id });
    const history = await stack.client.threads.getHistory(thread.thread_id);
    expect(history.some((h) => h.metadata?.run_id === run!.run_id)).toBe(true);
  });

  it('reports a failed run as a tool error', async () => {
    await stack.client.assistants.create({
      graphId: 'agent',
      name: 'broken',
      config: { configurable: { script: [{ error: 'model exploded' }] } },
    });
    const result = (await mcp.callTool({ name: 'broken', arguments: { messages: 'hi' } })) as {
      isError?: boolean;
      content: { text: string }[];
    };
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/model exploded/);
  });

  it('answers unknown tools and bad arguments with JSON-RPC errors, and stores nothing for them', async () => {
    const threads = await stack.client.threads.count();
    expect(rpcCode(await mcp.callTool({ name: 'no_such_tool', arguments: {} }).catch((e: unknown) => e))).toBe(ErrorCode.InvalidParams);
    expect(rpcCode(await mcp.callTool({ name: 'agent', arguments: { messages: 42 } }).catch((e: unknown) => e))).toBe(
      ErrorCode.InvalidParams,
    );
    const malformed = await mcp
      .callTool({ name: 'agent', arguments: { messages: [{ role: 'robot', content: 'x' }] } })
      .catch((e: unknown) => e);
    expect(rpcCode(malformed)).toBe(ErrorCode.InvalidParams);
    expect(rpcCode(await mcp.listTools({ cursor: 'later' }).catch((e: unknown) => e))).toBe(ErrorCode.InvalidParams);
    expect(await stack.client.threads.count()).toBe(threads);
  });

  it('is stateless: GET is 405, DELETE 404, and a body that is not JSON-RPC a 4xx', async () => {
    expect((await fetch(`${stack.url}/mcp`)).status).toBe(405);
    expect((await fetch(`${stack.url}/mcp`, { method: 'DELETE' })).status).toBe(404);
    const res = await fetch(`${stack.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});
