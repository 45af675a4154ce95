import { z } from 'zod';
import { runCommand, multitaskStrategy } from '../runs/schema.js';
import { jsonObject } from '../schemas.js';

// Wire shapes of the thread-centric streaming protocol ("protocol v2") over HTTP: commands and event-stream
// filters. Per-method params are parsed inside the command handler, so a bad one becomes an `invalid_argument`
// envelope (HTTP 200) that the SDK can read, instead of an HTTP error it cannot.

/** `params` stays unknown here on purpose: only a broken envelope is an HTTP 422. */
export const commandEnvelope = z.object({
  id: z.number().int().nonnegative(),
  method: z.string().min(1),
  params: z.unknown().optional(),
});
export type CommandEnvelope = z.infer<typeof commandEnvelope>;

export const protocolErrorCodes = [
  'invalid_argument',
  'no_such_run',
  'no_such_interrupt',
  'unknown_command',
  'not_supported',
  'unknown_error',
] as const;
export type ProtocolErrorCode = (typeof protocolErrorCodes)[number];

export const commandResponse = z.union([
  z.object({ type: z.literal('success'), id: z.number().int(), result: jsonObject, meta: jsonObject.optional() }),
  z.object({ type: z.literal('error'), id: z.number().int().nullable(), error: z.enum(protocolErrorCodes), message: z.string() }),
]);

const namespace = z.array(z.string());

export const eventStreamRequest = z.object({
  channels: z.array(z.string()),
  namespaces: z.array(namespace).optional(),
  depth: z.number().int().nonnegative().optional(),
  since: z.number().int().nonnegative().optional(),
});
export type EventStreamRequest = z.infer<typeof eventStreamRequest>;

const config = z.record(z.string(), z.unknown()).optional();

export const runStartParams = z.looseObject({
  assistant_id: z.string().min(1),
  input: z.unknown().optional(),
  config,
  metadata: jsonObject.optional(),
  // The SDK sends both spellings: `multitask_strategy` is the protocol's, `multitaskStrategy` older servers read.
  multitask_strategy: multitaskStrategy.optional(),
  multitaskStrategy: multitaskStrategy.optional(),
});

const respondEntry = z.object({ interrupt_id: z.string().min(1), response: z.unknown().optional(), namespace: namespace.optional() });

export const inputRespondParams = z
  .looseObject({
    interrupt_id: z.string().min(1).optional(),
    response: z.unknown().optional(),
    responses: z.array(respondEntry).min(1).optional(),
    namespace: namespace.optional(),
    update: runCommand.shape.update,
    goto: runCommand.shape.goto,
    config,
    metadata: jsonObject.optional(),
    strict_resume: z.boolean().optional(),
  })
  .refine((p) => (p.interrupt_id === undefined) !== (p.responses === undefined), 'give either interrupt_id (with response) or responses');

export const stateGetParams = z.looseObject({ namespace: namespace.optional(), keys: z.array(z.string()).optional() });
