import type { Config } from '../config/index.js';
import type { Db } from '../db/pool.js';
import { createOpenAIEmbedder, type Embedder } from './embeddings.js';
import { createLexicalEmbedder } from './lexical.js';
import { createStore, type StoreService } from './service.js';

// The store as the configuration describes it; the API process and the worker each build one on their Db.

export type StoreConfig = Pick<
  Config,
  'EMBEDDINGS_PROVIDER' | 'EMBEDDINGS_MODEL' | 'EMBEDDINGS_DIMS' | 'STORE_INDEX_FIELDS' | 'OPENAI_API_KEY' | 'OPENAI_BASE_URL'
>;

export function createStoreFromConfig(db: Db, config: StoreConfig): StoreService {
  return createStore({ db, embedder: embedderFromConfig(config), defaultIndexFields: indexFieldsOf(config.STORE_INDEX_FIELDS) });
}

export function embedderFromConfig(c: StoreConfig): Embedder | null {
  if (c.EMBEDDINGS_PROVIDER === 'none') return null;
  if (c.EMBEDDINGS_PROVIDER === 'local') return createLexicalEmbedder(c.EMBEDDINGS_DIMS);
  return createOpenAIEmbedder({
    baseUrl: c.OPENAI_BASE_URL,
    ...(c.OPENAI_API_KEY ? { apiKey: c.OPENAI_API_KEY } : {}),
    model: c.EMBEDDINGS_MODEL,
    ...(c.EMBEDDINGS_DIMS ? { dims: c.EMBEDDINGS_DIMS } : {}),
  });
}

export function indexFieldsOf(setting: string): string[] {
  return setting
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
}

export { createStore, type StoreService, type StoreItem, type SearchItem } from './service.js';
export { createLexicalEmbedder } from './lexical.js';
export { createOpenAIEmbedder, type Embedder } from './embeddings.js';
export { StoreInputError, EmbeddingError } from './errors.js';
