import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { FailureType } from '../../core/failures.js';
import { defineMiddleware, MiddlewareError } from '../../core/middleware/define.js';
import { ToolError } from '../tools/types.js';
import { backoffOptions, retryDelay } from './model-calls.js';

// LangChain's ToolRetryMiddleware: runs a failing tool again inside the tool activity's attempt, with backoff and
// jitter, under the same idempotency key (a retry follows a failure, so no effect of the call was recorded yet).
// It retries only the tool's own errors (ToolError): never an interrupt, a cancellation, a fatal tool or another
// middleware's refusal. The layers below it are in the README's "Which layer retries what".

/** LangChain's older names for onFailure (`return_message`, `raise`) are still accepted. */
const onFailureNames = { continue: 'continue', return_message: 'continue', error: 'error', raise: 'error' } as const;

export const toolRetrySchema = z
  .object({
    ...backoffOptions,
    tools: z.array(z.string().min(1)).min(1).optional().describe('The tools it retries, by name (default: every tool)'),
    retryOn: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("The failures it retries: error names (TypeError) or codes (ECONNRESET); default: every error of the tool's own"),
    onFailure: z
      .enum(['continue', 'return_message', 'error', 'raise'])
      .default('continue')
      .transform((v) => onFailureNames[v]),
  })
  .strict();
export type ToolRetryOptions = z.infer<typeof toolRetrySchema>;

/** What retryOn matches: the error's name (its class, for custom errors) and its code, if any. */
export function errorKinds(err: unknown): string[] {
  const out = err instanceof Error ? [err.name, err.constructor.name] : [];
  const code = (err as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string' || typeof code === 'number') out.push(String(code));
  return [...new Set(out)];
}

export function retriesError(o: Pick<ToolRetryOptions, 'retryOn'>, err: ToolError): boolean {
  return !o.retryOn || errorKinds(err.cause).some((k) => o.retryOn!.includes(k));
}

export const toolRetry = defineMiddleware<ToolRetryOptions>({
  name: 'tool_retry',
  description: 'Retries a failing tool with exponential backoff; then reports the error to the model or fails the run.',
  options: toolRetrySchema,
  async wrapToolCall(req, handler, ctx) {
    const o = ctx.options;
    if (o.tools && !o.tools.includes(req.call.name)) return handler(req);
    for (let n = 0; ; n++) {
      try {
        return await handler(req);
      } catch (err) {
        // An error another wrapper already gave up on is reported as it is.
        if (!(err instanceof ToolError) || err.report !== undefined || !retriesError(o, err)) throw err;
        // Details name the error's kind, not its message: they are stored and streamed, and pii only sees results.
        const detail = { tool: req.call.name, tool_call_id: req.call.id, error: errorKinds(err.cause)[0] ?? 'unknown' };
        if (n < o.maxRetries) {
          ctx.fire({ action: 'retry', detail: { ...detail, attempt: n + 1 } });
          await sleep(retryDelay(o, n), undefined, ctx.signal ? { signal: ctx.signal } : {});
          continue;
        }
        const text = `Tool "${req.call.name}" failed after ${n + 1} attempts: ${err.message}`;
        ctx.fire({ action: 'gave_up', detail: { ...detail, attempts: n + 1 } });
        // A tool failure that ends the run is a fatal tool's failure, whichever layer decided it.
        if (o.onFailure === 'error') throw new MiddlewareError(FailureType.fatalTool, text);
        throw new ToolError(err.toolName, err.cause, `Error: ${text}`);
      }
    }
  },
});
