import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsStreaming, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { Stream } from '@anthropic-ai/sdk/streaming';
import type { Message, MessageContent, ToolCall } from '../../core/messages.js';
import { isRecord, messageText } from '../../core/messages.js';
import type { ModelChunk, ModelProvider, ModelRequest, ModelResult } from './types.js';
import type { HttpProviderOptions } from './http.js';
import { fromSdkError, imageSource, parseToolArgs, sdkOptions, streamError, truncatedStream } from './http.js';

// Anthropic Messages API, streamed through the official SDK. The API wants strictly alternating user/assistant
// turns and has no tool role, so LangChain's flat message list is folded into turns of content blocks before sending.

type Json = Record<string, unknown>;
type Role = 'user' | 'assistant';
interface Turn {
  role: Role;
  content: Json[];
}

const PROVIDER = 'anthropic';
const DEFAULT_MAX_TOKENS = 4096;

/** Credentials come from our config only: the SDK's default chain would look in the environment and config files. */
class ConfiguredAnthropic extends Anthropic {
  protected override _shouldResolveDefaultCredentials(): boolean {
    return false;
  }
}

export function createAnthropicProvider(opts: HttpProviderOptions): ModelProvider {
  const client = new ConfiguredAnthropic({
    ...sdkOptions(opts),
    apiKey: opts.apiKey ?? null,
    authToken: null,
    webhookKey: null,
    // A keyless endpoint (a local proxy) gets no Authorization header rather than a refusal from the SDK.
    ...(opts.apiKey ? {} : { defaultHeaders: { authorization: null } }),
  });
  return {
    name: PROVIDER,
    watchForStalls: true,
    async generate(req, onChunk, signal) {
      try {
        const stream = await client.messages.create(requestBody(req), { signal });
        return await readStream(stream, req.model, onChunk, signal);
      } catch (err) {
        throw fromSdkError(PROVIDER, err, signal, Anthropic);
      }
    },
  };
}

/**
 * Built as plain JSON and sent as it is: native blocks the conversion does not know (documents...) are passed on
 * for the API to judge, and `temperature`, which the SDK's types no longer list, still reaches the models that take it.
 */
function requestBody(req: ModelRequest): MessageCreateParamsStreaming {
  const { system, turns } = toAnthropicMessages(req.system, req.messages);
  const body: Json = { model: req.model, messages: turns, max_tokens: req.maxTokens ?? DEFAULT_MAX_TOKENS, stream: true };
  if (system) body.system = system;
  if (req.tools.length) {
    body.tools = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  return body as unknown as MessageCreateParamsStreaming;
}

/** System messages join the top-level prompt (the API has no system turn); the rest become alternating turns. */
export function toAnthropicMessages(systemPrompt: string, messages: Message[]): { system: string; turns: Turn[] } {
  const system = [systemPrompt];
  const turns: Turn[] = [];
  for (const m of messages) {
    if (m.type === 'system') system.push(messageText(m.content));
    else if (m.type === 'human') pushTurn(turns, { role: 'user', content: userBlocks(m.content) });
    else if (m.type === 'ai') pushTurn(turns, { role: 'assistant', content: assistantBlocks(m) });
    else if (m.type === 'tool') pushTurn(turns, { role: 'user', content: [toolResult(m)] });
  }
  for (const t of turns) if (t.role === 'user') t.content = toolResultsFirst(t.content);
  return { system: system.filter(Boolean).join('\n\n'), turns };
}

function pushTurn(turns: Turn[], turn: Turn): void {
  // Empty turns are rejected by the API; dropping one may leave two same-role turns, merged just below.
  if (!turn.content.length) return;
  const last = turns.at(-1);
  if (last?.role === turn.role) last.content.push(...turn.content);
  else turns.push(turn);
}

/** The API rejects a user turn whose tool_result blocks follow other content. */
function toolResultsFirst(blocks: Json[]): Json[] {
  return [...blocks.filter((b) => b.type === 'tool_result'), ...blocks.filter((b) => b.type !== 'tool_result')];
}

function userBlocks(content: MessageContent): Json[] {
  if (typeof content === 'string') return textBlocks(content);
  return content.flatMap((b) => {
    if (b.type === 'text') return textBlocks(typeof b.text === 'string' ? b.text : '');
    const img = imageSource(b);
    if (img) return [imageBlock(img)];
    // Anything else may be a native Anthropic block (document, search_result...): let the API judge it.
    return [b];
  });
}

/** The API refuses empty text blocks. */
function textBlocks(text: string): Json[] {
  return text ? [{ type: 'text', text }] : [];
}

function imageBlock(img: NonNullable<ReturnType<typeof imageSource>>): Json {
  if ('url' in img) return { type: 'image', source: { type: 'url', url: img.url } };
  return { type: 'image', source: { type: 'base64', media_type: img.mimeType, data: img.data } };
}

function assistantBlocks(m: Message): Json[] {
  // Only text is taken from content: tool_use blocks there would duplicate `tool_calls`, the source of truth.
  const blocks = textBlocks(messageText(m.content));
  for (const c of m.tool_calls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.args ?? {} });
  return blocks;
}

function toolResult(m: Message): Json {
  const content = typeof m.content === 'string' ? m.content : userBlocks(m.content).filter((b) => b.type === 'text' || b.type === 'image');
  const block: Json = { type: 'tool_result', tool_use_id: m.tool_call_id, content };
  if (m.status === 'error') block.is_error = true;
  return block;
}

interface PartialCall {
  id: string;
  name: string;
  args: string;
}

interface StreamState {
  text: string;
  calls: PartialCall[];
  /** Content-block index to position among tool_use blocks, which is the index callers see. */
  callAt: Map<number, number>;
  id: string;
  model: string;
  stopReason: string | null;
  stopSequence: string | null;
  usage?: { input: number; output: number };
  done: boolean;
}

async function readStream(
  stream: Stream<RawMessageStreamEvent>,
  model: string,
  onChunk: (c: ModelChunk) => void,
  signal: AbortSignal,
): Promise<ModelResult> {
  const s: StreamState = { text: '', calls: [], callAt: new Map(), id: '', model: '', stopReason: null, stopSequence: null, done: false };
  for await (const event of stream) {
    const data = event as unknown as Json;
    applyEvent(s, String(data.type), data, onChunk);
    if (s.done) break;
  }
  // The SDK ends an aborted stream quietly: that is no answer, whole or cut.
  signal.throwIfAborted();
  if (!s.done) throw truncatedStream(PROVIDER);
  return result(s, model);
}

function applyEvent(s: StreamState, type: string, data: Json, onChunk: (c: ModelChunk) => void): void {
  switch (type) {
    case 'message_start':
      return onMessageStart(s, isRecord(data.message) ? data.message : {});
    case 'content_block_start':
      return onBlockStart(s, data, onChunk);
    case 'content_block_delta':
      return onBlockDelta(s, data, onChunk);
    case 'message_delta':
      return onMessageDelta(s, data);
    case 'message_stop':
      s.done = true;
      return;
    case 'error':
      throw streamError(PROVIDER, data.error ?? data);
    default:
      // ping, content_block_stop and event types added later carry nothing we assemble.
      return;
  }
}

function onMessageStart(s: StreamState, message: Json): void {
  if (typeof message.id === 'string') s.id = message.id;
  if (typeof message.model === 'string') s.model = message.model;
  if (!isRecord(message.usage)) return;
  const u = message.usage;
  // Cached prompt tokens are billed input too; LangChain counts them in input_tokens the same way.
  const input = num(u.input_tokens) + num(u.cache_creation_input_tokens) + num(u.cache_read_input_tokens);
  s.usage = { input, output: num(u.output_tokens) };
}

function onBlockStart(s: StreamState, data: Json, onChunk: (c: ModelChunk) => void): void {
  const block = isRecord(data.content_block) ? data.content_block : {};
  if (block.type === 'text' && typeof block.text === 'string' && block.text) {
    s.text += block.text;
    onChunk({ content: block.text });
  }
  if (block.type !== 'tool_use') return;
  const index = s.calls.length;
  // Streams start with `input: {}` and send the JSON as deltas; a proxy that sends it whole is honoured.
  const initial = isRecord(block.input) && Object.keys(block.input).length ? JSON.stringify(block.input) : '';
  const call = { id: String(block.id ?? ''), name: String(block.name ?? ''), args: initial };
  s.calls.push(call);
  s.callAt.set(num(data.index), index);
  onChunk({ toolCallChunks: [{ index, id: call.id, name: call.name, ...(initial ? { args: initial } : {}) }] });
}

function onBlockDelta(s: StreamState, data: Json, onChunk: (c: ModelChunk) => void): void {
  const delta = isRecord(data.delta) ? data.delta : {};
  if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text) {
    s.text += delta.text;
    onChunk({ content: delta.text });
    return;
  }
  if (delta.type !== 'input_json_delta' || typeof delta.partial_json !== 'string' || !delta.partial_json) return;
  const index = s.callAt.get(num(data.index));
  const call = index === undefined ? undefined : s.calls[index];
  if (index === undefined || !call) return;
  call.args += delta.partial_json;
  onChunk({ toolCallChunks: [{ index, args: delta.partial_json }] });
}

function onMessageDelta(s: StreamState, data: Json): void {
  const delta = isRecord(data.delta) ? data.delta : {};
  if (typeof delta.stop_reason === 'string') s.stopReason = delta.stop_reason;
  if (typeof delta.stop_sequence === 'string') s.stopSequence = delta.stop_sequence;
  // message_delta usage is cumulative, so it replaces the placeholder count from message_start.
  if (isRecord(data.usage) && typeof data.usage.output_tokens === 'number') {
    s.usage = { input: s.usage?.input ?? 0, output: data.usage.output_tokens };
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function result(s: StreamState, model: string): ModelResult {
  const toolCalls: ToolCall[] = s.calls.map((c) => ({ name: c.name, args: parseToolArgs(c.args), id: c.id, type: 'tool_call' }));
  const responseMetadata: Json = { model_name: s.model || model, stop_reason: s.stopReason, stop_sequence: s.stopSequence };
  if (s.id) responseMetadata.id = s.id;
  const out: ModelResult = { content: s.text, toolCalls, responseMetadata };
  if (s.usage) {
    const { input, output } = s.usage;
    out.usage = { input_tokens: input, output_tokens: output, total_tokens: input + output };
  }
  return out;
}
