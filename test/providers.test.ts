// No model API is reachable from this machine, so a local node:http server STANDS IN FOR THE VENDOR: it answers
// in each vendor's real wire format (OpenAI chat.completion.chunk SSE ending in `data: [DONE]`, Anthropic
// `event:` lines from message_start to message_stop) and records what the providers sent it.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiMessage, humanMessage, toolMessage } from '../core/messages.js';
import type { Message } from '../core/messages.js';
import { createAnthropicProvider } from '../activities/models/anthropic.js';
import { createOpenAIProvider } from '../activities/models/openai.js';
import { retryAfterMs } from '../activities/models/http.js';
import { ModelCallError } from '../activities/models/types.js';
import type { ModelChunk, ModelProvider, ModelRequest, ToolSpec } from '../activities/models/types.js';

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}
type Handler = (res: ServerResponse) => void | Promise<void>;

let server: Server;
let baseUrl: string;
let handler: Handler;
let received: Received[];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(raw || '{}') as Record<string, unknown> });
      void handler(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  received = [];
});

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** Streams the frames in 7-byte slices so events and multi-byte characters straddle network reads. */
function sse(frames: string[], opts: { end?: boolean } = {}): Handler {
  return async (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const buf = Buffer.from(frames.join(''));
    for (let i = 0; i < buf.length; i += 7) {
      res.write(buf.subarray(i, i + 7));
      await tick();
    }
    if (opts.end !== false) res.end();
  };
}

function jsonError(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

const oaFrame = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
const OA_DONE = 'data: [DONE]\n\n';
function oaChunk(delta: Record<string, unknown>, finish: string | null = null) {
  return oaFrame({
    id: 'chatcmpl-9x1',
    object: 'chat.completion.chunk',
    created: 1_726_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    system_fingerprint: 'fp_e2bde4',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null,
  });
}
const oaUsage = (prompt: number, completion: number) =>
  oaFrame({
    id: 'chatcmpl-9x1',
    object: 'chat.completion.chunk',
    created: 1_726_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  });
const oaToolDelta = (index: number, fn: Record<string, unknown>, id?: string) =>
  oaChunk({ tool_calls: [{ index, ...(id ? { id, type: 'function' } : {}), function: fn }] });

const anFrame = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const anStart = (input: number) =>
  anFrame('message_start', {
    message: {
      id: 'msg_01Xyz',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: 1 },
    },
  });
const anText = (index: number, text: string) => anFrame('content_block_delta', { index, delta: { type: 'text_delta', text } });
const anJson = (index: number, partial_json: string) =>
  anFrame('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
const anStop = (index: number) => anFrame('content_block_stop', { index });
const anEnd = (stop: string, output: number) => [
  anFrame('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: output } }),
  anFrame('message_stop', {}),
];

const tools: ToolSpec[] = [
  {
    name: 'calculator',
    description: 'Evaluates arithmetic.',
    parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
  },
];
const conversation: Message[] = [
  humanMessage('What is 6*7, and the time?', 'h1'),
  aiMessage('Let me check.', 'a1', [
    { name: 'calculator', args: { expression: '6*7' }, id: 'call_1', type: 'tool_call' },
    { name: 'current_time', args: {}, id: 'call_2', type: 'tool_call' },
  ]),
  toolMessage('42', 'call_1', 'calculator', 't1'),
  toolMessage('clock broken', 'call_2', 'current_time', 't2', 'error'),
];
const request = (over: Partial<ModelRequest> = {}): ModelRequest => ({
  model: 'm',
  system: 'Be brief.',
  messages: [humanMessage('hi', 'h0')],
  tools: [],
  ...over,
});

async function run(provider: ModelProvider, req: ModelRequest, signal = new AbortController().signal) {
  const chunks: ModelChunk[] = [];
  const result = await provider.generate(req, (c) => chunks.push(c), signal);
  return { chunks, result };
}
const textOf = (chunks: ModelChunk[]) => chunks.map((c) => c.content ?? '').join('');

const openai = () => createOpenAIProvider({ apiKey: 'sk-test', baseUrl: `${baseUrl}/v1/` });
const anthropic = () => createAnthropicProvider({ apiKey: 'ak-test', baseUrl });

describe('openai provider', () => {
  it('streams text deltas in order and parses usage', async () => {
    handler = sse([
      oaChunk({ role: 'assistant', content: '' }),
      oaChunk({ content: 'Héllo' }),
      oaChunk({ content: ', wörld' }),
      oaChunk({ content: ' 🌍ü'.repeat(8) }),
      oaChunk({}, 'stop'),
      oaUsage(12, 5),
      OA_DONE,
    ]);
    const { chunks, result } = await run(openai(), request({ temperature: 0.2, maxTokens: 50 }));
    expect(chunks).toEqual([{ content: 'Héllo' }, { content: ', wörld' }, { content: ' 🌍ü'.repeat(8) }]);
    expect(result.content).toBe(textOf(chunks));
    expect(result.usage).toEqual({ input_tokens: 12, output_tokens: 5, total_tokens: 17 });
    expect(result.responseMetadata).toEqual({ model_name: 'gpt-4o-mini-2024-07-18', finish_reason: 'stop', id: 'chatcmpl-9x1' });
    const [req] = received;
    expect(req!.url).toBe('/v1/chat/completions');
    expect(req!.headers.authorization).toBe('Bearer sk-test');
    expect(req!.body).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      max_tokens: 50,
    });
  });

  it('sends converted messages and tools, and assembles split tool-call deltas', async () => {
    handler = sse([
      oaChunk({ role: 'assistant', content: null }),
      oaToolDelta(0, { name: 'calculator', arguments: '' }, 'call_A'),
      oaToolDelta(0, { arguments: '{"expre' }),
      oaToolDelta(0, { arguments: 'ssion": "2+' }),
      oaToolDelta(1, { name: 'calculator', arguments: '' }, 'call_B'),
      oaToolDelta(0, { arguments: '2"}' }),
      oaToolDelta(1, { arguments: '{"expression": ' }),
      oaChunk({}, 'tool_calls'),
      oaUsage(80, 20),
      OA_DONE,
    ]);
    const { chunks, result } = await run(openai(), request({ messages: conversation, tools }));
    expect(received[0]!.body.tools).toEqual([
      { type: 'function', function: { name: 'calculator', description: 'Evaluates arithmetic.', parameters: tools[0]!.parameters } },
    ]);
    expect(received[0]!.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is 6*7, and the time?' },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'calculator', arguments: '{"expression":"6*7"}' } },
          { id: 'call_2', type: 'function', function: { name: 'current_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '42' },
      { role: 'tool', tool_call_id: 'call_2', content: 'clock broken' },
    ]);
    expect(chunks[0]).toEqual({ toolCallChunks: [{ index: 0, id: 'call_A', name: 'calculator' }] });
    expect(
      chunks
        .flatMap((c) => c.toolCallChunks ?? [])
        .filter((c) => c.index === 0)
        .map((c) => c.args ?? '')
        .join(''),
    ).toBe('{"expression": "2+2"}');
    // The second call's arguments were cut off mid-JSON: it degrades to {} instead of failing the turn.
    expect(result.toolCalls).toEqual([
      { name: 'calculator', args: { expression: '2+2' }, id: 'call_A', type: 'tool_call' },
      { name: 'calculator', args: {}, id: 'call_B', type: 'tool_call' },
    ]);
    expect(result.responseMetadata.finish_reason).toBe('tool_calls');
  });

  it('converts image blocks and an AI message with only tool calls', async () => {
    handler = sse([oaChunk({ content: 'A cat.' }, 'stop'), OA_DONE]);
    const image: Message = humanMessage(
      [
        { type: 'text', text: 'What is this?' },
        { type: 'image', source_type: 'base64', data: 'iVBORw0KGgo=', mime_type: 'image/png' },
        { type: 'image', source_type: 'url', url: 'https://example.com/cat.jpg' },
        { type: 'image_url', image_url: { url: 'https://example.com/dog.jpg', detail: 'low' } },
      ],
      'h2',
    );
    const callOnly = aiMessage('', 'a2', [{ name: 'calculator', args: { expression: '1' }, id: 'c9', type: 'tool_call' }]);
    await run(
      openai(),
      request({ system: '', messages: [image, callOnly, toolMessage([{ type: 'text', text: '1' }], 'c9', 'calculator', 't9')] }),
    );
    expect(received[0]!.body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          { type: 'image_url', image_url: { url: 'https://example.com/dog.jpg', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c9', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1"}' } }],
      },
      { role: 'tool', tool_call_id: 'c9', content: '1' },
    ]);
  });

  it('tolerates OpenAI-compatible servers that omit usage, ids and tool-call indexes', async () => {
    const bare = (delta: Record<string, unknown>, finish: string | null = null) => oaFrame({ choices: [{ delta, finish_reason: finish }] });
    handler = sse([
      bare({ tool_calls: [{ function: { name: 'calculator', arguments: '{"expression":"3"}' } }] }),
      bare({}, 'tool_calls'),
      OA_DONE,
    ]);
    const { result } = await run(createOpenAIProvider({ baseUrl: `${baseUrl}/v1` }), request());
    expect(received[0]!.headers.authorization).toBeUndefined();
    expect(result.usage).toBeUndefined();
    expect(result.toolCalls).toHaveLength(1);
    expect(result.toolCalls[0]).toMatchObject({ name: 'calculator', args: { expression: '3' }, type: 'tool_call' });
    expect(result.toolCalls[0]!.id).toMatch(/^call_.+/);
    expect(result.responseMetadata).toEqual({ model_name: 'm', finish_reason: 'tool_calls' });
  });

  it('turns an error object inside the stream into a retryable error', async () => {
    handler = sse([oaChunk({ content: 'par' }), oaFrame({ error: { message: 'The server is overloaded', type: 'server_error' } })]);
    const err = await run(openai(), request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelCallError);
    expect(err).toMatchObject({ retryable: true, message: expect.stringContaining('The server is overloaded') });
  });
});

describe('anthropic provider', () => {
  it('streams text deltas in order and parses usage from message_start and message_delta', async () => {
    handler = sse([
      anStart(25),
      anFrame('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      anFrame('ping', {}),
      anText(0, 'Bonjour'),
      anText(0, ' à toi'),
      anStop(0),
      ...anEnd('end_turn', 7),
    ]);
    const { chunks, result } = await run(anthropic(), request({ temperature: 0 }));
    expect(chunks).toEqual([{ content: 'Bonjour' }, { content: ' à toi' }]);
    expect(result.content).toBe('Bonjour à toi');
    expect(result.usage).toEqual({ input_tokens: 25, output_tokens: 7, total_tokens: 32 });
    expect(result.responseMetadata).toMatchObject({ model_name: 'claude-sonnet-4-5-20250929', stop_reason: 'end_turn', id: 'msg_01Xyz' });
    const [req] = received;
    expect(req!.url).toBe('/v1/messages');
    // The SDK sends the key as a bearer token, and the API version it was built for.
    expect(req!.headers.authorization).toBe('Bearer ak-test');
    expect(req!.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(req!.body).toEqual({
      model: 'm',
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      max_tokens: 4096,
      temperature: 0,
      stream: true,
    });
  });

  it('sends converted messages and tools, and assembles input_json_delta fragments', async () => {
    handler = sse([
      anStart(90),
      anFrame('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      anText(0, 'Computing.'),
      anStop(0),
      anFrame('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_01', name: 'calculator', input: {} } }),
      anJson(1, ''),
      anJson(1, '{"expres'),
      anJson(1, 'sion": "7*'),
      anJson(1, '6"}'),
      anStop(1),
      ...anEnd('tool_use', 30),
    ]);
    const { chunks, result } = await run(anthropic(), request({ messages: conversation, tools, maxTokens: 256 }));
    const body = received[0]!.body;
    expect(body.tools).toEqual([{ name: 'calculator', description: 'Evaluates arithmetic.', input_schema: tools[0]!.parameters }]);
    expect(body.max_tokens).toBe(256);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What is 6*7, and the time?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'call_1', name: 'calculator', input: { expression: '6*7' } },
          { type: 'tool_use', id: 'call_2', name: 'current_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '42' },
          { type: 'tool_result', tool_use_id: 'call_2', content: 'clock broken', is_error: true },
        ],
      },
    ]);
    // The tool_use block is content block 1 but the first tool call, so its chunks carry index 0.
    const toolChunks = chunks.flatMap((c) => c.toolCallChunks ?? []);
    expect(toolChunks[0]).toEqual({ index: 0, id: 'toolu_01', name: 'calculator' });
    expect(toolChunks.every((c) => c.index === 0)).toBe(true);
    expect(toolChunks.map((c) => c.args ?? '').join('')).toBe('{"expression": "7*6"}');
    expect(result.content).toBe('Computing.');
    expect(result.toolCalls).toEqual([{ name: 'calculator', args: { expression: '7*6' }, id: 'toolu_01', type: 'tool_call' }]);
    expect(result.usage).toEqual({ input_tokens: 90, output_tokens: 30, total_tokens: 120 });
  });

  it('merges consecutive same-role messages so turns alternate, tool results first', async () => {
    handler = sse([anStart(1), ...anEnd('end_turn', 1)]);
    const messages: Message[] = [
      humanMessage('first', 'h1'),
      humanMessage([{ type: 'image', source_type: 'base64', data: 'R0lGOD', mime_type: 'image/gif' }], 'h2'),
      aiMessage('', 'a1', [
        { name: 'calculator', args: { expression: '1+1' }, id: 'c1', type: 'tool_call' },
        { name: 'calculator', args: { expression: '2+2' }, id: 'c2', type: 'tool_call' },
      ]),
      toolMessage('2', 'c1', 'calculator', 't1'),
      toolMessage('4', 'c2', 'calculator', 't2'),
      humanMessage('thanks', 'h3'),
      { ...humanMessage('Answer in French.', 's1'), type: 'system' },
    ];
    await run(anthropic(), request({ messages }));
    const body = received[0]!.body;
    expect(body.system).toBe('Be brief.\n\nAnswer in French.');
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'first' },
          { type: 'image', source: { type: 'base64', media_type: 'image/gif', data: 'R0lGOD' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'c1', name: 'calculator', input: { expression: '1+1' } },
          { type: 'tool_use', id: 'c2', name: 'calculator', input: { expression: '2+2' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'c1', content: '2' },
          { type: 'tool_result', tool_use_id: 'c2', content: '4' },
          { type: 'text', text: 'thanks' },
        ],
      },
    ]);
  });

  it('retries an overloaded_error event mid-stream but not an invalid_request_error', async () => {
    const midStream = (type: string) => sse([anStart(3), anFrame('error', { error: { type, message: `boom: ${type}` } })]);
    handler = midStream('overloaded_error');
    await expect(run(anthropic(), request())).rejects.toMatchObject({
      name: 'ModelCallError',
      retryable: true,
      message: expect.stringContaining('boom: overloaded_error'),
    });
    handler = midStream('invalid_request_error');
    await expect(run(anthropic(), request())).rejects.toMatchObject({ name: 'ModelCallError', retryable: false });
  });
});

const vendors = [
  {
    name: 'openai',
    make: openai,
    errorBody: (message: string) => ({ error: { message, type: 'invalid_request_error', param: null, code: null } }),
    cut: [oaChunk({ content: 'half' })],
  },
  {
    name: 'anthropic',
    make: anthropic,
    errorBody: (message: string) => ({ type: 'error', error: { type: 'invalid_request_error', message } }),
    cut: [anStart(1), anText(0, 'half')],
  },
];

describe.each(vendors)('$name HTTP errors and cancellation', ({ name, make, errorBody, cut }) => {
  const failure = async (): Promise<ModelCallError> => {
    const err = await run(make(), request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelCallError);
    return err as ModelCallError;
  };

  it('400 is not retryable and carries the vendor message', async () => {
    handler = jsonError(400, errorBody('messages: field required'));
    const err = await failure();
    expect(err).toMatchObject({ retryable: false, status: 400 });
    expect(err.message).toContain(name);
    expect(err.message).toContain('400');
    expect(err.message).toContain('messages: field required');
  });

  it('429 with Retry-After: 2 is retryable after 2000 ms', async () => {
    handler = jsonError(429, errorBody('Rate limit reached'), { 'retry-after': '2' });
    expect(await failure()).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2000 });
    // The SDK's own retries are off: Temporal retries, after the delay the vendor asked for.
    expect(received).toHaveLength(1);
  });

  it('503 is retryable, with retry-after-ms honoured', async () => {
    handler = jsonError(503, errorBody('Service unavailable'), { 'retry-after-ms': '750' });
    expect(await failure()).toMatchObject({ retryable: true, status: 503, retryAfterMs: 750 });
    expect(received).toHaveLength(1);
  });

  it('a refused connection is retryable', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const provider =
      name === 'openai'
        ? createOpenAIProvider({ baseUrl: `http://127.0.0.1:${port}/v1` })
        : createAnthropicProvider({ baseUrl: `http://127.0.0.1:${port}` });
    const err = await run(provider, request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelCallError);
    expect(err).toMatchObject({ retryable: true, status: undefined, message: expect.stringContaining('ECONNREFUSED') });
  });

  it('a stream cut off before it completes is retryable', async () => {
    handler = sse(cut);
    expect(await failure()).toMatchObject({ retryable: true, message: expect.stringContaining('ended before') });
  });

  it('a connection reset mid-stream is retryable', async () => {
    handler = async (res) => {
      await sse(cut, { end: false })(res);
      res.destroy();
    };
    expect(await failure()).toMatchObject({ retryable: true, status: undefined });
  });

  it('aborting mid-stream rejects promptly with the AbortError', async () => {
    handler = sse(cut, { end: false }); // the vendor keeps the connection open
    const controller = new AbortController();
    let abortedAt = 0;
    const started = make().generate(
      request(),
      () => {
        if (!abortedAt) {
          abortedAt = Date.now();
          controller.abort();
        }
      },
      controller.signal,
    );
    const err = await started.catch((e: unknown) => e);
    expect(abortedAt).toBeGreaterThan(0);
    expect((err as Error).name).toBe('AbortError');
    expect(err).not.toBeInstanceOf(ModelCallError);
    expect(Date.now() - abortedAt).toBeLessThan(1000);
  });

  it('aborting before the response arrives rejects with the AbortError', async () => {
    handler = () => undefined; // the vendor never answers
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await make()
      .generate(request(), () => undefined, controller.signal)
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(err).not.toBeInstanceOf(ModelCallError);
  });
});

describe('Retry-After parsing', () => {
  it('reads seconds, an HTTP date and retry-after-ms, and ignores garbage', () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    expect(retryAfterMs(new Headers({ 'retry-after': '1.5' }), now)).toBe(1500);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(now + 3000).toUTCString() }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(now - 3000).toUTCString() }), now)).toBe(0);
    expect(retryAfterMs(new Headers({ 'retry-after': '9', 'retry-after-ms': '120' }), now)).toBe(120);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });
});
