import { isRecord } from './messages.js';

// The graph registry: graph ids mapped to agent definitions. Every graph runs on the same engine (a ReAct loop
// with the nodes `agent` and `tools`, as LangGraph's prebuilt agent), so adding a graph is adding an entry here.

export const Node = { agent: 'agent', tools: 'tools' } as const;
export type NodeName = (typeof Node)[keyof typeof Node];
export const START = '__start__';
export const END = '__end__';
export const INPUT = '__input__';
export const nodeNames: readonly string[] = [Node.agent, Node.tools];

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

export const ReviewDecision = { approve: 'approve', edit: 'edit', reject: 'reject', respond: 'respond' } as const;
export type ReviewDecisionType = (typeof ReviewDecision)[keyof typeof ReviewDecision];
export const allDecisions: readonly ReviewDecisionType[] = ['approve', 'edit', 'reject', 'respond'];

export interface ReviewConfig {
  allowedDecisions: ReviewDecisionType[];
  description?: string;
}

export interface ScriptStep {
  content?: string;
  tool_calls?: { name: string; args?: Record<string, unknown>; id?: string }[];
  delay_ms?: number;
  /** Makes this model call fail, to exercise error paths. */
  error?: string;
}

/** The resolved agent settings of one run: graph defaults < assistant < thread < request. */
export interface AgentConfig {
  /** `scripted`, `local`, `local:<file.gguf>`, `openai:<model>` or `anthropic:<model>`. */
  model: string;
  systemPrompt: string;
  tools: string[];
  script?: ScriptStep[];
  temperature?: number;
  maxTokens?: number;
  /** `auto`, `none`, `required` or a tool name: whether the model must call a tool when answering a person. */
  toolChoice?: string;
  /** LangGraph's recursion_limit: the most steps one run may take. */
  maxSteps: number;
  /** Tools whose calls wait for a person, with the decisions allowed for each. */
  interruptOn: Record<string, ReviewConfig>;
  userId?: string;
}

/** The review configured for a tool, looked up as an own property: a tool named `constructor` has none by default. */
export function reviewFor(interruptOn: Record<string, ReviewConfig>, toolName: string): ReviewConfig | undefined {
  return Object.hasOwn(interruptOn, toolName) ? interruptOn[toolName] : undefined;
}

export interface ServerModelDefaults {
  provider: 'scripted' | 'local' | 'openai' | 'anthropic';
  modelName?: string;
}

export function defaultModel(d: ServerModelDefaults): string {
  if (d.provider === 'scripted') return 'scripted';
  // The local model's file comes from the worker's LOCAL_MODEL_PATH (or the default model it installs).
  if (d.provider === 'local') return 'local';
  return `${d.provider}:${d.modelName ?? (d.provider === 'openai' ? 'gpt-4o-mini' : 'claude-sonnet-4-5')}`;
}

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

/** Reads agent settings from merged `configurable` and `context` (context wins, as LangGraph 0.6+ prefers it). */
export function resolveAgentConfig(
  graph: AgentDefinition,
  settings: Record<string, unknown>,
  recursionLimit: number | undefined,
  defaults: ServerModelDefaults,
): AgentConfig {
  const str = (k: string) => (typeof settings[k] === 'string' ? (settings[k] as string) : undefined);
  const num = (k: string) => (typeof settings[k] === 'number' ? (settings[k] as number) : undefined);
  const tools = settings.tools;
  if (tools !== undefined && (!Array.isArray(tools) || tools.some((t) => typeof t !== 'string'))) {
    throw new AgentConfigError('configurable.tools must be a list of tool names');
  }
  const out: AgentConfig = {
    model: str('model') ?? defaultModel(defaults),
    systemPrompt: str('system_prompt') ?? graph.systemPrompt,
    tools: (tools as string[] | undefined) ?? graph.tools,
    maxSteps: recursionLimit ?? 25,
    interruptOn: parseInterruptOn(settings.interrupt_on),
  };
  if (settings.script !== undefined) out.script = parseScript(settings.script);
  const temperature = num('temperature');
  if (temperature !== undefined) out.temperature = temperature;
  const maxTokens = num('max_tokens');
  if (maxTokens !== undefined) out.maxTokens = maxTokens;
  const toolChoice = str('tool_choice');
  if (toolChoice) out.toolChoice = toolChoice;
  // With authentication, the authenticated user (which clients cannot set), not the user_id a client names.
  const userId = str('langgraph_auth_user_id') ?? str('user_id');
  if (userId) out.userId = userId;
  return out;
}

/** Tool names are user-chosen keys: entries are built with fromEntries, so `__proto__` stays an own key. */
function parseInterruptOn(raw: unknown): Record<string, ReviewConfig> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new AgentConfigError('configurable.interrupt_on must map tool names to true or {allowed_decisions}');
  return Object.fromEntries(Object.entries(raw).flatMap(([tool, v]) => (v === false ? [] : [[tool, reviewConfig(tool, v)]])));
}

function reviewConfig(tool: string, v: unknown): ReviewConfig {
  if (v === true) return { allowedDecisions: [...allDecisions] };
  if (!isRecord(v)) throw new AgentConfigError(`configurable.interrupt_on.${tool} must be true or an object`);
  const allowed = v.allowed_decisions ?? allDecisions;
  if (!Array.isArray(allowed) || allowed.length === 0 || allowed.some((d) => !allDecisions.includes(d as ReviewDecisionType))) {
    throw new AgentConfigError(`configurable.interrupt_on.${tool}.allowed_decisions must list some of ${allDecisions.join(', ')}`);
  }
  return {
    allowedDecisions: allowed as ReviewDecisionType[],
    ...(typeof v.description === 'string' ? { description: v.description } : {}),
  };
}

/** What a run spec carries of the agent settings: everything but the system prompt and the script. */
export function runAgent(agent: AgentConfig): Omit<AgentConfig, 'systemPrompt' | 'script'> {
  const { systemPrompt: _prompt, script: _script, ...rest } = agent;
  return rest;
}

/**
 * The system prompt and script of a run, read back from its kwargs (config and context as the API merged them),
 * the same way resolveAgentConfig read them when the run was created.
 */
export function promptAndScript(
  graphId: string,
  kwargs: { config?: unknown; context?: unknown },
): Pick<AgentConfig, 'systemPrompt' | 'script'> {
  const graph = findGraph(graphId);
  if (!graph) throw new AgentConfigError(`Graph "${graphId}" not found`);
  const configurable = isRecord(kwargs.config) && isRecord(kwargs.config.configurable) ? kwargs.config.configurable : {};
  const settings = { ...configurable, ...(isRecord(kwargs.context) ? kwargs.context : {}) };
  const systemPrompt = typeof settings.system_prompt === 'string' ? settings.system_prompt : graph.systemPrompt;
  return settings.script === undefined ? { systemPrompt } : { systemPrompt, script: parseScript(settings.script) };
}

function parseScript(raw: unknown): ScriptStep[] {
  if (!Array.isArray(raw)) throw new AgentConfigError('configurable.script must be a list of AI messages');
  return raw.map((s, i) => {
    if (typeof s === 'string') return { content: s };
    if (!isRecord(s)) throw new AgentConfigError(`configurable.script[${i}] must be an object or a string`);
    const step: ScriptStep = {};
    if (s.content !== undefined) {
      if (typeof s.content !== 'string') throw new AgentConfigError(`configurable.script[${i}].content must be a string`);
      step.content = s.content;
    }
    if (s.tool_calls !== undefined) {
      if (!Array.isArray(s.tool_calls) || s.tool_calls.some((c) => !isRecord(c) || typeof c.name !== 'string')) {
        throw new AgentConfigError(`configurable.script[${i}].tool_calls must be a list of {name, args}`);
      }
      step.tool_calls = s.tool_calls as ScriptStep['tool_calls'];
    }
    if (s.delay_ms !== undefined) {
      if (typeof s.delay_ms !== 'number' || s.delay_ms < 0)
        throw new AgentConfigError(`configurable.script[${i}].delay_ms must be a non-negative number`);
      step.delay_ms = s.delay_ms;
    }
    if (s.error !== undefined) step.error = String(s.error);
    return step;
  });
}

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
