import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { FailureType } from '../../core/failures.js';
import { aiMessage, type Message } from '../../core/messages.js';
import { defineMiddleware, MiddlewareError, type ModelPrices, type StepContext } from '../../core/middleware/define.js';
import { admitCall, chargeCall, type ScopeCap } from '../../db/spend.js';

// spend_cap (beyond LangChain): money spent on model calls, from each answer's reported token usage and the
// MODEL_PRICES_FILE table, capped per run, per thread and per user per UTC day. The counters live in PostgreSQL,
// shared by all workers: before_model admits a call (and reserves what the dearest call so far cost), after_model
// charges the answer once by its message id. Concurrent runs of one user therefore overspend by at most about
// one call. The run counter is per server run (a resume after an interrupt starts a new one).

const schema = z
  .object({
    runUsd: z.number().positive().optional(),
    threadUsd: z.number().positive().optional(),
    userDailyUsd: z.number().positive().optional(),
    exitBehavior: z.enum(['end', 'error']).default('end'),
  })
  .strict()
  .refine(
    (o) => o.runUsd !== undefined || o.threadUsd !== undefined || o.userDailyUsd !== undefined,
    'set runUsd, threadUsd or userDailyUsd',
  );
type SpendCapOptions = z.infer<typeof schema>;

const scopeNames: Record<string, string> = { run: 'run', thread: 'thread', user: 'user daily' };

/** The counter keys of a call: every scope the run has, capped or not, so a cap set later sees earlier spending. */
export function spendKeys(ctx: StepContext<SpendCapOptions>, day = new Date().toISOString().slice(0, 10)) {
  return {
    run: `run:${ctx.run.runId}`,
    thread: `thread:${ctx.run.threadId}`,
    ...(ctx.userId ? { user: `user:${ctx.userId}:${day}` } : {}),
  };
}

function capsOf(ctx: StepContext<SpendCapOptions>): ScopeCap[] {
  const keys = spendKeys(ctx);
  const o = ctx.options;
  return [
    ...(o.runUsd !== undefined ? [{ key: keys.run, capUsd: o.runUsd }] : []),
    ...(o.threadUsd !== undefined ? [{ key: keys.thread, capUsd: o.threadUsd }] : []),
    ...(o.userDailyUsd !== undefined && keys.user ? [{ key: keys.user, capUsd: o.userDailyUsd }] : []),
  ];
}

/** The price of a model: by the name its answer reports, else by a `provider:name` entry of that name. */
export function priceOf(prices: ModelPrices, model: string): ModelPrices[string] | undefined {
  return prices[model] ?? Object.entries(prices).find(([k]) => k.slice(k.indexOf(':') + 1) === model)?.[1];
}

export function costUsd(prices: ModelPrices, m: Message): { model: string; usd: number; priced: boolean } {
  const model = typeof m.response_metadata.model_name === 'string' ? m.response_metadata.model_name : 'unknown';
  const price = priceOf(prices, model);
  const u = m.usage_metadata;
  if (!price || !u) return { model, usd: 0, priced: false };
  return { model, usd: (u.input_tokens * price.input_per_mtok + u.output_tokens * price.output_per_mtok) / 1e6, priced: true };
}

export const spendCap = defineMiddleware<SpendCapOptions>({
  name: 'spend_cap',
  description: 'Ends (or fails) the run once model calls have cost the run, the thread or the user this day a set sum.',
  options: schema,
  async beforeModel(ctx) {
    const caps = capsOf(ctx);
    if (!caps.length) return undefined; // a user cap without a user id counts nothing
    const refusal = await admitCall(ctx.services.db, ctx.run.runId, caps);
    if (!refusal) return undefined;
    const scope = scopeNames[refusal.key.split(':')[0]!]!;
    const text = `Spend cap reached: ${scope} spending is $${refusal.spentUsd.toFixed(4)} of a $${refusal.capUsd} cap.`;
    ctx.fire({ action: `cap_${ctx.options.exitBehavior}`, detail: { scope, spentUsd: refusal.spentUsd, capUsd: refusal.capUsd } });
    if (ctx.options.exitBehavior === 'error') throw new MiddlewareError(FailureType.spendCap, text);
    return { update: { messages: [aiMessage(text, randomUUID())] }, jumpTo: 'end' };
  },
  async afterModel(ctx) {
    const last = (ctx.state.messages ?? []).at(-1);
    if (last?.type !== 'ai' || !last.id) return undefined;
    const cost = costUsd(ctx.services.modelPrices, last);
    const charged = await chargeCall(ctx.services.db, {
      runId: ctx.run.runId,
      messageId: last.id,
      model: cost.model,
      usd: cost.usd,
      keys: Object.values(spendKeys(ctx)),
    });
    if (charged && !cost.priced) ctx.fire({ action: 'unpriced', messageId: last.id, detail: { model: cost.model } });
    return undefined;
  },
});
