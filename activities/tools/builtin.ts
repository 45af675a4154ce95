import { createHash } from 'node:crypto';
import { z } from 'zod';
import { evaluate } from './calculator.js';
import { memoryTools } from './memory.js';
import { defineTool, type ToolDefinition } from './types.js';

// The demo tools every graph can use. Users add their own next to these in the worker.

export const calculator = defineTool({
  name: 'calculator',
  description: 'Evaluate an arithmetic expression, for example "(2 + 3) * sqrt(16)".',
  schema: z.object({ expression: z.string().describe('The expression to evaluate') }),
  run: ({ expression }) => String(evaluate(expression)),
});

export const currentTime = defineTool({
  name: 'current_time',
  description: 'The current date and time, optionally in an IANA time zone such as Europe/Paris.',
  schema: z.object({ timezone: z.string().optional().describe('IANA time zone, default UTC') }),
  run: ({ timezone }) => {
    const tz = timezone ?? 'UTC';
    const text = new Intl.DateTimeFormat('en-CA', { timeZone: tz, dateStyle: 'full', timeStyle: 'long' }).format(new Date());
    return `${text} (${tz})`;
  },
});

/**
 * A tool with a side effect that honours its idempotency key: the ticket is named by the key, so running the call
 * again (after a crash between the effect and its record) finds the same ticket instead of opening a second one.
 */
export const createTicket = defineTool({
  name: 'create_ticket',
  description: 'Open a support ticket with a title and a priority.',
  schema: z.object({ title: z.string().min(1), priority: z.enum(['low', 'normal', 'high']).default('normal') }),
  sideEffects: true,
  run: ({ title, priority }, ctx) => ({ ticket_id: ticketId(ctx.idempotencyKey), title, priority, status: 'open' }),
});

const ticketId = (key: string) => `T-${createHash('sha256').update(key).digest('hex').slice(0, 10)}`;

/** Pauses the thread until a person answers: the dynamic-interrupt example. */
export const askHuman = defineTool({
  name: 'ask_human',
  description: 'Ask the human a question and wait for the answer.',
  schema: z.object({ question: z.string().min(1) }),
  run: ({ question }, ctx) => {
    const answer = ctx.interrupt<unknown>({ question });
    return typeof answer === 'string' ? answer : JSON.stringify(answer);
  },
});

export const builtinTools: ToolDefinition[] = [calculator, currentTime, createTicket, askHuman, ...memoryTools];

/** Names a package's own tools may not take. */
export const builtinToolNames = () => builtinTools.map((t) => t.name);
