import { z } from 'zod';
import { jsonObject, limit, offset, queryArray, queryBool, uuid } from '../schemas.js';

/**
 * Every run stream mode the current SDKs list (a test compares this with the JS and Python SDKs). `lifecycle`
 * reports subgraphs starting and ending; the ReAct graph has no subgraphs, so that mode is accepted and quiet.
 */
export const streamModes = [
  'values',
  'updates',
  'messages-tuple',
  'messages',
  'custom',
  'events',
  'debug',
  'tasks',
  'checkpoints',
  'tools',
  'lifecycle',
] as const;
const supported = `supported: ${streamModes.join(', ')}`;
export const streamMode = z.enum(streamModes, { error: (issue) => `Unknown stream mode ${JSON.stringify(issue.input)}; ${supported}` });
const unknownModes = (issue: { input?: unknown }) => `Unknown stream mode in ${JSON.stringify(issue.input)}; ${supported}`;
export const multitaskStrategy = z.enum(['reject', 'enqueue', 'interrupt', 'rollback']);
export const runStatus = z.enum(['pending', 'running', 'error', 'success', 'timeout', 'interrupted']);

const breakpoints = z.union([z.literal('*'), z.array(z.string())]);
const send = z.object({ node: z.string(), input: z.unknown().optional() });

export const checkpointRef = z.object({
  thread_id: z.string().optional(),
  checkpoint_ns: z.string().optional(),
  checkpoint_id: uuid.nullable().optional(),
  checkpoint_map: jsonObject.nullable().optional(),
});

export const runCommand = z.object({
  resume: z.unknown().optional(),
  update: z
    .union([jsonObject, z.array(z.tuple([z.string(), z.unknown()]))])
    .nullable()
    .optional(),
  goto: z
    .union([z.string(), send, z.array(z.union([z.string(), send]))])
    .nullable()
    .optional(),
});

export const runConfig = z
  .object({
    tags: z.array(z.string()).optional(),
    recursion_limit: z.number().int().positive().optional(),
    configurable: jsonObject.optional(),
  })
  .passthrough();

export const runCreate = z.object({
  assistant_id: z.string().min(1),
  input: z
    .union([jsonObject, z.array(z.unknown())])
    .nullable()
    .optional(),
  command: runCommand.nullable().optional(),
  config: runConfig.nullable().optional(),
  context: jsonObject.nullable().optional(),
  metadata: jsonObject.nullable().optional(),
  stream_mode: z
    .union([streamMode, z.array(streamMode)], { error: unknownModes })
    .nullable()
    .optional(),
  stream_subgraphs: z.boolean().nullable().optional(),
  stream_resumable: z.boolean().nullable().optional(),
  feedback_keys: z.array(z.string()).nullable().optional(),
  interrupt_before: breakpoints.nullable().optional(),
  interrupt_after: breakpoints.nullable().optional(),
  checkpoint: checkpointRef.nullable().optional(),
  checkpoint_id: uuid.nullable().optional(),
  webhook: z
    .url({ protocol: /^https?$/, error: 'webhook must be an absolute http(s) URL' })
    .max(2048)
    .nullable()
    .optional(),
  multitask_strategy: multitaskStrategy.nullable().optional(),
  on_completion: z.enum(['delete', 'keep']).nullable().optional(),
  on_disconnect: z.enum(['cancel', 'continue']).nullable().optional(),
  after_seconds: z.number().min(0).max(31_536_000).nullable().optional(),
  if_not_exists: z.enum(['create', 'reject']).nullable().optional(),
  checkpoint_during: z.boolean().nullable().optional(),
  durability: z.enum(['sync', 'async', 'exit']).nullable().optional(),
  langsmith_tracer: z.object({ project_name: z.string().optional(), example_id: z.string().optional() }).nullable().optional(),
  strict_resume: z.boolean().nullable().optional(),
});
export type RunCreate = z.infer<typeof runCreate>;

export const runResponse = z.object({
  run_id: uuid,
  thread_id: uuid,
  assistant_id: uuid,
  created_at: z.string(),
  updated_at: z.string(),
  status: runStatus,
  metadata: jsonObject,
  kwargs: jsonObject,
  multitask_strategy: multitaskStrategy,
});

export const threadParams = z.object({ thread_id: uuid });
export const runParams = z.object({ thread_id: uuid, run_id: uuid });
export const statelessRunParams = z.object({ run_id: uuid });

export const listRunsQuery = z.object({
  limit: limit(1000, 10),
  offset,
  status: runStatus.optional(),
  select: queryArray(z.string()),
});

export const cancelQuery = z.object({
  wait: queryBool,
  action: z.enum(['interrupt', 'rollback']).default('interrupt'),
});

export const joinQuery = z.object({ cancel_on_disconnect: queryBool });

export const joinStreamQuery = z.object({
  cancel_on_disconnect: queryBool,
  stream_mode: queryArray(streamMode),
});

/** An empty body would select every run on the server, so one of the three must name the runs. */
export const cancelManyBody = z
  .object({
    thread_id: uuid.optional(),
    run_ids: z.array(uuid).optional(),
    status: z.enum(['pending', 'running', 'all']).optional(),
  })
  .refine((b) => b.thread_id !== undefined || b.run_ids !== undefined || b.status !== undefined, {
    message: 'Name the runs to cancel with thread_id, run_ids or status; an empty selection would cancel every run.',
  });

export const threadStreamModes = ['run_modes', 'lifecycle', 'state_update'] as const;
const threadStreamMode = z.enum(threadStreamModes);
/** The JS SDK sends stream_mode; the platform's OpenAPI names it stream_modes. */
export const threadStreamQuery = z.object({ stream_mode: queryArray(threadStreamMode), stream_modes: queryArray(threadStreamMode) });
