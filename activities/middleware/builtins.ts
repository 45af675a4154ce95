import { FailureType } from '../../core/failures.js';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { aiMessage, pendingToolCalls, toolMessage, type Message } from '../../core/messages.js';
import { Hook } from '../../core/middleware/spec.js';
import { defineMiddleware, MiddlewareError, type MiddlewareDefinition, type StepContext } from '../../core/middleware/define.js';
import { modelFallback, modelRetry } from './model-calls.js';
import { contextEditing, dynamicSystemPrompt } from './requests.js';
import { todoList } from './todo-list.js';
import { moderation } from './moderation.js';
import { summarization } from './summarization.js';
import { spendCap } from './spend-cap.js';
import { toolRetry } from './tool-retry.js';
import { piiOptionsSchema, redactMessage, redactText, type PiiOptions } from './pii.js';

// The built-in middleware that are pure policies: PII, call limits and human review. Same names and options as
// LangChain's (reference §4.2); limits are counted as §4.3 describes, in state channels that checkpoints keep.

export const pii = defineMiddleware<PiiOptions>({
  name: 'pii',
  description: 'Detects PII in input, output and tool results, and redacts, masks, hashes or blocks it.',
  options: piiOptionsSchema,
  activeHooks: (o) => [
    ...(o.applyToInput ? [Hook.beforeModel] : []),
    ...(o.applyToOutput ? [Hook.wrapModelCall] : []),
    ...(o.applyToToolResults ? [Hook.wrapToolCall] : []),
  ],
  buffersOutput: (o) => o.applyToOutput,
  filterInput(messages, ctx) {
    if (!ctx.options.applyToInput) return messages;
    return messages.map((m) => (m.type === 'human' ? redactOne(ctx, m, 'input') : m));
  },
  // Input that reached state another way (a state update, a fork) is redacted before the model sees it.
  beforeModel(ctx) {
    const changed = (ctx.state.messages ?? []).flatMap((m) => {
      if (m.type !== 'human') return [];
      const r = redactOne(ctx, m, 'input');
      return r === m ? [] : [r];
    });
    return changed.length ? { update: { messages: changed } } : undefined;
  },
  async wrapModelCall(req, handler, ctx) {
    const res = await handler(req);
    const probe = redactMessage(ctx.options, { ...aiMessage(res.content, 'response', res.toolCalls) });
    if (!probe) return res;
    ctx.fire({ action: ctx.options.strategy, detail: { piiType: ctx.options.piiType, applied_to: 'output' } });
    return { ...res, content: probe.content, toolCalls: probe.tool_calls ?? [] };
  },
  async wrapToolCall(req, handler, ctx) {
    const res = await handler(req);
    const r = redactText(ctx.options, res.content);
    if (!r.count) return res;
    ctx.fire({
      action: ctx.options.strategy,
      detail: { piiType: ctx.options.piiType, applied_to: 'tool_result', tool_call_id: req.call.id },
    });
    return { ...res, content: r.text };
  },
});

function redactOne(ctx: { options: PiiOptions; fire: StepContext<PiiOptions>['fire'] }, m: Message, where: string): Message {
  const r = redactMessage(ctx.options, m);
  if (!r) return m;
  ctx.fire({ action: ctx.options.strategy, messageId: m.id, detail: { piiType: ctx.options.piiType, applied_to: where } });
  return r;
}

const limitOptions = {
  threadLimit: z.number().int().min(0).optional(),
  runLimit: z.number().int().min(0).optional(),
};

const modelLimitSchema = z
  .object({ ...limitOptions, exitBehavior: z.enum(['end', 'error']).default('end') })
  .strict()
  .refine((o) => o.threadLimit !== undefined || o.runLimit !== undefined, 'set threadLimit or runLimit');
type ModelLimitOptions = z.infer<typeof modelLimitSchema>;

const count = (v: unknown) => (typeof v === 'number' ? v : 0);

export const modelCallLimit = defineMiddleware<ModelLimitOptions>({
  name: 'model_call_limit',
  description: 'Ends the run (or fails it) once the thread or the run has made this many model calls.',
  options: modelLimitSchema,
  beforeModel(ctx) {
    const thread = count(ctx.state.threadModelCallCount);
    const run = count(ctx.state.runModelCallCount);
    const { threadLimit, runLimit } = ctx.options;
    const over = [
      ...(threadLimit !== undefined && thread >= threadLimit ? [`thread limit (${thread}/${threadLimit} calls)`] : []),
      ...(runLimit !== undefined && run >= runLimit ? [`run limit (${run}/${runLimit} calls)`] : []),
    ];
    if (!over.length) return undefined;
    const text = `Model call limits exceeded: ${over.join(', ')}`;
    ctx.fire({ action: `limit_${ctx.options.exitBehavior}`, detail: { threadCount: thread, runCount: run, threadLimit, runLimit } });
    if (ctx.options.exitBehavior === 'error') throw new MiddlewareError(FailureType.modelCallLimit, text);
    return { update: { messages: [aiMessage(text, randomUUID())] }, jumpTo: 'end' };
  },
  afterModel: (ctx) => ({
    update: { threadModelCallCount: count(ctx.state.threadModelCallCount) + 1, runModelCallCount: count(ctx.state.runModelCallCount) + 1 },
  }),
  afterAgent: (ctx) => (count(ctx.state.runModelCallCount) ? { update: { runModelCallCount: 0 } } : undefined),
});

const toolLimitSchema = z
  .object({
    ...limitOptions,
    toolName: z.string().min(1).optional(),
    exitBehavior: z.enum(['continue', 'error', 'end']).default('continue'),
  })
  .strict()
  .refine((o) => o.threadLimit !== undefined || o.runLimit !== undefined, 'set threadLimit or runLimit')
  .refine(
    (o) => o.threadLimit === undefined || o.runLimit === undefined || o.runLimit <= o.threadLimit,
    'runLimit must not exceed threadLimit',
  );
type ToolLimitOptions = z.infer<typeof toolLimitSchema>;

const counts = (v: unknown): Record<string, number> => (v && typeof v === 'object' ? { ...(v as Record<string, number>) } : {});

export const toolCallLimit = defineMiddleware<ToolLimitOptions>({
  name: 'tool_call_limit',
  description: 'Blocks tool calls past a thread or run limit: the model is told (continue), the run ends, or it fails.',
  options: toolLimitSchema,
  afterModel(ctx) {
    const o = ctx.options;
    const key = o.toolName ?? '__all__';
    const threadCounts = counts(ctx.state.threadToolCallCount);
    const runCounts = counts(ctx.state.runToolCallCount);
    const pending = pendingToolCalls(ctx.state.messages ?? []);
    const blocked = pending.filter((call) => {
      if (o.toolName && call.name !== o.toolName) return false;
      const t = threadCounts[key] ?? 0;
      const r = runCounts[key] ?? 0;
      runCounts[key] = r + 1; // blocked calls count toward the run, not the thread (§4.3)
      if ((o.threadLimit !== undefined && t + 1 > o.threadLimit) || (o.runLimit !== undefined && r + 1 > o.runLimit)) return true;
      threadCounts[key] = t + 1;
      return false;
    });
    const update: Record<string, unknown> = { threadToolCallCount: threadCounts, runToolCallCount: runCounts };
    if (!blocked.length) return { update };
    const name = o.toolName ?? 'tools';
    const text = `Tool call limit exceeded. Do not call '${name}' again.`;
    ctx.fire({ action: `limit_${o.exitBehavior}`, detail: { tool: name, blocked: blocked.map((c) => c.id) } });
    if (o.exitBehavior === 'error') throw new MiddlewareError(FailureType.toolCallLimit, `${text} (${blocked.length} call(s) blocked)`);
    const answered = o.exitBehavior === 'end' ? pending : blocked;
    const results = answered.map((c) =>
      toolMessage(blocked.includes(c) ? text : 'Not run: the run ended.', c.id, c.name, randomUUID(), 'error'),
    );
    if (o.exitBehavior === 'end') return { update: { ...update, messages: [...results, aiMessage(text, randomUUID())] }, jumpTo: 'end' };
    return { update: { ...update, messages: results } };
  },
  afterAgent(ctx) {
    const key = ctx.options.toolName ?? '__all__';
    const runCounts = counts(ctx.state.runToolCallCount);
    if (!runCounts[key]) return undefined;
    return { update: { runToolCallCount: { ...runCounts, [key]: 0 } } };
  },
});

/**
 * LangChain's human-in-the-loop middleware. Its reviews are the tools step's: the API folds `interruptOn` into
 * the run's interrupt_on, so `{name: 'human_in_the_loop'}` and `configurable.interrupt_on` behave the same.
 */
export const interruptOnSchema = z.record(
  z.string(),
  z.union([
    z.boolean(),
    z
      .object({
        allowedDecisions: z
          .array(z.enum(['approve', 'edit', 'reject', 'respond']))
          .min(1)
          .optional(),
        description: z.string().optional(),
      })
      .strict(),
  ]),
);
export const humanInTheLoop = defineMiddleware<{ interruptOn: z.infer<typeof interruptOnSchema> }>({
  name: 'human_in_the_loop',
  description: 'Pauses before the listed tools run, for a person to approve, edit, reject or answer each call.',
  options: z.object({ interruptOn: interruptOnSchema, descriptionPrefix: z.string().optional() }).strict(),
});

export const builtinMiddleware: MiddlewareDefinition[] = [
  pii,
  modelCallLimit,
  toolCallLimit,
  humanInTheLoop,
  modelRetry,
  toolRetry,
  modelFallback,
  contextEditing,
  dynamicSystemPrompt,
  todoList,
  moderation,
  summarization,
  spendCap,
];
