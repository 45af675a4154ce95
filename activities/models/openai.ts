import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { Stream } from 'openai/streaming';
import type { Message, MessageContent, ToolCall } from '../../core/messages.js';
import { isRecord, messageText } from '../../core/messages.js';
import type { ModelChunk, ModelProvider, ModelRequest, ModelResult, ToolCallChunk } from './types.js';
import type { HttpProviderOptions } from './http.js';
import { fromSdkError, imageSource, parseToolArgs, sdkOptions, streamError, truncatedStream } from './http.js';

// OpenAI Chat Completions, streamed through the official SDK. The same wire format is served by vLLM, Ollama and
// llama.cpp, which leave out parts OpenAI always sends (usage, call ids, chunk indexes): the SDK's types promise
// them, but every field of a chunk is read here as optional.

type Json = Record<string, unknown>;

const PROVIDER = 'openai';

export function createOpenAIProvider(opts: HttpProviderOptions): ModelProvider {
  const client = new OpenAI({
    ...sdkOptions(opts),
    // Local servers run without a key. The SDK insists on one, so it gets a placeholder and is told to send no
    // Authorization header at all: some servers refuse any key they do not know.
    apiKey: opts.apiKey ?? 'no-key',
    ...(opts.apiKey ? {} : { defaultHeaders: { authorization: null } }),
    // Settings the SDK would otherwise read from the environment, which only config/ reads.
    organization: null,
    project: null,
    webhookSecret: null,
  });
  return {
    name: PROVIDER,
    watchForStalls: true,
    async generate(req, onChunk, signal) {
      try {
        const stream = await client.chat.completions.create(requestBody(req), { signal });
        return await readStream(stream, req.model, onChunk, signal);
      } catch (err) {
        throw fromSdkError(PROVIDER, err, signal, OpenAI);
      }
    },
  };
}

function requestBody(req: ModelRequest): ChatCompletionCreateParamsStreaming {
  const body: ChatCompletionCreateParamsStreaming = {
    model: req.model,
    // Built as plain JSON: content blocks the conversion does not know are passed on for the server to judge.
    messages: toOpenAIMessages(req.system, req.messages) as unknown as ChatCompletionMessageParam[],
    stream: true,
    stream_options: { include_usage: true },
  };
  if (req.tools.length) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  return body;
}

export function toOpenAIMessages(system: string, messages: Message[]): Json[] {
  const out: Json[] = system ? [{ role: 'system', content: system }] : [];
  for (const m of messages) {
    const converted = toOpenAIMessage(m);
    if (converted) out.push(converted);
  }
  return out;
}

function toOpenAIMessage(m: Message): Json | undefined {
  switch (m.type) {
    case 'human':
      return { role: 'user', content: userContent(m.content) };
    case 'ai':
      return assistantMessage(m);
    case 'tool':
      return { role: 'tool', tool_call_id: m.tool_call_id, content: toolContent(m.content) };
    case 'system':
      return { role: 'system', content: messageText(m.content) };
    default:
      return undefined;
  }
}

function userContent(content: MessageContent): string | Json[] {
  if (typeof content === 'string') return content;
  return content.map((b) => {
    if (b.type === 'text') return { type: 'text', text: typeof b.text === 'string' ? b.text : '' };
    if (b.type === 'image_url') return b;
    const img = imageSource(b);
    if (!img) return b;
    const url = 'url' in img ? img.url : `data:${img.mimeType};base64,${img.data}`;
    return { type: 'image_url', image_url: { url } };
  });
}

function assistantMessage(m: Message): Json {
  const text = messageText(m.content);
  const calls = m.tool_calls ?? [];
  if (!calls.length) return { role: 'assistant', content: text };
  return {
    role: 'assistant',
    content: text || null,
    tool_calls: calls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: JSON.stringify(c.args ?? {}) },
    })),
  };
}

function toolContent(content: MessageContent): string {
  if (typeof content === 'string') return content;
  const allText = content.every((b) => b.type === 'text');
  return allText ? messageText(content) : JSON.stringify(content);
}

interface PartialCall {
  id: string;
  name: string;
  args: string;
}

interface StreamState {
  content: string;
  calls: Map<number, PartialCall>;
  id: string;
  model: string;
  finishReason: string | null;
  usage?: ModelResult['usage'];
}

async function readStream(
  stream: Stream<ChatCompletionChunk>,
  model: string,
  onChunk: (c: ModelChunk) => void,
  signal: AbortSignal,
): Promise<ModelResult> {
  const s: StreamState = { content: '', calls: new Map(), id: '', model: '', finishReason: null };
  for await (const chunk of stream) applyChunk(s, chunk as unknown as Json, onChunk);
  // The SDK ends an aborted stream quietly: that is no answer, whole or cut.
  signal.throwIfAborted();
  // The SDK hides `[DONE]`; a finish_reason proves the answer is whole, and without one the connection was cut.
  if (s.finishReason === null) throw truncatedStream(PROVIDER);
  return result(s, model);
}

function applyChunk(s: StreamState, chunk: Json, onChunk: (c: ModelChunk) => void): void {
  if (chunk.error !== undefined && chunk.error !== null) throw streamError(PROVIDER, chunk.error);
  if (typeof chunk.id === 'string' && !s.id) s.id = chunk.id;
  if (typeof chunk.model === 'string' && !s.model) s.model = chunk.model;
  if (isRecord(chunk.usage)) s.usage = toUsage(chunk.usage);
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  if (!isRecord(choice)) return;
  if (typeof choice.finish_reason === 'string') s.finishReason = choice.finish_reason;
  const delta = isRecord(choice.delta) ? choice.delta : {};
  if (typeof delta.content === 'string' && delta.content) {
    s.content += delta.content;
    onChunk({ content: delta.content });
  }
  if (Array.isArray(delta.tool_calls)) {
    const chunks = delta.tool_calls.filter(isRecord).map((d) => applyToolDelta(s, d));
    if (chunks.length) onChunk({ toolCallChunks: chunks });
  }
}

function applyToolDelta(s: StreamState, d: Json): ToolCallChunk {
  const fn = isRecord(d.function) ? d.function : {};
  const id = typeof d.id === 'string' && d.id ? d.id : undefined;
  const name = typeof fn.name === 'string' && fn.name ? fn.name : undefined;
  const args = typeof fn.arguments === 'string' ? fn.arguments : isRecord(fn.arguments) ? JSON.stringify(fn.arguments) : undefined;
  // Servers that omit `index` send each call whole, so a delta that names itself starts a new call.
  const index = typeof d.index === 'number' ? d.index : id || name ? s.calls.size : Math.max(0, s.calls.size - 1);
  const call = s.calls.get(index) ?? { id: '', name: '', args: '' };
  s.calls.set(index, call);
  // OpenAI sends id and name once; servers that repeat them must not get them doubled.
  if (id && !call.id) call.id = id;
  if (name && !call.name) call.name = name;
  if (args) call.args += args;
  const out: ToolCallChunk = { index };
  if (id) out.id = id;
  if (name) out.name = name;
  if (args) out.args = args;
  return out;
}

function toUsage(u: Json): NonNullable<ModelResult['usage']> {
  const input = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : 0;
  const output = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  const total = typeof u.total_tokens === 'number' ? u.total_tokens : input + output;
  return { input_tokens: input, output_tokens: output, total_tokens: total };
}

function result(s: StreamState, model: string): ModelResult {
  const toolCalls: ToolCall[] = [...s.calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, c]) => ({ name: c.name, args: parseToolArgs(c.args), id: c.id || `call_${randomUUID()}`, type: 'tool_call' }));
  const responseMetadata: Json = { model_name: s.model || model, finish_reason: s.finishReason };
  if (s.id) responseMetadata.id = s.id;
  const out: ModelResult = { content: s.content, toolCalls, responseMetadata };
  if (s.usage) out.usage = s.usage;
  return out;
}
