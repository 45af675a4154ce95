import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';
import { storedText } from './helpers/stored.js';

// Issue #12's "every mode is wrapped", for the modes that create their runs elsewhere than the runs routes: a cron
// fire, an MCP tools/call and an A2A message/send go through the operator's policy like any run (stream, wait,
// background, resume and stateless runs are in guardrails.test.ts). Scripted model; every part is real.

const ALICE = 'alice@example.com';
const CAROL = 'carol@example.org';
const REDACTED = 'Mail [REDACTED_EMAIL]';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  const policy = { name: 'pii', id: 'all_modes', options: { piiType: 'email', applyToOutput: true } };
  const put = await fetch(`${stack.url}/policies`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ middleware: [policy] }),
  });
  expect(put.status).toBe(200);
});
afterAll(() => stack?.stop());

type Values = { messages: { type: string; content: string }[] };
const lastAi = (v: unknown) => (v as Values).messages.filter((m) => m.type === 'ai').at(-1)!.content;

/** An assistant whose model answers with an address: only the policy stands between it and the caller. */
async function probe(name: string) {
  return stack.client.assistants.create({ graphId: 'agent', name, config: { configurable: { script: [{ content: `Mail ${CAROL}` }] } } });
}

describe('an operator policy in every mode that creates its own runs', () => {
  it('wraps a cron fire', async () => {
    const assistant = await probe('cron probe');
    const thread = await stack.client.threads.create();
    const cron = await stack.client.crons.createForThread(thread.thread_id, assistant.assistant_id, {
      schedule: '* * * * * * *',
      input: human(`I am ${ALICE}`),
    });
    const first = await vi.waitFor(
      async () => {
        const done = (await stack.client.runs.list(thread.thread_id)).find((r) => r.status === 'success');
        if (!done) throw new Error('no fire of the cron has finished yet');
        return done;
      },
      { timeout: 60_000, interval: 200 },
    );
    await stack.client.crons.delete(cron.cron_id);
    expect(lastAi(await stack.client.runs.join(thread.thread_id, first.run_id))).toBe(REDACTED);
    expect(await storedText(stack.db, thread.thread_id)).not.toContain(ALICE);
  });

  it('wraps an MCP tools/call', async () => {
    await probe('mcp probe');
    const mcp = new McpClient({ name: 'policy-test', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp`)));
    try {
      const result = (await mcp.callTool({ name: 'mcp_probe', arguments: { messages: `I am ${ALICE}` } })) as {
        content: { text: string }[];
        isError?: boolean;
      };
      expect(result.isError).toBeFalsy();
      const state = JSON.parse(result.content[0]!.text) as Values;
      expect(lastAi(state)).toBe(REDACTED);
      expect(JSON.stringify(state)).not.toContain(ALICE);
    } finally {
      await mcp.close();
    }
  });

  it('wraps an A2A message/send', async () => {
    const assistant = await probe('a2a probe');
    const res = await fetch(`${stack.url}/a2a/${assistant.assistant_id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'message/send',
        params: { message: { kind: 'message', messageId: randomUUID(), role: 'user', parts: [{ kind: 'text', text: `I am ${ALICE}` }] } },
      }),
    });
    const sent = (await res.json()) as { result?: { status: { state: string } } };
    expect(sent.result?.status.state).toBe('completed');
    const text = JSON.stringify(sent.result);
    expect(text).toContain(REDACTED);
    expect(text).not.toContain(CAROL);
    expect(text).not.toContain(ALICE);
  });
});
