// The one engine every graph runs on: a ReAct loop with the nodes `agent` and `tools`, as LangGraph's prebuilt
// agent. Workflows import these names, so this file stays free of anything a workflow may not load.

export const Node = { agent: 'agent', tools: 'tools' } as const;
export type NodeName = (typeof Node)[keyof typeof Node];
export const START = '__start__';
export const END = '__end__';
export const INPUT = '__input__';
export const nodeNames: readonly string[] = [Node.agent, Node.tools];
