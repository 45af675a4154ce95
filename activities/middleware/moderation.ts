import { FailureType } from '../../core/failures.js';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { z } from 'zod';
import { aiMessage, messageText, type Message } from '../../core/messages.js';
import { Hook } from '../../core/middleware/spec.js';
import { defineMiddleware, MiddlewareError, type HookResult, type StepContext } from '../../core/middleware/define.js';

// LangChain's OpenAIModerationMiddleware: new input and tool results are checked before the model call, the
// model's answer after it. Both checks are step hooks, so the HTTP call runs in the hooks activity and its
// outcome is checkpointed (a retried activity never asks twice once the step is committed). The endpoint is an
// OpenAI-compatible `/moderations` (the SDK takes OPENAI_API_KEY / OPENAI_BASE_URL as the worker's model calls
// do, or `baseUrl`), or a custom HTTP hook answering the same `{results: [{flagged, categories}]}` shape.

const moderationSchema = z
  .object({
    model: z.string().min(1).default('omni-moderation-latest'),
    baseUrl: z.url().optional().describe('An OpenAI-compatible API base (…/v1) to send /moderations to'),
    hookUrl: z.url().optional().describe('A custom hook: POST {input: string[]} → {results: [{flagged, categories}]}'),
    checkInput: z.boolean().default(true),
    checkOutput: z.boolean().default(true),
    checkToolResults: z.boolean().default(false),
    exitBehavior: z.enum(['end', 'error', 'replace']).default('end'),
    violationMessage: z
      .string()
      .min(1)
      .default("I'm sorry, but I can't comply with that request. It was flagged for {categories}.")
      .describe('What replaces flagged content or ends the run; {categories} is filled in'),
  })
  .strict();
type ModerationOptions = z.infer<typeof moderationSchema>;

const verdictSchema = z.object({
  results: z.array(z.object({ flagged: z.boolean(), categories: z.record(z.string(), z.boolean().nullable()).default({}) })),
});
type Verdict = z.infer<typeof verdictSchema>['results'][number];

async function moderate(o: ModerationOptions, input: string[]): Promise<Verdict[]> {
  if (o.hookUrl) {
    const res = await fetch(o.hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input, model: o.model }),
    });
    if (!res.ok) throw new Error(`Moderation hook answered ${res.status}`);
    return verdictSchema.parse(await res.json()).results;
  }
  const client = openaiClient(o.baseUrl);
  const res = await client.moderations.create({ model: o.model, input });
  return verdictSchema.parse(res).results;
}

/**
 * The SDK reads OPENAI_API_KEY (and OPENAI_BASE_URL) as it does for the worker's model calls; an endpoint that
 * needs no key (self-hosted, or a stand-in) works without one rather than failing the run.
 */
function openaiClient(baseUrl: string | undefined): OpenAI {
  const base = baseUrl ? { baseURL: baseUrl } : {};
  try {
    return new OpenAI(base);
  } catch (err) {
    if (!(err instanceof OpenAI.OpenAIError)) throw err;
    return new OpenAI({ ...base, apiKey: 'none' }); // sent as `Bearer none`, which a keyless endpoint ignores
  }
}

/** The trailing messages of one type (the new input, or the tool results the model is about to read). */
function trailing(messages: Message[], type: Message['type']): Message[] {
  const out: Message[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]!.type === type; i--) out.unshift(messages[i]!);
  return out;
}

/** Checks `targets`; on a flag, ends the run, fails it, or replaces the flagged messages' content. */
async function check(ctx: StepContext<ModerationOptions>, targets: Message[], where: string): Promise<HookResult | undefined> {
  const texts = targets.map((m) => messageText(m.content));
  if (!texts.some((t) => t.trim())) return undefined;
  const verdicts = await moderate(ctx.options, texts);
  const flagged = targets.filter((_, i) => verdicts[i]?.flagged);
  if (!flagged.length) return undefined;
  const categories = [...new Set(verdicts.flatMap((v) => (v.flagged ? Object.keys(v.categories).filter((k) => v.categories[k]) : [])))];
  const text = ctx.options.violationMessage.replace('{categories}', categories.join(', ') || 'policy violation');
  for (const m of flagged)
    ctx.fire({ action: `moderation_${ctx.options.exitBehavior}`, messageId: m.id, detail: { applied_to: where, categories } });
  if (ctx.options.exitBehavior === 'error') throw new MiddlewareError(FailureType.moderation, text);
  // Flagged output is replaced in place (same id, no tool calls) under end too: it must not stay in the answer.
  const replaced = flagged.map((m) => (m.type === 'ai' ? { ...aiMessage(text, m.id!) } : { ...m, content: text }));
  if (ctx.options.exitBehavior === 'replace') return { update: { messages: replaced } };
  const ending = where === 'output' ? replaced : [aiMessage(text, randomUUID())];
  return { update: { messages: ending }, jumpTo: 'end' };
}

export const moderation = defineMiddleware<ModerationOptions>({
  name: 'moderation',
  description: 'Checks input, output and tool results with a /moderations endpoint or hook; ends, fails or replaces.',
  options: moderationSchema,
  activeHooks: (o) => [...(o.checkInput || o.checkToolResults ? [Hook.beforeModel] : []), ...(o.checkOutput ? [Hook.afterModel] : [])],
  async beforeModel(ctx) {
    const messages = ctx.state.messages ?? [];
    if (ctx.options.checkInput) {
      const r = await check(ctx, trailing(messages, 'human'), 'input');
      if (r) return r;
    }
    if (ctx.options.checkToolResults) return check(ctx, trailing(messages, 'tool'), 'tool_result');
    return undefined;
  },
  afterModel(ctx) {
    const last = (ctx.state.messages ?? []).at(-1);
    return last?.type === 'ai' ? check(ctx, [last], 'output') : undefined;
  },
});
