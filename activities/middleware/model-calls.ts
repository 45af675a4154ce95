import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineMiddleware } from '../../core/middleware/define.js';

// Built-ins that wrap the model call inside its activity: retries with backoff and jitter, and fallback models.
// They run again when Temporal retries the activity itself (a crash, a timeout): see the README's retry layers.

/** The backoff options model_retry and tool_retry share (LangChain's names and defaults). */
export const backoffOptions = {
  maxRetries: z.number().int().min(0).max(20).default(2),
  backoffFactor: z.number().min(1).default(2),
  initialDelayMs: z.number().int().min(0).default(1000),
  maxDelayMs: z.number().int().min(0).default(60_000),
  jitter: z.boolean().default(true),
};
export type Backoff = { [K in keyof typeof backoffOptions]: z.infer<(typeof backoffOptions)[K]> };

const retrySchema = z.object({ ...backoffOptions, onFailure: z.enum(['continue', 'error']).default('continue') }).strict();
type RetryOptions = z.infer<typeof retrySchema>;

/** The delay before retry `n` (0-based): exponential, capped, ±25% jitter as LangChain's. */
export function retryDelay(o: Backoff, n: number, random = Math.random): number {
  const base = Math.min(o.initialDelayMs * o.backoffFactor ** n, o.maxDelayMs);
  return o.jitter ? Math.max(0, base * (0.75 + random() * 0.5)) : base;
}

export const modelRetry = defineMiddleware<RetryOptions>({
  name: 'model_retry',
  description: 'Retries a failed model call with exponential backoff; then fails the run or answers with the error.',
  options: retrySchema,
  async wrapModelCall(req, handler, ctx) {
    for (let n = 0; ; n++) {
      try {
        return await handler(req);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (n < ctx.options.maxRetries) {
          ctx.fire({ action: 'retry', detail: { attempt: n + 1, error: message } });
          await sleep(retryDelay(ctx.options, n));
          continue;
        }
        if (ctx.options.onFailure === 'error') throw err;
        ctx.fire({ action: 'gave_up', detail: { attempts: n + 1, error: message } });
        return { content: `Model call failed after ${n + 1} attempts: ${message}`, toolCalls: [], responseMetadata: {} };
      }
    }
  },
});

const fallbackSchema = z.object({ models: z.array(z.string().min(1)).min(1) }).strict();

export const modelFallback = defineMiddleware<z.infer<typeof fallbackSchema>>({
  name: 'model_fallback',
  description: 'Tries the listed models in order when the model call fails; the last error fails the run.',
  options: fallbackSchema,
  async wrapModelCall(req, handler, ctx) {
    let last: unknown;
    for (const model of [req.model, ...ctx.options.models]) {
      try {
        const res = await handler({ ...req, model });
        if (model !== req.model) ctx.fire({ action: 'fallback', detail: { from: req.model, to: model } });
        return res;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  },
});
