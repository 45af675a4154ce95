import { END, Node, START } from '../../core/engine.js';

// How a graph presents itself: GET /assistants/{id}/graph and /schemas (and the MCP tools built from assistants).

/** LangChain `Graph.toJSON()` shape for the ReAct engine, as GET /assistants/{id}/graph returns it. */
export function graphJson(graphId: string) {
  const runnable = (name: string) => ({ id: name, type: 'runnable', data: { id: ['langgraph', graphId, name], name } });
  return {
    nodes: [{ id: START, type: 'schema', data: START }, runnable(Node.agent), runnable(Node.tools), { id: END, type: 'schema', data: END }],
    edges: [
      { source: START, target: Node.agent },
      { source: Node.agent, target: Node.tools, conditional: true },
      { source: Node.agent, target: END, conditional: true },
      { source: Node.tools, target: Node.agent },
    ],
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
