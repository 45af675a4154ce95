import { defineMiddleware, type StepContext } from '../../core/middleware/define.js';
import type { StepHook } from '../../core/middleware/spec.js';

// A middleware that asks a person from one step hook (ctx.interrupt) and keeps their answers in the state channel
// `answers_<id>`: the hook-interrupt tests and the replay scenario register it with their stack.

export interface AskOptions {
  /** The one hook that asks. */
  at: StepHook;
  /** How many questions it asks in a row, one interrupt each (default 1). */
  questions?: number;
}

function ask(ctx: StepContext<AskOptions>) {
  const key = `answers_${ctx.id}`;
  // Asks once per thread: later turns of the same thread go through.
  if (ctx.state[key] !== undefined) return;
  const answers: unknown[] = [];
  for (let i = 1; i <= (ctx.options.questions ?? 1); i++)
    answers.push(ctx.interrupt({ question: `${ctx.id} asks ${i}`, hook: ctx.options.at }));
  // An answer of "stop" ends the run, as a guardrail that was refused would.
  return { update: { [key]: answers }, ...(answers.includes('stop') ? { jumpTo: 'end' as const } : {}) };
}

export const askPerson = defineMiddleware<AskOptions>({
  name: 'ask_person',
  activeHooks: (o) => [o.at],
  beforeAgent: ask,
  beforeModel: ask,
  afterModel: ask,
  afterAgent: ask,
});
