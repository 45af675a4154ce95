import { z } from 'zod';
import { defineTool } from '../../activities/tools/types.js';

// Tools that tests register on their worker, next to the built-in ones, through the same interface users use.

/** Streams two `custom` events, then answers. */
export const reportProgress = defineTool({
  name: 'report_progress',
  description: 'Reports progress while working on a task.',
  schema: z.object({ task: z.string() }),
  async run({ task }, ctx) {
    await ctx.emit({ task, progress: 0.5 });
    await ctx.emit({ task, progress: 1 });
    return `finished ${task}`;
  },
});

/** Runs until cancelled, checking its abort signal: shows that cancellation reaches a running tool. */
export const slowTool = defineTool({
  name: 'slow_tool',
  description: 'Takes a long time.',
  schema: z.object({ seconds: z.number() }),
  async run({ seconds }, ctx) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, seconds * 1000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('cancelled'));
      });
    });
    return `slept ${seconds}s`;
  },
});

/** Always fails: the model gets the error as the tool result. */
export const brokenTool = defineTool({
  name: 'broken_tool',
  description: 'Always fails.',
  schema: z.object({}),
  attempts: 2,
  run() {
    throw new Error('the service behind this tool is down');
  },
});

/** Fails the whole run. */
export const fatalTool = defineTool({
  name: 'fatal_tool',
  description: 'Fails fatally.',
  schema: z.object({}),
  fatal: true,
  run() {
    throw new Error('unrecoverable');
  },
});

export const testTools = [reportProgress, slowTool, brokenTool, fatalTool];
