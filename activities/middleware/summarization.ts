import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { humanMessage, messageText, REMOVE_ALL_MESSAGES, type Message } from '../../core/messages.js';
import { defineMiddleware } from '../../core/middleware/define.js';

// LangChain's SummarizationMiddleware as a before_model step: once the history passes a token or message
// threshold, the older messages are replaced by one summary message from a model, keeping the last ones and never
// separating an AI message's tool calls from their results. The step is a checkpoint, so the replaced messages
// stay readable (and resumable) in the checkpoints before it; the model call runs in the hook activity.

const defaultPrompt = [
  'Summarize the conversation below for a continuation of it: keep the goals, decisions, facts learned and open',
  'questions, and drop the chatter. Answer with the summary alone.',
  '',
  '{messages}',
].join('\n');

const summarizationSchema = z
  .object({
    model: z.string().min(1).describe('`provider:model` that writes the summary'),
    trigger: z
      .object({ tokens: z.number().int().min(1).optional(), messages: z.number().int().min(1).optional() })
      .strict()
      .refine((t) => t.tokens !== undefined || t.messages !== undefined, 'set tokens or messages')
      .default({ tokens: 4000 })
      .describe('Summarize once the history has more than this many tokens (4 characters each) or messages'),
    keep: z
      .object({ messages: z.number().int().min(0) })
      .strict()
      .default({ messages: 20 }),
    summaryPrompt: z.string().min(1).default(defaultPrompt).describe('{messages} is filled in with the older messages'),
    summaryPrefix: z.string().default('Here is a summary of the conversation to date:\n\n'),
  })
  .strict();
type SummarizationOptions = z.infer<typeof summarizationSchema>;

const tokens = (messages: Message[]) =>
  Math.ceil(messages.reduce((n, m) => n + messageText(m.content).length + JSON.stringify(m.tool_calls ?? []).length, 0) / 4);

/** Where the kept tail starts: the last `keep` messages, moved back so no tool result loses its AI tool call. */
export function summaryCut(messages: Message[], keep: number): number {
  let cut = Math.max(messages.length - keep, 0);
  while (cut > 0 && messages[cut]?.type === 'tool') cut--;
  return cut;
}

const transcript = (messages: Message[]) =>
  messages
    .map((m) => {
      const calls = m.tool_calls?.length ? ` [calls: ${m.tool_calls.map((c) => `${c.name}(${JSON.stringify(c.args)})`).join(', ')}]` : '';
      return `${m.type}: ${messageText(m.content)}${calls}`;
    })
    .join('\n');

export const summarization = defineMiddleware<SummarizationOptions>({
  name: 'summarization',
  description: 'Replaces older messages with a model-written summary once the history passes a threshold.',
  options: summarizationSchema,
  async beforeModel(ctx) {
    const messages = ctx.state.messages ?? [];
    const { trigger, keep } = ctx.options;
    const over =
      (trigger.messages !== undefined && messages.length > trigger.messages) ||
      (trigger.tokens !== undefined && tokens(messages) > trigger.tokens);
    const cut = over ? summaryCut(messages, keep.messages) : 0;
    if (cut === 0) return undefined;
    const older = messages.slice(0, cut);
    const prompt = ctx.options.summaryPrompt.replace('{messages}', transcript(older));
    const summary = await ctx.callModel(ctx.options.model, { system: '', messages: [humanMessage(prompt, randomUUID())] });
    const summaryMessage = humanMessage(`${ctx.options.summaryPrefix}${summary}`, randomUUID());
    ctx.fire({ action: 'summarized', messageId: summaryMessage.id, detail: { replaced: older.length, kept: messages.length - cut } });
    const removeAll: Message = { type: 'remove', id: REMOVE_ALL_MESSAGES, content: '', additional_kwargs: {}, response_metadata: {} };
    return { update: { messages: [removeAll, summaryMessage, ...messages.slice(cut)] } };
  },
});
