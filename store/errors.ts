import { ModelCallError } from '../core/vendor-http.js';

// Errors the store raises on purpose. Callers (the API, tools) translate them; anything else is a real fault.

/**
 * Bad input, found before anything is written. `field` is a dotted path into the caller's input
 * (`namespace.1`, `filter.score.$regex`, named as on the wire); `status` is the HTTP status the Agent Server uses for it.
 */
export class StoreInputError extends Error {
  override name = 'StoreInputError';
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly status: 400 | 422 = 422,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** The embeddings provider failed: a provider call like a model's, with the same retry policy (429, 5xx, network). */
export class EmbeddingError extends ModelCallError {
  override name = 'EmbeddingError';
}
