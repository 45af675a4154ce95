import { isRecord } from '../messages.js';

// Middleware as data: the list a run carries, the hooks each entry has, and the order hooks run in. Pure code,
// imported by the workflow (to know which checkpointed hook steps a run has), the activities and the API.

export const Hook = {
  beforeAgent: 'before_agent',
  beforeModel: 'before_model',
  afterModel: 'after_model',
  afterAgent: 'after_agent',
  wrapModelCall: 'wrap_model_call',
  wrapToolCall: 'wrap_tool_call',
} as const;
export type Hook = (typeof Hook)[keyof typeof Hook];

/** Hooks that are checkpointed steps of their own (LangChain's middleware nodes). */
export const StepHook = {
  beforeAgent: 'before_agent',
  beforeModel: 'before_model',
  afterModel: 'after_model',
  afterAgent: 'after_agent',
} as const;
export type StepHook = (typeof StepHook)[keyof typeof StepHook];
export const stepHooks: readonly StepHook[] = ['before_agent', 'before_model', 'after_model', 'after_agent'];

/** Where a hook may send the graph next (LangChain's JUMP_TO_TARGETS). */
export const JumpTarget = { model: 'model', tools: 'tools', end: 'end' } as const;
export type JumpTarget = (typeof JumpTarget)[keyof typeof JumpTarget];

/** One middleware of a run, resolved by the API: which definition, with what options, and which hooks it has. */
export interface MiddlewareRef {
  /** Unique in the run: names the hook steps (`<id>.before_model`). The definition's name unless configured. */
  id: string;
  /** The definition (a built-in such as `pii`, or one registered with the worker). */
  name: string;
  options: Record<string, unknown>;
  hooks: Hook[];
  /** Set by the server for GUARDRAILS_FILE policies: outermost, and no assistant can remove it. */
  policy?: boolean;
}

/** The node name of a step hook, as in history, `updates` and the assistant's graph. */
export const hookNode = (id: string, hook: StepHook) => `${id}.${hook}`;

/**
 * The middleware whose `hook` runs, in the order it runs: before* first to last, after* last to first
 * (LangChain's order). wrap* hooks nest with the first outermost, which is list order too.
 */
export function inHookOrder(list: readonly MiddlewareRef[] | undefined, hook: Hook): MiddlewareRef[] {
  const having = (list ?? []).filter((m) => m.hooks.includes(hook));
  return hook === Hook.afterModel || hook === Hook.afterAgent ? having.reverse() : having;
}

/** The `{name, options, id?}` entries of `configurable.middleware`, shape-checked (options are checked per definition). */
export interface MiddlewareEntry {
  name: string;
  id?: string;
  options: Record<string, unknown>;
}

export class MiddlewareConfigError extends Error {
  override name = 'MiddlewareConfigError';
}

export function parseMiddlewareEntries(raw: unknown, where = 'configurable.middleware'): MiddlewareEntry[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new MiddlewareConfigError(`${where} must be a list of {name, options}`);
  return raw.map((e, i) => {
    if (typeof e === 'string') return { name: e, options: {} };
    if (!isRecord(e) || typeof e.name !== 'string' || !e.name) throw new MiddlewareConfigError(`${where}[${i}] needs a name`);
    if (e.options !== undefined && !isRecord(e.options)) throw new MiddlewareConfigError(`${where}[${i}].options must be an object`);
    if (e.id !== undefined && (typeof e.id !== 'string' || !/^[A-Za-z0-9_:[\]-]+$/.test(e.id)))
      throw new MiddlewareConfigError(`${where}[${i}].id must be a name of letters, digits, _ - : [ ]`);
    return { name: e.name, ...(typeof e.id === 'string' ? { id: e.id } : {}), options: (e.options as Record<string, unknown>) ?? {} };
  });
}
