import { isRecord } from '../core/messages.js';
import { describeError, isRetryableStatus, joinUrl, retryAfterMs, vendorMessage } from '../core/vendor-http.js';
import { EmbeddingError } from './errors.js';

// Embedders turn texts into vectors for the store's semantic search. Providers: the local lexical one
// (lexical.ts) and any server that speaks OpenAI's `POST /embeddings` (OpenAI, vLLM, Ollama, llama.cpp).

export interface Embedder {
  /** Names the vector space (provider, model, size): vectors from different ids are never compared. */
  readonly id: string;
  readonly dims: number;
  /** One vector of `dims` numbers per text, in order. */
  embed(texts: string[]): Promise<number[][]>;
}

export interface OpenAIEmbedderOptions {
  baseUrl: string;
  /** Optional: local OpenAI-compatible servers need none. */
  apiKey?: string;
  model: string;
  /** Sent as `dimensions` (text-embedding-3 models shorten their vectors to it). Unset: the model's own size, 1536 assumed. */
  dims?: number;
  /** Injected in tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Inputs per request; OpenAI accepts up to 2048. */
  batchSize?: number;
}

export const OPENAI_DEFAULT_DIMS = 1536;
const PROVIDER = 'openai embeddings';

export function createOpenAIEmbedder(o: OpenAIEmbedderOptions): Embedder {
  const dims = o.dims ?? OPENAI_DEFAULT_DIMS;
  const batchSize = o.batchSize ?? 256;
  return {
    id: `openai:${o.model}:${dims}`,
    dims,
    async embed(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) out.push(...(await embedBatch(o, texts.slice(i, i + batchSize), dims)));
      return out;
    },
  };
}

async function embedBatch(o: OpenAIEmbedderOptions, input: string[], dims: number): Promise<number[][]> {
  let res: Response;
  try {
    res = await (o.fetch ?? globalThis.fetch)(joinUrl(o.baseUrl, '/embeddings'), {
      method: 'POST',
      // Local servers run without a key; sending `Bearer undefined` would make some of them refuse.
      headers: { 'content-type': 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
      body: JSON.stringify({ model: o.model, input, ...(o.dims ? { dimensions: o.dims } : {}) }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
    });
  } catch (err) {
    throw new EmbeddingError(`${PROVIDER} request failed: ${describeError(err)}`, true);
  }
  if (!res.ok) {
    const detail = vendorMessage(await res.text().catch(() => '')) || res.statusText || 'no error message';
    throw new EmbeddingError(
      `${PROVIDER} returned HTTP ${res.status}: ${detail}`,
      isRetryableStatus(res.status),
      res.status,
      retryAfterMs(res.headers),
    );
  }
  return readVectors(await res.json().catch(() => undefined), input.length, dims);
}

/** OpenAI's answer: `{data: [{index, embedding}]}`; the index, not the order, says which input a vector belongs to. */
function readVectors(body: unknown, count: number, dims: number): number[][] {
  const data = isRecord(body) && Array.isArray(body.data) ? body.data : undefined;
  if (!data || data.length !== count) throw new EmbeddingError(`${PROVIDER}: expected ${count} embeddings in "data"`, false);
  const out: number[][] = new Array<number[]>(count);
  data.forEach((d: unknown, i) => {
    const index = isRecord(d) && typeof d.index === 'number' ? d.index : i;
    const v = isRecord(d) ? d.embedding : undefined;
    if (!Number.isInteger(index) || index < 0 || index >= count)
      throw new EmbeddingError(`${PROVIDER}: data[${i}].index ${index} is out of range`, false);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number'))
      throw new EmbeddingError(`${PROVIDER}: data[${i}].embedding is not a list of numbers`, false);
    if (v.length !== dims)
      throw new EmbeddingError(`${PROVIDER}: got ${v.length} dimensions, expected ${dims} (set EMBEDDINGS_DIMS)`, false);
    out[index] = v as number[];
  });
  // A sparse array's holes are skipped by some(), so count the filled slots instead.
  if (out.filter(Boolean).length !== count) throw new EmbeddingError(`${PROVIDER}: "data" indexes do not cover every input`, false);
  return out;
}
