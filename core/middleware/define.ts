import type { Message, MessageContent, ToolCall } from '../messages.js';
import type { RunContext } from '../runs.js';
import type { ChannelWrites, StateValues } from '../state.js';
import type { Db } from '../../db/pool.js';
import { Hook, type JumpTarget } from './spec.js';

// The middleware-definition interface (LangChain v1's createMiddleware, as data plus code): built-ins and users'
// own middleware implement it; register custom ones with the worker (createWorker({ middleware })) and the API
// (createApp deps.middleware), as tools are registered. Every hook runs inside an activity, so hooks may do I/O.

/** What a guardrail did, recorded on the run and streamed on `custom` and `debug`. */
export interface Fired {
  action: string;
  /** The message it touched, if any. */
  messageId?: string;
  detail?: Record<string, unknown>;
}

export interface HookContext<O> {
  id: string;
  options: O;
  run: RunContext;
  /** The user the run acts for (configurable.user_id), if any. */
  userId?: string;
  /** Wrap hooks: aborts when the run is cancelled, so a hook's own waits (a retry's backoff) end with it. */
  signal?: AbortSignal;
  fire(event: Fired): void;
}

/** USD per million tokens, by model name (MODEL_PRICES_FILE). */
export type ModelPrices = Record<string, { input_per_mtok: number; output_per_mtok: number }>;

/** Worker services a step hook may use for durable state outside the thread (spend_cap's counters). */
export interface HookServices {
  db: Db;
  modelPrices: ModelPrices;
}

export interface StepContext<O> extends HookContext<O> {
  /** The thread's state as of this step, middleware state channels included. */
  state: StateValues;
  /** Asks a model (`provider:model`) for a hook's own purpose (a summary); answers its text. Runs in the activity. */
  callModel(model: string, req: { system: string; messages: Message[] }): Promise<string>;
  services: HookServices;
  /**
   * Pauses the thread for a person with a JSON payload, as LangGraph's interrupt(). The first time it throws: what
   * the phase's earlier hooks changed is committed, and the thread waits on this hook's node (`<id>.<hook>`) with a
   * `dynamic` interrupt. A resume runs this hook again, and this call returns the answer. Calls are matched to
   * answers in order: a second call after the first was answered pauses again. Do not catch what it throws.
   */
  interrupt<T = unknown>(value: unknown): T;
}

/** Thrown by a step hook's ctx.interrupt; the hook phase turns it into an interrupt of the thread. */
export class HookInterrupt extends Error {
  override name = 'HookInterrupt';
  constructor(readonly value: unknown) {
    super('a middleware hook interrupted the thread');
  }
}

/** What a step hook returns: channel writes (checkpointed as the step `<id>.<hook>`) and where to go next. */
export interface HookResult {
  update?: ChannelWrites;
  jumpTo?: JumpTarget;
}

export interface ModelCallRequest {
  /** `provider:model` as the agent config names it; a wrapper may swap it (model_fallback). */
  model: string;
  system: string;
  messages: Message[];
  tools: { name: string; description: string; parameters: Record<string, unknown> }[];
}

export interface ModelCallResponse {
  content: MessageContent;
  toolCalls: ToolCall[];
  usage?: { input_tokens: number; output_tokens: number; total_tokens: number };
  responseMetadata: Record<string, unknown>;
}

export interface ToolCallRequest {
  call: ToolCall;
}

export interface ToolCallResult {
  content: string;
  status: 'success' | 'error';
}

type Maybe<T> = T | Promise<T>;

/** What the registry needs of an options schema (zod's safeParse; core code cannot import zod itself). */
export interface OptionsSchema<O> {
  safeParse(
    value: unknown,
  ): { success: true; data: O } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

export interface MiddlewareDefinition<O = Record<string, unknown>> {
  /** Unique; what `configurable.middleware[].name` refers to. */
  name: string;
  description?: string;
  /** Validates options when a run is created (a 422 names the problem); a zod schema fits. */
  options?: OptionsSchema<O>;
  beforeAgent?(ctx: StepContext<O>): Maybe<HookResult | void>;
  beforeModel?(ctx: StepContext<O>): Maybe<HookResult | void>;
  afterModel?(ctx: StepContext<O>): Maybe<HookResult | void>;
  afterAgent?(ctx: StepContext<O>): Maybe<HookResult | void>;
  wrapModelCall?(
    req: ModelCallRequest,
    handler: (req: ModelCallRequest) => Promise<ModelCallResponse>,
    ctx: HookContext<O>,
  ): Promise<ModelCallResponse>;
  wrapToolCall?(
    req: ToolCallRequest,
    handler: (req: ToolCallRequest) => Promise<ToolCallResult>,
    ctx: HookContext<O>,
  ): Promise<ToolCallResult>;
  /** Rewrites a run's input messages before the API stores the request (so nothing is stored unredacted). */
  filterInput?(messages: Message[], ctx: HookContext<O>): Message[];
  /** The hooks these options use (default: every hook defined); a hook that would do nothing costs no step. */
  activeHooks?(options: O): Hook[];
  /** True when wrapModelCall must see the whole response before any token streams (output redaction). */
  buffersOutput?(options: O): boolean;
}

export function defineMiddleware<O>(def: MiddlewareDefinition<O>): MiddlewareDefinition {
  return def as unknown as MiddlewareDefinition;
}

/** Ends the run with an error of this type (exitBehavior `error`, PII `block`). */
export class MiddlewareError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

const hookKeys = [
  ['beforeAgent', Hook.beforeAgent],
  ['beforeModel', Hook.beforeModel],
  ['afterModel', Hook.afterModel],
  ['afterAgent', Hook.afterAgent],
  ['wrapModelCall', Hook.wrapModelCall],
  ['wrapToolCall', Hook.wrapToolCall],
] as const;

/** The hooks a definition implements: the run spec carries them so the workflow knows which steps to take. */
export function hooksOf(def: MiddlewareDefinition, options: Record<string, unknown>): Hook[] {
  const defined = hookKeys.filter(([key]) => typeof def[key] === 'function').map(([, hook]) => hook);
  const active = def.activeHooks?.(options);
  return active ? defined.filter((h) => active.includes(h)) : defined;
}

export type StepHookKey = 'beforeAgent' | 'beforeModel' | 'afterModel' | 'afterAgent';
export const stepHookKey: Record<string, StepHookKey> = {
  before_agent: 'beforeAgent',
  before_model: 'beforeModel',
  after_model: 'afterModel',
  after_agent: 'afterAgent',
};
