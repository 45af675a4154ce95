import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { END, MessagesAnnotation, START, StateGraph, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { z } from 'zod';
import { evaluate } from '../../activities/tools/calculator.js';
import type { ScriptStep } from '../../core/agent-config.js';

// The peer's graph for `npm run bench -- compare`: the ReAct shape of the runtime's agent (model, then tools while
// the model calls any), with a deterministic stand-in model that plays `configurable.script` by the same rule as the
// runtime's scripted model: step i answers the turn that sees i AI messages.

const calculator = tool(({ expression }) => String(evaluate(expression)), {
  name: 'calculator',
  description: 'Evaluate an arithmetic expression.',
  schema: z.object({ expression: z.string() }),
});

function agent(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig): { messages: BaseMessage[] } {
  const script = (config.configurable?.script ?? []) as ScriptStep[];
  const turn = state.messages.filter((m) => AIMessage.isInstance(m)).length;
  const step = script[turn] ?? { content: '' };
  const toolCalls = (step.tool_calls ?? []).map((c, i) => ({
    id: `call_${turn}_${i}`,
    name: c.name,
    args: c.args ?? {},
    type: 'tool_call' as const,
  }));
  return { messages: [new AIMessage({ content: step.content ?? '', tool_calls: toolCalls })] };
}

const next = (state: typeof MessagesAnnotation.State) => {
  const last = state.messages.at(-1);
  return last && AIMessage.isInstance(last) && last.tool_calls?.length ? 'tools' : END;
};

export const graph = new StateGraph(MessagesAnnotation)
  .addNode('agent', agent)
  .addNode('tools', new ToolNode([calculator]))
  .addEdge(START, 'agent')
  .addConditionalEdges('agent', next, ['tools', END])
  .addEdge('tools', 'agent')
  .compile();
