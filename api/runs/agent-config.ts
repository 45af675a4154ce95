import {
  AgentConfigError,
  defaultModel,
  parseInterruptOn,
  parseScript,
  type AgentConfig,
  type ServerModelDefaults,
} from '../../core/agent-config.js';
import type { AgentDefinition } from '../../core/graphs.js';

// What a run's merged configurable and context become: the graph's defaults overridden by the caller's settings.

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
    model: str('model') ?? graph.model ?? defaultModel(defaults),
    systemPrompt: str('system_prompt') ?? graph.systemPrompt,
    tools: (tools as string[] | undefined) ?? graph.tools,
    maxSteps: recursionLimit ?? 25,
    interruptOn: parseInterruptOn(settings.interrupt_on ?? graph.interruptOn),
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

/** What a run spec carries of the agent settings: everything but the system prompt and the script. */
export function runAgent(agent: AgentConfig): Omit<AgentConfig, 'systemPrompt' | 'script'> {
  const { systemPrompt: _prompt, script: _script, ...rest } = agent;
  return rest;
}
