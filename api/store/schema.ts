import { z } from 'zod';
import { MAX_NAMESPACE_LIMIT, MAX_SEARCH_LIMIT } from '../../store/service.js';
import { jsonObject, queryBool } from '../schemas.js';

// Request and response shapes of /store. Shapes only: namespace rules (not empty, no `.` in a label) and filter
// operators are the store's own checks, so tools that call the store directly get the same answers.

const namespace = z.array(z.string()).describe('Namespace path, outermost label first; labels may not contain `.`');
const bodyLimit = (max: number, def: number) => z.number().int().min(1).max(max).default(def);
const bodyOffset = z.number().int().min(0).default(0);

export const putBody = z.object({
  namespace,
  key: z.string(),
  value: jsonObject.describe('Any JSON object'),
  index: z
    .union([z.literal(false), z.array(z.string())])
    .nullish()
    .describe('false: not searchable by query; field paths to embed (`$` = whole value); null: the server default'),
  ttl: z.number().positive().nullish().describe('Minutes until the item expires unless read; null: never'),
});

export const getQuery = z.object({
  // Absent (or empty, which the API reads as absent) is the empty namespace, which the store refuses with 400.
  namespace: z.string().optional().describe('Labels joined with `.`'),
  key: z.string(),
  refresh_ttl: queryBool.describe('Restart the TTL clock (default true)'),
});

export const deleteBody = z.object({ namespace, key: z.string() });

export const searchBody = z.object({
  namespace_prefix: namespace.nullish(),
  filter: jsonObject.nullish().describe('Equality on value fields (dotted paths), or operators $eq $ne $gt $gte $lt $lte'),
  limit: bodyLimit(MAX_SEARCH_LIMIT, 10),
  offset: bodyOffset,
  query: z.string().nullish().describe('Natural-language query: ranks by similarity and adds `score`'),
  refresh_ttl: z.boolean().nullish(),
});

export const namespacesBody = z.object({
  prefix: namespace.nullish().describe('`*` matches any one label'),
  suffix: namespace.nullish().describe('`*` matches any one label'),
  max_depth: z.number().int().min(1).nullish(),
  limit: bodyLimit(MAX_NAMESPACE_LIMIT, 100),
  offset: bodyOffset,
});

export const itemResponse = z.object({
  namespace: z.array(z.string()),
  key: z.string(),
  value: jsonObject,
  created_at: z.string(),
  updated_at: z.string(),
});
export const searchResponse = z.object({ items: z.array(itemResponse.extend({ score: z.number().optional() })) });
export const namespacesResponse = z.object({ namespaces: z.array(z.array(z.string())) });
