import type { PackageTool } from '../agent-packages/load.js';
import type { BackendSpec, McpServerSpec, MiddlewareSpec } from '../agent-packages/schema.js';

// The graph registry: graph ids mapped to agent definitions. Every graph runs on the same engine (core/engine.ts),
// so a graph is data: a prompt, tools and defaults. Agent packages (core/agents/) fill it when a process starts:
// the API and every worker load the same AGENTS_DIR, and a package that fails validation is kept out and reported.

export interface SkillInfo {
  name: string;
  description: string;
  /** Where the model reads it with read_file. */
  path: string;
}

export interface SubagentDefinition {
  name: string;
  description: string;
  systemPrompt: string;
  tools: string[];
  model?: string;
  interruptOn?: Record<string, unknown>;
}

export interface AgentDefinition {
  graphId: string;
  description: string;
  /** AGENTS.md, followed by the list of skills (name, description, where to read it). */
  systemPrompt: string;
  /** Every tool the model is offered by default: built-ins named in agent.json, the package's own, the runtime's. */
  tools: string[];
  model?: string;
  interruptOn?: Record<string, unknown>;
  /** Passed to runs as configurable.middleware, in the guardrails format. */
  middleware?: MiddlewareSpec[];
  /** Present when the package uses the filesystem tools. */
  backend?: BackendSpec;
  skills?: SkillInfo[];
  /** Files seeded read-only into the agent's filesystem: AGENTS.md and the skills' files, by absolute path. */
  files?: Record<string, string>;
  subagents?: SubagentDefinition[];
  mcpServers?: Record<string, McpServerSpec>;
  /** The package folder it was loaded from. */
  dir?: string;
}

export interface PackageProblem {
  /** The package folder's name. */
  agent: string;
  error: string;
}

let graphs = new Map<string, AgentDefinition>();
let problems: PackageProblem[] = [];
let tools: PackageTool[] = [];

/** Replaces the registry with what a load of AGENTS_DIR produced. */
export function installGraphs(loaded: { agents: AgentDefinition[]; problems?: PackageProblem[]; tools?: PackageTool[] }): void {
  graphs = new Map(loaded.agents.map((d) => [d.graphId, d]));
  problems = [...(loaded.problems ?? [])];
  tools = [...(loaded.tools ?? [])];
}

/** The graph registered under a name. */
export function findGraph(graphId: string): AgentDefinition | undefined {
  return graphs.get(graphId);
}

export function registeredGraphs(): AgentDefinition[] {
  return [...graphs.values()];
}

/** Packages that did not load, with why. */
export function packageProblems(): PackageProblem[] {
  return problems;
}

/** The packages' own tools (tools/*.ts), which the worker registers next to its built-in ones. */
export function packageTools(): PackageTool[] {
  return tools;
}
