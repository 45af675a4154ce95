// The graph registry: graph ids mapped to agent definitions. Every graph runs on the same engine (core/engine.ts),
// so a graph is data: a prompt, tools and defaults.

export interface AgentDefinition {
  graphId: string;
  description: string;
  systemPrompt: string;
  tools: string[];
}

export const graphRegistry: Readonly<Record<string, AgentDefinition>> = {
  agent: {
    graphId: 'agent',
    description: 'A ReAct agent: the model calls tools until it can answer.',
    systemPrompt:
      'You are a helpful assistant. Use the tools when they help. Remember what the user tells you about themselves with save_memory, and look it up with search_memories.',
    tools: ['calculator', 'current_time', 'save_memory', 'search_memories', 'forget_memory'],
  },
};

/** The graph registered under a name; names that only match inherited properties (`constructor`) are not graphs. */
export function findGraph(graphId: string): AgentDefinition | undefined {
  return Object.hasOwn(graphRegistry, graphId) ? graphRegistry[graphId] : undefined;
}
