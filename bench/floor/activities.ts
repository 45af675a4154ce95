import { createScriptedProvider } from '../../activities/models/scripted.js';
import { evaluate } from '../../activities/tools/calculator.js';
import type { ScriptStep } from '../../core/agent-config.js';
import type { Message } from '../../core/messages.js';

// The floor's activities: the scripted model and the calculator the runtime's activities call, with nothing else.

export type FloorStep = ScriptStep;
export interface FloorCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}
export interface FloorMessage {
  type: 'human' | 'ai' | 'tool';
  content: string;
  tool_calls?: FloorCall[];
}

const scripted = createScriptedProvider();

export const floorActivities = {
  async floorModel(req: { messages: FloorMessage[]; script: FloorStep[] }): Promise<FloorMessage> {
    const messages = req.messages as unknown as Message[];
    const request = { model: 'scripted', system: '', messages, tools: [], script: req.script };
    const result = await scripted.generate(request, () => undefined, new AbortController().signal);
    return {
      type: 'ai',
      content: String(result.content),
      tool_calls: result.toolCalls.map((c) => ({ id: c.id, name: c.name, args: c.args })),
    };
  },
  floorTool(call: FloorCall): Promise<FloorMessage> {
    return Promise.resolve({ type: 'tool', content: String(evaluate(String(call.args.expression))) });
  },
};

export type FloorActivities = typeof floorActivities;
