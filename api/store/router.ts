import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router, type Request } from 'express';
import { EmbeddingError, StoreInputError } from '../../store/errors.js';
import type { AppDeps } from '../deps.js';
import { ApiError, ErrorCode } from '../errors.js';
import { mount } from '../route.js';
import * as s from './schema.js';
import { namespaceContainsOf } from '../auth/store-policy.js';

// The long-term store: LangGraph's BaseStore over HTTP. A missing item reads as JSON `null` with 200, which the
// SDK's getItem passes through; bad input is 400 (empty namespace, as the JS server) or 422, naming the field.

export function storeRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const store = deps.store;
  const router = Router();
  const tag = 'Store';

  mount(router, registry, {
    method: 'put',
    path: '/store/items',
    summary: 'Create or replace an item',
    tag,
    body: s.putBody,
    handler: ({ body }) =>
      guard('body', () => store.put(body.namespace, body.key, body.value, { index: body.index ?? null, ttl: body.ttl ?? null })),
  });
  mount(router, registry, {
    method: 'get',
    path: '/store/items',
    summary: 'Get an item (null when there is none)',
    tag,
    query: s.getQuery,
    response: s.itemResponse.nullable(),
    handler: ({ query }) => {
      const namespace = query.namespace ? query.namespace.split('.') : [];
      return guard('query', () => store.get(namespace, query.key, { refreshTtl: query.refresh_ttl ?? null }));
    },
  });
  mount(router, registry, {
    method: 'delete',
    path: '/store/items',
    summary: 'Delete an item',
    tag,
    body: s.deleteBody,
    handler: async ({ body }) => {
      await guard('body', () => store.delete(body.namespace, body.key));
    },
  });
  mount(router, registry, {
    method: 'post',
    path: '/store/items/search',
    summary: 'Search items by namespace prefix, filter and query',
    tag,
    body: s.searchBody,
    response: s.searchResponse,
    handler: async ({ body }, req) => ({
      items: await guard('body', () =>
        store.search(body.namespace_prefix ?? [], {
          ...namespaceRule(req),
          filter: body.filter ?? null,
          limit: body.limit,
          offset: body.offset,
          query: body.query ?? null,
          refreshTtl: body.refresh_ttl ?? null,
        }),
      ),
    }),
  });
  mount(router, registry, {
    method: 'post',
    path: '/store/namespaces',
    summary: 'List namespaces',
    tag,
    body: s.namespacesBody,
    response: s.namespacesResponse,
    handler: async ({ body }, req) => ({
      namespaces: await guard('body', () =>
        store.listNamespaces({
          ...namespaceRule(req),
          prefix: body.prefix ?? null,
          suffix: body.suffix ?? null,
          maxDepth: body.max_depth ?? null,
          limit: body.limit,
          offset: body.offset,
        }),
      ),
    }),
  });
  return router;
}

/** The authorization filter on namespaces (api/auth/store-policy.ts), applied in SQL. */
function namespaceRule(req: Request): { namespaceContains?: string[] } {
  const labels = namespaceContainsOf(req);
  return labels ? { namespaceContains: labels } : {};
}

/** The store's own errors as API errors; anything else is a real fault and stays a 500. */
async function guard<T>(where: 'body' | 'query', fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreInputError) {
      const detail = { path: `${where}.${err.field}`, message: err.reason };
      const code = err.status === 400 ? ErrorCode.badRequest : ErrorCode.invalid;
      throw new ApiError(code, `Invalid ${where}: ${detail.path}: ${detail.message}`, [detail]);
    }
    // A provider outage is temporary more often than not, and 503 is what the SDK retries.
    if (err instanceof EmbeddingError) throw new ApiError(ErrorCode.unavailable, `The embeddings provider failed: ${err.message}`);
    throw err;
  }
}
