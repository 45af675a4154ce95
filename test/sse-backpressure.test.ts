import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { human } from './helpers/input.js';
import { startStack, type Stack } from './helpers/stack.js';

// A client that stops reading an SSE stream must not make the API buffer the rest of it. The run streams in
// `messages` mode, whose `messages/partial` events repeat the whole text so far: 48 words of 16 kB make about
// 19 MB of stream, far beyond what the kernel's socket buffers absorb (4 MB here). The API is this stack's,
// served again here so the test can watch its responses' buffers.

const WORD = 16_000;
const WORDS = 48;
let stack: Stack;
let server: Server;
let url: string;
const responses = new Map<string, ServerResponse>();

beforeAll(async () => {
  stack = await startStack();
  server = createServer(createApp({ ...stack.deps, settings: { ...stack.deps.settings, bodyLimit: '5mb' } }));
  // A second listener sees the same response objects as the app.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => responses.set(req.url ?? '', res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await stack?.stop();
});

describe('SSE to a client that reads slowly', () => {
  it('pauses the producer with the buffer bounded, then delivers the whole stream once the client reads', async () => {
    const threadId = (await stack.client.threads.create()).thread_id;
    const words = Array.from({ length: WORDS }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(WORD - 3)} `);
    const answer = words.join('');
    const path = `/threads/${threadId}/runs/stream`;
    const body = JSON.stringify({
      assistant_id: 'agent',
      input: human('go'),
      config: { configurable: { script: [{ content: answer }] } },
      stream_mode: ['messages'],
    });

    // The client sends its request, then stops reading.
    const client = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(body);
    });
    client.pause();

    // The API's producer comes to wait for `drain` (it would otherwise write all 19 MB into memory at once)...
    await expect.poll(() => responses.get(path)?.listenerCount('drain') ?? 0, { timeout: 90_000, interval: 50 }).toBeGreaterThan(0);
    const res = responses.get(path)!;
    // ...holding no more than its highWaterMark and the one event that crossed it (an event is at most the text).
    expect(res.writableLength).toBeLessThanOrEqual(res.writableHighWaterMark + answer.length + 4096);
    expect(res.writableEnded).toBe(false);

    // Once the client reads, everything arrives, in order, and the stream ends.
    client.resume();
    let text = '';
    client.setEncoding('utf8');
    for await (const chunk of client) text += chunk as string;
    const partials = text
      .split('\n\n')
      .filter((frame) => frame.startsWith('event: messages/partial\n'))
      .map((frame) => (JSON.parse(frame.split('\ndata: ')[1]!.split('\n')[0]!) as { content: string }[])[0]!.content);
    expect(partials).toHaveLength(WORDS);
    expect(partials.at(-1)).toBe(answer);
    expect(partials.every((p, i) => p === words.slice(0, i + 1).join(''))).toBe(true);
  }, 180_000);
});
