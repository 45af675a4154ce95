import { z } from 'zod';
import { defineMiddleware } from '../../core/middleware/define.js';
import { writeTodos } from '../tools/fs/tools.js';

// LangChain's TodoListMiddleware (opt-in): offers the runtime's own `write_todos` tool (the one agent packages use;
// it writes the `todos` state channel, so the list is checkpointed and follows forks) to any assistant, with
// guidance on when to use it appended to the system prompt. Request-only: nothing is stored by the wrapper.

const defaultPrompt = [
  '## `write_todos`',
  'You have access to the `write_todos` tool to help you manage and plan complex objectives.',
  'Use it for tasks of three or more steps: write the plan first, mark an item in_progress before starting it and',
  'completed as soon as it is done, and keep the list current as you learn more. Skip it for simple requests.',
].join('\n');

const todoListSchema = z
  .object({
    systemPrompt: z.string().min(1).default(defaultPrompt).describe('Guidance appended to the system prompt'),
    toolDescription: z.string().min(1).optional().describe("Replaces write_todos's description for the model"),
  })
  .strict();
type TodoListOptions = z.infer<typeof todoListSchema>;

const { $schema: _ignored, ...parameters } = z.toJSONSchema(writeTodos.schema) as Record<string, unknown>;

export const todoList = defineMiddleware<TodoListOptions>({
  name: 'todo_list',
  description: 'Gives the model a write_todos tool (a checkpointed `todos` list) and prompts it to plan with it.',
  options: todoListSchema,
  wrapModelCall(req, handler, ctx) {
    const spec = { name: writeTodos.name, description: ctx.options.toolDescription ?? writeTodos.description, parameters };
    const tools = [...req.tools.filter((t) => t.name !== writeTodos.name), spec];
    const system = req.system ? `${req.system}\n\n${ctx.options.systemPrompt}` : ctx.options.systemPrompt;
    return handler({ ...req, tools, system });
  },
});
