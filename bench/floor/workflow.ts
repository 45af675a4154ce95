import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { FloorActivities, FloorMessage, FloorStep } from './activities.js';

// The floor: the same model and tool work as a run of the runtime, as a bare Temporal workflow. No API, no
// database, no thread workflow, no bookkeeping: what a run costs on this dev server with nothing of ours around it.
// The activity options are the runtime's own (workflows/activities.ts), so only the layers differ.

const model = proxyActivities<FloorActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 6 },
});

const tools = proxyActivities<FloorActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/** Model, then each tool call it asks for, until the model answers without tool calls. */
export async function floorWorkflow(input: { script: FloorStep[]; prompt: string }): Promise<string> {
  const messages: FloorMessage[] = [{ type: 'human', content: input.prompt }];
  for (;;) {
    const reply = await model.floorModel({ messages, script: input.script });
    messages.push(reply);
    if (!reply.tool_calls?.length) return reply.content;
    for (const call of reply.tool_calls) messages.push(await tools.floorTool(call));
  }
}
