import { createParser } from 'eventsource-parser';
import type { EventSourceMessage } from 'eventsource-parser';
import { isRecord } from '../../core/messages.js';
import { describeError, isRetryableStatus, ModelCallError, retryAfterMs, vendorMessage } from '../../core/vendor-http.js';

// Defined with the embeddings client's share of them in core/vendor-http.ts; re-exported for the providers.
export { isRetryableStatus, joinUrl, retryAfterMs, vendorMessage } from '../../core/vendor-http.js';

// Shared plumbing of the HTTP model providers: one streaming POST, the error policy Temporal retries by,
// SSE framing, and the few wire helpers both vendors need.

export interface HttpProviderOptions {
  /** Optional: local OpenAI-compatible servers need none. */
  apiKey?: string;
  baseUrl: string;
  /** Injected in tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface StreamPost {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  fetch: typeof fetch;
  signal: AbortSignal;
}

/** POSTs a JSON body and returns the streaming response, or throws a ModelCallError carrying the retry policy. */
export async function postStream(p: StreamPost): Promise<Response & { body: ReadableStream<Uint8Array> }> {
  let res: Response;
  try {
    res = await p.fetch(p.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...p.headers },
      body: JSON.stringify(p.body),
      signal: p.signal,
    });
  } catch (err) {
    // Cancellation is the caller's business: hand back exactly what fetch threw so it can recognise it.
    if (p.signal.aborted || isAbortError(err)) throw err;
    throw new ModelCallError(`${p.provider} request failed: ${describeError(err)}`, true);
  }
  if (!res.ok) throw await httpError(p.provider, res);
  if (!res.body) throw new ModelCallError(`${p.provider} returned HTTP ${res.status} without a body`, true, res.status);
  return res as Response & { body: ReadableStream<Uint8Array> };
}

async function httpError(provider: string, res: Response): Promise<ModelCallError> {
  const text = await res.text().catch(() => '');
  const detail = vendorMessage(text) || res.statusText || 'no error message';
  return new ModelCallError(
    `${provider} returned HTTP ${res.status}: ${detail}`,
    isRetryableStatus(res.status),
    res.status,
    retryAfterMs(res.headers),
  );
}

/** An `error` event inside a 200 stream: usually overload, so retry unless the vendor blames the request. */
export function streamError(provider: string, error: unknown): ModelCallError {
  const e = isRecord(error) ? error : {};
  const type = typeof e.type === 'string' ? e.type : typeof e.code === 'string' ? e.code : 'overloaded_error';
  const message = typeof e.message === 'string' ? e.message : typeof error === 'string' ? error : JSON.stringify(error);
  return new ModelCallError(`${provider} stream error (${type}): ${message}`, !type.includes('invalid_request'));
}

export function truncatedStream(provider: string): ModelCallError {
  return new ModelCallError(`${provider} stream ended before the response was complete`, true);
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/** The SSE events of a response body, in order. Stopping early releases the connection. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length) yield queue.shift()!;
    }
    parser.feed(decoder.decode());
    // Some servers close without the blank line that terminates the last event.
    parser.reset({ consume: true });
    while (queue.length) yield queue.shift()!;
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Tool arguments as the model wrote them; a model that writes broken JSON gets `{}` rather than a failed run. */
export function parseToolArgs(text: string): Record<string, unknown> {
  return parseJson(text.trim() || '{}') ?? {};
}

export type ImageSource = { url: string } | { data: string; mimeType: string };

/** Reads an image block in any of the shapes LangChain messages carry: standard, OpenAI or Anthropic. */
export function imageSource(block: Record<string, unknown>): ImageSource | undefined {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  if (block.type === 'image_url') {
    const url = str(block.image_url) ?? (isRecord(block.image_url) ? str(block.image_url.url) : undefined);
    return url ? fromUrl(url) : undefined;
  }
  if (block.type !== 'image') return undefined;
  if (isRecord(block.source)) {
    const s = block.source;
    if (s.type === 'url' && str(s.url)) return { url: s.url as string };
    const data = str(s.data);
    return data ? { data, mimeType: str(s.media_type) ?? 'image/png' } : undefined;
  }
  const mimeType = str(block.mime_type) ?? str(block.mimeType) ?? 'image/png';
  const data = str(block.data);
  if (data) return { data, mimeType };
  const url = str(block.url);
  return url ? fromUrl(url) : undefined;
}

function fromUrl(url: string): ImageSource {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { data: m[2]!, mimeType: m[1]! } : { url };
}
