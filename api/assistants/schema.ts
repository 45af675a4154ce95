import { z } from 'zod';
import { findGraph } from '../../core/graphs.js';
import { assistantSortColumns } from '../../db/assistants.js';
import { jsonObject, queryBool, uuid } from '../schemas.js';

// Request and response shapes of /assistants. Path ids stay plain strings: a graph id may stand in for an
// assistant id, and anything that is neither answers 404 from the lookup rather than 422 here.

/** A registered graph; an unknown one is a bad field (422), not a missing resource. */
const graphId = z.string().refine((g) => findGraph(g) !== undefined, { error: (i) => `Graph "${String(i.input)}" not found` });

export const assistantConfig = z.looseObject({
  tags: z.array(z.string()).optional(),
  recursion_limit: z.number().int().positive().optional(),
  configurable: jsonObject.optional(),
});

// Bodies are JSON, so numbers must already be numbers (the shared `limit` coerces, which suits query strings).
const bodyLimit = z.number().int().min(1).max(1000).default(10);
const bodyOffset = z.number().int().min(0).default(0);

// `null` is read as "not given" everywhere, as the Python server's Optional fields are.
export const assistantCreate = z.object({
  graph_id: graphId,
  assistant_id: uuid.optional(),
  config: assistantConfig.nullish(),
  context: jsonObject.nullish(),
  metadata: jsonObject.nullish(),
  if_exists: z.enum(['raise', 'do_nothing']).nullish(),
  name: z.string().nullish(),
  description: z.string().nullish(),
});

export const assistantPatch = z.object({
  graph_id: graphId.nullish(),
  config: assistantConfig.nullish(),
  context: jsonObject.nullish(),
  metadata: jsonObject.nullish(),
  name: z.string().nullish(),
  description: z.string().nullish(),
});

const filter = {
  graph_id: z.string().nullish(),
  name: z.string().nullish(),
  metadata: jsonObject.nullish(),
};

export const assistantResponse = z.object({
  assistant_id: uuid,
  graph_id: z.string(),
  config: assistantConfig,
  context: jsonObject,
  metadata: jsonObject,
  version: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export const versionResponse = assistantResponse.omit({ updated_at: true });

const assistantKeys = assistantResponse.keyof();

export const assistantSearch = z.object({
  ...filter,
  limit: bodyLimit,
  offset: bodyOffset,
  sort_by: z.enum(assistantSortColumns).nullish(),
  sort_order: z.enum(['asc', 'desc']).nullish(),
  select: z.array(assistantKeys).min(1).nullish(),
});
export const assistantCount = z.object(filter);

export const versionsBody = z.object({ metadata: jsonObject.nullish(), limit: bodyLimit, offset: bodyOffset });
export const latestBody = z.object({ version: z.number().int().min(1) });

export const assistantParams = z.object({ assistant_id: z.string() });
export const subgraphParams = assistantParams.extend({ namespace: z.string() });

export const deleteQuery = z.object({ delete_threads: queryBool });
export const graphQuery = z.object({
  xray: z
    .string()
    .regex(/^(true|false|\d+)$/, 'Expected true, false or a depth')
    .optional(),
});
export const subgraphsQuery = z.object({ recurse: queryBool });
