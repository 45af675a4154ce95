import { END, Node, START } from '../../core/engine.js';
import { hookNode, inHookOrder, stepHooks, type MiddlewareRef, type StepHook } from '../../core/middleware/spec.js';

// How a graph presents itself: GET /assistants/{id}/graph and /schemas (and the MCP tools built from assistants).

/**
 * LangChain `Graph.toJSON()` shape for the ReAct engine, as GET /assistants/{id}/graph returns it. Middleware
 * step hooks are nodes of their own, chained as createAgent chains them (before* in order, after* reversed).
 */
export function graphJson(graphId: string, middleware: readonly MiddlewareRef[] = []) {
  const runnable = (name: string) => ({ id: name, type: 'runnable', data: { id: ['langgraph', graphId, name], name } });
  const chain = (hook: StepHook) => inHookOrder(middleware, hook).map((m) => hookNode(m.id, hook));
  const [beforeAgent, beforeModel, afterModel, afterAgent] = stepHooks.map(chain) as [string[], string[], string[], string[]];
  const edges: { source: string; target: string; conditional?: boolean }[] = [];
  const link = (path: string[]) => path.slice(1).forEach((target, i) => edges.push({ source: path[i]!, target }));
  const modelEntry = beforeModel[0] ?? Node.agent;
  const modelExit = afterModel.at(-1) ?? Node.agent;
  link([START, ...beforeAgent, ...beforeModel, Node.agent, ...afterModel]);
  edges.push({ source: modelExit, target: Node.tools, conditional: true });
  edges.push({ source: modelExit, target: afterAgent[0] ?? END, conditional: true });
  link([...afterAgent, END]);
  edges.push({ source: Node.tools, target: modelEntry });
  return {
    nodes: [
      { id: START, type: 'schema', data: START },
      ...[...beforeAgent, ...beforeModel].map(runnable),
      runnable(Node.agent),
      ...afterModel.map(runnable),
      runnable(Node.tools),
      ...afterAgent.map(runnable),
      { id: END, type: 'schema', data: END },
    ],
    edges,
  };
}

const messagesSchema = {
  type: 'array',
  items: { type: 'object', properties: { type: { type: 'string' }, content: {}, id: { type: 'string' } }, required: ['content'] },
};

const configurableSchema = {
  type: 'object',
  properties: {
    model: { type: 'string', description: 'scripted, local, local:<file.gguf>, openai:<model> or anthropic:<model>' },
    system_prompt: { type: 'string' },
    tools: { type: 'array', items: { type: 'string' } },
    interrupt_on: { type: 'object', additionalProperties: {} },
    script: { type: 'array', items: {} },
    temperature: { type: 'number' },
    max_tokens: { type: 'integer' },
    tool_choice: { type: 'string', description: 'auto, none, required or a tool name (local model)' },
    user_id: { type: 'string' },
  },
};

export function graphSchemas(graphId: string) {
  const state = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'AgentState',
    type: 'object',
    properties: { messages: messagesSchema },
  };
  return {
    graph_id: graphId,
    input_schema: { ...state, title: 'AgentInput' },
    output_schema: { ...state, title: 'AgentOutput' },
    state_schema: state,
    config_schema: { $schema: state.$schema, title: 'Configurable', ...configurableSchema },
    context_schema: { $schema: state.$schema, title: 'Context', ...configurableSchema },
  };
}
