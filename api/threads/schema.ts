import { z } from 'zod';
import { threadSortColumns } from '../../db/threads.js';
import { jsonObject, limit, metadata, offset, queryArray, queryBool, uuid } from '../schemas.js';

// Request and response shapes of the thread routes, as SDK 1.15 sends and reads them.

export const threadStatus = z.enum(['idle', 'busy', 'interrupted', 'error']);

export const threadParams = z.object({ thread_id: uuid });
export const checkpointParams = z.object({ thread_id: uuid, checkpoint_id: uuid });

/** Minutes until the thread expires; the SDK turns a bare number into `{ttl, strategy: "delete"}`. */
const ttl = z
  .union([z.number().positive(), z.object({ ttl: z.number().positive(), strategy: z.literal('delete').optional() })])
  .nullable()
  .optional();

/** The ttl setting as minutes, or null to clear it. */
export const ttlMinutes = (t: z.infer<typeof ttl>): number | null =>
  t === null || t === undefined ? null : typeof t === 'number' ? t : t.ttl;

const superstepUpdate = z.object({
  values: z.unknown().optional(),
  command: z.object({ update: z.unknown().optional(), resume: z.unknown().optional(), goto: z.unknown().optional() }).nullable().optional(),
  as_node: z.string().min(1),
});

export const threadCreate = z.object({
  thread_id: uuid.optional(),
  metadata: metadata.nullable().optional(),
  if_exists: z.enum(['raise', 'do_nothing']).nullable().optional(),
  supersteps: z
    .array(z.object({ updates: z.array(superstepUpdate).min(1) }))
    .nullable()
    .optional(),
  ttl,
});
export type ThreadCreate = z.infer<typeof threadCreate>;

export const threadPatch = z.object({ metadata: metadata.nullable().optional(), ttl });

export const getThreadQuery = z.object({ include: queryArray(z.string()) });

const threadFilter = {
  metadata: metadata.nullable().optional(),
  values: jsonObject.nullable().optional(),
  status: threadStatus.nullable().optional(),
};

export const threadSelectFields = [
  'thread_id',
  'created_at',
  'updated_at',
  'state_updated_at',
  'metadata',
  'config',
  'context',
  'status',
  'values',
  'interrupts',
  'error',
] as const;

export const threadSearch = z.object({
  ...threadFilter,
  ids: z.array(uuid).max(1000).nullable().optional(),
  limit: limit(1000, 10),
  offset,
  sort_by: z.enum(threadSortColumns).nullable().optional(),
  sort_order: z.enum(['asc', 'desc']).nullable().optional(),
  select: z.array(z.enum(threadSelectFields)).nullable().optional(),
  extract: z.record(z.string().min(1), z.string().min(1).max(256)).nullable().optional(),
});
export type ThreadSearchBody = z.infer<typeof threadSearch>;

export const threadCount = z.object(threadFilter);

export const threadPrune = z.object({
  thread_ids: z.array(uuid).max(1000),
  strategy: z.enum(['delete', 'keep_latest']).default('delete'),
});

// ---------------------------------------------------------------- state

const stateFields = ['values', 'next', 'tasks', 'checkpoint', 'metadata', 'created_at', 'parent_checkpoint', 'interrupts'] as const;
export const stateSelectField = z.union([z.enum(stateFields), z.string().regex(/^values\..+/, 'expected a state field or values.<key>')]);

export const stateQuery = z.object({ subgraphs: queryBool, select: queryArray(stateSelectField) });

export const checkpointInput = z.object({
  thread_id: z.string().nullable().optional(),
  checkpoint_ns: z.string().nullable().optional(),
  checkpoint_id: uuid.nullable().optional(),
  checkpoint_map: jsonObject.nullable().optional(),
});

export const stateAtCheckpoint = z.object({
  checkpoint: checkpointInput,
  subgraphs: z.boolean().nullable().optional(),
  select: z.array(stateSelectField).nullable().optional(),
});

export const stateUpdate = z.object({
  values: z
    .union([jsonObject, z.array(z.unknown())])
    .nullable()
    .optional(),
  as_node: z.string().min(1).nullable().optional(),
  checkpoint: checkpointInput.nullable().optional(),
  checkpoint_id: uuid.nullable().optional(),
});

export const statePatch = z.object({ metadata });

/** `before` is a checkpoint id, a Config (what SDK 1.15 sends) or a Checkpoint. */
const before = z.union([
  uuid,
  z.object({ configurable: z.object({ checkpoint_id: uuid.nullable().optional() }).passthrough() }).passthrough(),
  checkpointInput.passthrough(),
]);

export const historyBody = z.object({
  limit: limit(1000, 10),
  before: before.nullable().optional(),
  metadata: metadata.nullable().optional(),
  checkpoint: checkpointInput.nullable().optional(),
  select: z.array(stateSelectField).nullable().optional(),
});
export type HistoryBody = z.infer<typeof historyBody>;

export const historyQuery = z.object({ limit: limit(1000, 10), before: uuid.optional(), select: queryArray(stateSelectField) });

// ---------------------------------------------------------------- responses (for the docs)

const interrupt = z.object({ id: z.string(), value: z.unknown() });

export const threadResponse = z.object({
  thread_id: uuid,
  created_at: z.string(),
  updated_at: z.string(),
  state_updated_at: z.string(),
  metadata: jsonObject,
  status: threadStatus,
  values: jsonObject.nullable(),
  interrupts: z.record(z.string(), z.array(interrupt)),
  config: jsonObject,
  error: z.unknown(),
  extracted: jsonObject.optional(),
});

const checkpointResponse = z.object({
  thread_id: uuid,
  checkpoint_ns: z.string(),
  checkpoint_id: uuid,
  checkpoint_map: jsonObject.nullable(),
});

export const threadStateResponse = z.object({
  values: jsonObject,
  next: z.array(z.string()),
  tasks: z.array(jsonObject),
  checkpoint: checkpointResponse.nullable(),
  parent_checkpoint: checkpointResponse.nullable(),
  metadata: jsonObject,
  created_at: z.string().nullable(),
  interrupts: z.array(interrupt),
});

export const stateUpdateResponse = z.object({ checkpoint: checkpointResponse, configurable: jsonObject });
