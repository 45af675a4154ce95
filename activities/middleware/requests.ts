import { z } from 'zod';
import { defineMiddleware } from '../../core/middleware/define.js';
import { messageText, type Message } from '../../core/messages.js';

// Built-ins that rewrite only the request the model sees (nothing stored changes): clearing old tool results
// (LangChain's ClearToolUsesEdit) and a system prompt built from the run.

const contextEditingSchema = z
  .object({
    trigger: z
      .number()
      .int()
      .min(0)
      .default(100_000)
      .describe('Tokens (estimated at 4 characters each) past which old tool results are cleared'),
    keep: z.number().int().min(0).default(3).describe('The most recent tool results kept'),
    clearToolInputs: z.boolean().default(false),
    excludeTools: z.array(z.string()).default([]),
    placeholder: z.string().default('[cleared]'),
  })
  .strict();
type ContextEditingOptions = z.infer<typeof contextEditingSchema>;

const tokens = (messages: Message[]) =>
  Math.ceil(messages.reduce((n, m) => n + messageText(m.content).length + JSON.stringify(m.tool_calls ?? []).length, 0) / 4);

/** The messages with all but the last `keep` tool results replaced by the placeholder, once past the trigger. */
export function clearToolUses(o: ContextEditingOptions, messages: Message[]): Message[] {
  if (tokens(messages) <= o.trigger) return messages;
  const results = messages.filter((m) => m.type === 'tool' && !o.excludeTools.includes(m.name ?? ''));
  const cleared = new Set(results.slice(0, Math.max(results.length - o.keep, 0)).map((m) => m.tool_call_id));
  if (!cleared.size) return messages;
  return messages.map((m) => {
    if (m.type === 'tool' && cleared.has(m.tool_call_id)) return { ...m, content: o.placeholder };
    if (m.type === 'ai' && o.clearToolInputs && m.tool_calls?.some((c) => cleared.has(c.id)))
      return { ...m, tool_calls: m.tool_calls.map((c) => (cleared.has(c.id) ? { ...c, args: {} } : c)) };
    return m;
  });
}

export const contextEditing = defineMiddleware<ContextEditingOptions>({
  name: 'context_editing',
  description: 'Clears old tool results from what the model sees once the context passes a size (request only).',
  options: contextEditingSchema,
  wrapModelCall: (req, handler, ctx) => handler({ ...req, messages: clearToolUses(ctx.options, req.messages) }),
});

const promptSchema = z
  .object({
    template: z
      .string()
      .min(1)
      .describe('The system prompt; {system_prompt}, {user_id}, {thread_id}, {assistant_id} and {date} are filled in'),
  })
  .strict();

export const dynamicSystemPrompt = defineMiddleware<z.infer<typeof promptSchema>>({
  name: 'dynamic_system_prompt',
  description: "Builds each model call's system prompt from a template and the run.",
  options: promptSchema,
  wrapModelCall(req, handler, ctx) {
    const fill: Record<string, string> = {
      system_prompt: req.system,
      user_id: ctx.userId ?? '',
      thread_id: ctx.run.threadId,
      assistant_id: ctx.run.assistantId,
      date: new Date().toISOString().slice(0, 10),
    };
    const system = ctx.options.template.replace(/\{(\w+)\}/g, (all, key: string) => fill[key] ?? all);
    return handler({ ...req, system });
  },
});
