import { z } from 'zod';
import { defineTool } from './types.js';

// The `task` tool's spec, as the model sees it. Its calls never reach this run(): the tools step runs each one as a
// subagent child workflow (workflows/subagent.ts). Which subagents exist is listed in the package's system prompt.
export const task = defineTool({
  name: 'task',
  description:
    'Hand a self-contained task to a subagent, which works on it with its own context and tools and answers with its result. ' +
    'Describe the task fully (the subagent sees nothing else) and name the subagent_type from the list of subagents.',
  schema: z.object({
    description: z.string().min(1).describe('The full task for the subagent'),
    subagent_type: z.string().min(1).describe('Which subagent runs it'),
  }),
  run: () => 'Error: task runs as a subagent child workflow, which this thread predates.',
});
