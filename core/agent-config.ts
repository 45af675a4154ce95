import type { MiddlewareRef } from './middleware/spec.js';
import type { AgentDefinition } from './graphs.js';
import { isRecord } from './messages.js';
import { allDecisions, type ReviewConfig, type ReviewDecisionType } from './review.js';

// The settings of one run of an agent, and the parsers both the API (when it creates a run) and the model
// activity (when it reads a run's prompt and script back) share.

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
  /** Guardrail middleware, operator policies first (absent in runs admitted before middleware existed). */
  middleware?: MiddlewareRef[];
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

/** Tool names are user-chosen keys: entries are built with fromEntries, so `__proto__` stays an own key. */
export function parseInterruptOn(raw: unknown): Record<string, ReviewConfig> {
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

/**
 * The system prompt and script of a run, read back from its kwargs (config and context as the API merged them),
 * the same way resolveAgentConfig read them when the run was created.
 */
export function promptAndScript(
  graph: Pick<AgentDefinition, 'systemPrompt'>,
  kwargs: { config?: unknown; context?: unknown },
): Pick<AgentConfig, 'systemPrompt' | 'script'> {
  const configurable = isRecord(kwargs.config) && isRecord(kwargs.config.configurable) ? kwargs.config.configurable : {};
  const settings = { ...configurable, ...(isRecord(kwargs.context) ? kwargs.context : {}) };
  const systemPrompt = typeof settings.system_prompt === 'string' ? settings.system_prompt : graph.systemPrompt;
  return settings.script === undefined ? { systemPrompt } : { systemPrompt, script: parseScript(settings.script) };
}

export function parseScript(raw: unknown): ScriptStep[] {
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
