import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inheritedEnv } from '../config/test.js';
import { freePort } from '../scripts/temporal-cli.js';
import { startStack, type Stack } from './helpers/stack.js';
import { pollUntil } from './helpers/wait.js';

// MCP tools from agent packages' mcp.json, against two published servers this project did not write, started by
// the test: the reference test server (@modelcontextprotocol/server-everything) over stdio and over Streamable
// HTTP, and the knowledge-graph memory server (@modelcontextprotocol/server-memory) over stdio.

const agentsDir = fileURLToPath(new URL('./fixtures/mcp-agents', import.meta.url));
const pkg = (name: string) => fileURLToPath(new URL(`../node_modules/@modelcontextprotocol/${name}/dist/index.js`, import.meta.url));
const token = `secret-${crypto.randomUUID()}`;
let stack: Stack;
let http: ChildProcess;
let sse: ChildProcess;

/** The reference server over an HTTP transport, on a free port, once it answers. */
async function serveEverything(transport: string, path: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [pkg('server-everything'), transport], {
    env: { ...inheritedEnv(), PORT: String(port) },
    stdio: 'ignore',
  });
  await pollUntil(
    `the ${transport} MCP server listens`,
    async () => (await fetch(`http://127.0.0.1:${port}${path}`, { method: 'HEAD' }).catch(() => null)) !== null,
  );
  return { child, port };
}

beforeAll(async () => {
  const streamable = await serveEverything('streamableHttp', '/mcp');
  const legacy = await serveEverything('sse', '/message');
  [http, sse] = [streamable.child, legacy.child];
  const port = streamable.port;
  stack = await startStack({
    agentsDir,
    workerEnv: {
      EVERYTHING_JS: pkg('server-everything'),
      MEMORY_JS: pkg('server-memory'),
      MEMORY_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'mcp-memory-')), 'memory.jsonl'),
      EVERYTHING_PORT: String(port),
      MCP_TOKEN: token,
      SSE_PORT: String(legacy.port),
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  http?.kill();
  sse?.kill();
});

type Values = { messages: { type: string; content: string }[] };
const call = (name: string, args: Record<string, unknown>) => ({ tool_calls: [{ name, args }] });

async function runCalls(graph: string, calls: object[]): Promise<{ threadId: string; values: Values }> {
  const { thread_id } = await stack.client.threads.create();
  const values = (await stack.client.runs.wait(thread_id, graph, {
    input: { messages: [{ role: 'user', content: 'go' }] },
    config: { configurable: { script: [...calls, { content: 'done' }] } },
  })) as Values;
  return { threadId: thread_id, values };
}
const toolResults = (v: Values) => v.messages.filter((m) => m.type === 'tool').map((m) => m.content);

/** The stdio servers this test process's worker started (its direct children), by pid. */
function stdioServers(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('server-everything') && l.includes('stdio'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('MCP tools', () => {
  it('calls the reference server over stdio, each call an activity', async () => {
    const { values } = await runCalls('tooling', [call('echo', { message: 'hi' }), call('get-sum', { a: 2, b: 3 })]);
    expect(toolResults(values)).toEqual(['Echo: hi', 'The sum of 2 and 3 is 5.']);
  });

  it('calls the reference server over Streamable HTTP with a header from the worker env, which stays out of state', async () => {
    const { threadId, values } = await runCalls('remote', [call('echo', { message: 'over http' })]);
    expect(toolResults(values)).toEqual(['Echo: over http']);
    const history = await stack.client.threads.getHistory(threadId);
    expect(JSON.stringify(history)).not.toContain(token);
  });

  it('calls the reference server over SSE', async () => {
    const { values } = await runCalls('legacy', [call('get-sum', { a: 4, b: 5 })]);
    expect(toolResults(values)).toEqual(['The sum of 4 and 5 is 9.']);
  });

  it('applies interrupt_on to an MCP tool by name, then runs it on approval (memory server)', async () => {
    const entity = { name: 'Ada', entityType: 'person', observations: ['writes programs'] };
    const { threadId } = await runCalls('tooling', [call('create_entities', { entities: [entity] }), call('read_graph', {})]);
    expect((await stack.client.threads.getState(threadId)).next).toEqual(['tools']);
    const values = (await stack.client.runs.wait(threadId, 'tooling', {
      command: { resume: { decisions: [{ type: 'approve' }] } },
      config: { configurable: { script: [call('create_entities', { entities: [entity] }), call('read_graph', {}), { content: 'done' }] } },
    })) as Values;
    const [created, graph] = toolResults(values);
    expect(JSON.parse(created!)).toEqual([entity]);
    expect(JSON.parse(graph!).entities).toEqual([entity]);
  });

  it('retries a call whose stdio server crashed mid-call, on a restarted server', async () => {
    const before = stdioServers();
    expect(before.length).toBeGreaterThan(0);
    const { thread_id } = await stack.client.threads.create();
    const run = await stack.client.runs.create(thread_id, 'tooling', {
      input: { messages: [{ role: 'user', content: 'go' }] },
      config: { configurable: { script: [call('trigger-long-running-operation', { duration: 3, steps: 3 }), { content: 'done' }] } },
      streamMode: ['tools'],
    });
    // Once the call is under way, kill every stdio server the worker started, so the one serving it dies mid-call.
    let killed = false;
    for await (const e of stack.client.runs.joinStream(thread_id, run.run_id)) {
      const data = e.data as { event?: string; name?: string } | undefined;
      if (!killed && e.event === 'tools' && data?.event === 'on_tool_start') {
        for (const pid of before) process.kill(pid, 'SIGKILL');
        killed = true;
      }
    }
    expect(killed).toBe(true);
    const values = (await stack.client.threads.getState(thread_id)).values as Values;
    expect(toolResults(values)).toEqual(['Long running operation completed. Duration: 3 seconds, Steps: 3.']);
    expect(stdioServers().some((pid) => !before.includes(pid))).toBe(true);
  });
});
