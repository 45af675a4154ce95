import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// Temporal refuses payloads over 2 MB, while the API takes bodies of up to 10 MB. Large values (the input, the
// system prompt, the script) stay in the database and reach activities from there; what must travel through
// workflow history is checked at the API, which refuses it with 413 and names the limit before storing anything.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ db: 'postgres', settings: { bodyLimit: '10mb' } });
}, 120_000);
afterAll(() => stack?.stop());

type Values = { messages: { type: string; content: string }[]; __interrupt__?: unknown[] };
const prompt = (mb: number) => `You are terse. ${'x'.repeat(mb * 1024 * 1024)}`;

async function post(path: string, body: unknown): Promise<{ status: number; body: { message?: string } }> {
  const res = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as { message?: string }) : {} };
}

describe('payload limits', () => {
  it('runs with a 3 MB system prompt, and the thread keeps working', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const big = { configurable: { system_prompt: prompt(3), script: [{ content: 'short answer' }] } };
    const first = (await stack.client.runs.wait(threadId, 'agent', { input: human('hi'), config: big })) as Values;
    expect(first.messages.at(-1)!.content).toBe('short answer');
    const second = (await stack.client.runs.wait(threadId, 'agent', { input: human('again'), config: big })) as Values;
    expect(second.messages.map((m) => m.type)).toEqual(['human', 'ai', 'human', 'ai']);
    expect((await stack.client.threads.get(threadId)).status).toBe('idle');
  });

  it('runs one running and four queued runs with 1.5 MB prompts, and cancels a sixth', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    // The scripted model answers the n-th turn of a thread with script[n]; the first turn is slow.
    const script = Array.from({ length: 6 }, (_, i) => ({ content: `answer ${i}`, delay_ms: i === 0 ? 1500 : 0 }));
    const config = { configurable: { system_prompt: prompt(1.5), script } };
    const runs = [];
    for (let i = 0; i < 6; i++)
      runs.push(await stack.client.runs.create(threadId, 'agent', { input: human(`q${i}`), config, multitaskStrategy: 'enqueue' }));
    expect((await stack.client.runs.get(threadId, runs[5]!.run_id)).status).toBe('pending');
    const cancel = await fetch(`${stack.url}/threads/${threadId}/runs/${runs[5]!.run_id}/cancel?wait=true`, { method: 'POST' });
    expect(cancel.status).toBe(204);
    const last = (await stack.client.runs.join(threadId, runs[4]!.run_id)) as Values;
    expect(last.messages.filter((m) => m.type === 'ai').map((m) => m.content)).toEqual([
      'answer 0',
      'answer 1',
      'answer 2',
      'answer 3',
      'answer 4',
    ]);
    const statuses = await Promise.all(runs.map(async (r) => (await stack.client.runs.get(threadId, r.run_id)).status));
    expect(statuses).toEqual(['success', 'success', 'success', 'success', 'success', 'interrupted']);
    expect((await stack.client.threads.get(threadId)).status).toBe('idle');
  });

  it('refuses a resume too large for workflow history with 413, storing nothing', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const config = {
      configurable: {
        script: [{ tool_calls: [{ name: 'create_ticket', args: { title: 'big' } }] }, { content: 'done' }],
        interrupt_on: { create_ticket: true },
      },
    };
    const paused = (await stack.client.runs.wait(threadId, 'agent', { input: human('ticket'), config })) as Values;
    expect(paused.__interrupt__).toHaveLength(1);
    const before = await stack.client.runs.list(threadId);
    const resume = { decisions: [{ type: 'respond', message: 'y'.repeat(3 * 1024 * 1024) }] };
    const refused = await post(`/threads/${threadId}/runs`, { assistant_id: 'agent', command: { resume }, config });
    expect(refused.status).toBe(413);
    expect(refused.body.message).toMatch(/262144 bytes/);
    expect(await stack.client.runs.list(threadId)).toHaveLength(before.length);
    expect((await stack.client.threads.get(threadId)).status).toBe('interrupted');
    const done = (await stack.client.runs.wait(threadId, 'agent', {
      command: { resume: { decisions: [{ type: 'approve' }] } },
      config,
    })) as Values;
    expect(done.messages.at(-1)!.content).toBe('done');
  });

  it('refuses a state update too large for workflow history with 413', async () => {
    const threadId = (await stack.client.threads.create({ graphId: 'agent' })).thread_id;
    await stack.client.runs.wait(threadId, 'agent', { input: human('hi') });
    const refused = await post(`/threads/${threadId}/state`, { values: { notes: 'z'.repeat(3 * 1024 * 1024) }, as_node: 'agent' });
    expect(refused.status).toBe(413);
    expect(refused.body.message).toMatch(/262144 bytes/);
    expect(await stack.client.threads.getHistory(threadId)).toHaveLength(3);
    const next = (await stack.client.runs.wait(threadId, 'agent', { input: human('still here?') })) as Values;
    expect(next.messages).toHaveLength(4);
  });
});
