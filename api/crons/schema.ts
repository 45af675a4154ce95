import { z } from 'zod';
import { cronExpressionError, isKnownTimezone } from '../../core/cron.js';
import { cronSortColumns } from '../../db/crons.js';
import { runCreate } from '../runs/schema.js';
import { jsonObject, limit, offset, sortOrder, uuid } from '../schemas.js';

// Cron routes (reference §2): the run fields a fire submits, plus when it fires. Bad schedules, unknown time zones
// and end times in the past are refused here with the field named, before anything is stored.

export const schedule = z.string().superRefine((value, ctx) => {
  const error = cronExpressionError(value);
  if (error) ctx.addIssue({ code: 'custom', message: `Invalid cron schedule: '${value}' (${error})` });
});

export const timezone = z
  .string()
  .refine(isKnownTimezone, { message: 'Invalid timezone: expected an IANA name such as Europe/Berlin or UTC' })
  .nullable()
  .optional();

export const endTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'end_time must be an ISO 8601 date-time' })
  .refine((s) => Number.isNaN(Date.parse(s)) || Date.parse(s) > Date.now(), { message: 'end_time is in the past' })
  .nullable()
  .optional();

/** What every fire submits as its run, as POST /runs takes it. */
export const cronRunFields = runCreate.pick({
  input: true,
  config: true,
  context: true,
  metadata: true,
  webhook: true,
  interrupt_before: true,
  interrupt_after: true,
  multitask_strategy: true,
  stream_mode: true,
  stream_subgraphs: true,
  stream_resumable: true,
  durability: true,
  checkpoint_during: true,
});
export const runFieldNames = Object.keys(cronRunFields.shape) as (keyof z.infer<typeof cronRunFields>)[];

const onRunCompleted = z.enum(['delete', 'keep']).nullable().optional();

export const cronCreate = cronRunFields.extend({
  assistant_id: z.string().min(1),
  schedule,
  timezone,
  end_time: endTime,
  on_run_completed: onRunCompleted,
  enabled: z.boolean().nullable().optional(),
});
export type CronCreate = z.infer<typeof cronCreate>;

export const cronPatch = cronRunFields
  .omit({ multitask_strategy: true, checkpoint_during: true })
  .extend({
    schedule: schedule.optional(),
    timezone,
    end_time: endTime,
    on_run_completed: onRunCompleted,
    enabled: z.boolean().nullable().optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'No fields to update' });
export type CronPatch = z.infer<typeof cronPatch>;

export const cronSelectFields = [
  'cron_id',
  'assistant_id',
  'thread_id',
  'end_time',
  'schedule',
  'created_at',
  'updated_at',
  'user_id',
  'payload',
  'next_run_date',
  'metadata',
  'now',
  'timezone',
  'enabled',
  'on_run_completed',
] as const;

export const cronSearch = z.object({
  assistant_id: z.string().nullable().optional(),
  thread_id: uuid.nullable().optional(),
  enabled: z.boolean().nullable().optional(),
  metadata: jsonObject.nullable().optional(),
  limit: limit(1000, 10),
  offset,
  sort_by: z.enum(cronSortColumns).nullable().optional(),
  sort_order: sortOrder.nullable().optional(),
  select: z.array(z.enum(cronSelectFields)).nullable().optional(),
});

export const cronCount = cronSearch.pick({ assistant_id: true, thread_id: true, metadata: true });

export const cronParams = z.object({ cron_id: uuid });
export const threadParams = z.object({ thread_id: uuid });

export const cronResponse = z.object({
  cron_id: uuid,
  assistant_id: uuid,
  thread_id: uuid.nullable(),
  on_run_completed: z.enum(['delete', 'keep']).nullable(),
  end_time: z.string().nullable(),
  schedule: z.string(),
  timezone: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  user_id: z.string().nullable(),
  payload: jsonObject,
  next_run_date: z.string().nullable(),
  metadata: jsonObject,
  enabled: z.boolean(),
});
