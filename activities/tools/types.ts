import { z } from 'zod';
import type { ToolAuth } from '../../core/agent-auth.js';
import type { StateValues } from '../../core/state.js';
import type { StoreService } from '../../store/index.js';
import type { ToolSpec } from '../models/types.js';

// The tool-definition interface users extend in the worker: pass more definitions to createWorker({ tools }).

export interface ToolContext {
  /**
   * Stable across retries and resumes, and unique per call: workflow id + the run that asked for the call + the
   * step of that model turn + tool call id. Pass it to the system the tool changes, so a repeated call is a no-op.
   */
  idempotencyKey: string;
  threadId: string;
  runId: string;
  assistantId: string;
  graphId: string;
  toolCallId: string;
  userId?: string;
  /**
   * The thread's state at the step that asked for the call, and writes to it that become part of the step's
   * checkpoint once every call of the step finished (as a LangGraph tool's Command(update=...)). `files` merges
   * per file (null deletes one); any other channel keeps the last value written. One write per channel per call.
   */
  state: { values(): Promise<StateValues>; write(channel: string, value: unknown): Promise<void> };
  /** The long-term store shared across threads (LangGraph's config.store), when the worker has one. */
  store?: StoreService;
  /** Aborts when the run is cancelled (the activity learns of it through heartbeats). */
  signal: AbortSignal;
  /** Streams a `custom` event to clients. */
  emit(data: unknown): Promise<void>;
  /**
   * Pauses the thread with a JSON payload. The first time it throws and the thread becomes interrupted; when
   * a person resumes it, the tool runs again and this call returns their answer.
   */
  interrupt<T = unknown>(value: unknown): T;
  /**
   * For a tool that declares `auth`: the run's user's access token at the provider, valid (refreshed if it had
   * expired) when the call starts. Send it to the provider's API; never return it, log it or put it in an error.
   */
  auth?: ToolAuthContext;
}

export interface ToolAuthContext {
  provider: string;
  token: string;
  scopes: string[];
}

export interface ToolDefinition<A = Record<string, unknown>> {
  name: string;
  description: string;
  schema: z.ZodType<A>;
  /** The parameters as the model sees them, when they come as JSON schema (MCP tools) rather than from `schema`. */
  jsonSchema?: Record<string, unknown>;
  /**
   * The result is recorded in tool_effects under the idempotency key and replayed once recorded. The tool runs at
   * least once: a crash after its effect and before that record runs it again with the same key, so it takes effect
   * exactly once only if it honours the key.
   */
  sideEffects?: boolean;
  /** A failure fails the run instead of being reported to the model. */
  fatal?: boolean;
  /**
   * Activity attempts before a failure is reported to the model (default 3, at most 5). A `tool_retry` middleware
   * retries inside each attempt first; once it gives up, the activity reports its error without another attempt.
   */
  attempts?: number;
  /**
   * Acts at an OAuth provider of AGENT_AUTH_PROVIDERS_FILE on behalf of the run's user. Without a valid token the
   * call interrupts the thread with `{type: "auth_required", provider, auth_url}` and runs once the user authorized.
   */
  auth?: ToolAuth;
  run(args: A, ctx: ToolContext): Promise<unknown> | unknown;
}

export function defineTool<S extends z.ZodType<Record<string, unknown>>>(
  def: Omit<ToolDefinition<z.infer<S>>, 'schema' | 'run'> & {
    schema: S;
    run(args: z.infer<S>, ctx: ToolContext): Promise<unknown> | unknown;
  },
): ToolDefinition {
  return def as unknown as ToolDefinition;
}

/** Thrown by ctx.interrupt; the tool activity turns it into an interrupt of the thread. */
export class InterruptSignal extends Error {
  override name = 'InterruptSignal';
  constructor(readonly value: unknown) {
    super('tool interrupted the thread');
  }
}

/**
 * A tool's own failure, as the tool activity hands it to wrapToolCall middleware (`cause` is what the tool threw):
 * `tool_retry` retries these and nothing else. Interrupts, cancellation and fatal tools' failures are not ToolErrors.
 * With `report`, a wrapper gave up on the call: the activity reports that text to the model at once (through every
 * wrapper again, so it is redacted whatever their order) instead of retrying the activity.
 */
export class ToolError extends Error {
  override name = 'ToolError';
  constructor(
    readonly toolName: string,
    override readonly cause: unknown,
    readonly report?: string,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export class ToolRegistry {
  private readonly byName = new Map<string, ToolDefinition>();

  /**
   * `groups` name several tools at once: an MCP server's, `mcp:<package>.<server>`. Their tools keep the names the
   * server gave them, so two packages may each use a server with a tool of one name; a call finds its tool through
   * the groups its graph names.
   */
  constructor(
    tools: ToolDefinition[],
    private readonly groups = new Map<string, ToolDefinition[]>(),
  ) {
    for (const t of tools) {
      if (this.byName.has(t.name)) throw new Error(`Two tools are named ${t.name}`);
      this.byName.set(t.name, t);
    }
  }

  /** The tool a call names; `scope` lists the run's tool names and groups (an MCP tool is found through its group). */
  get(name: string, scope: string[] = []): ToolDefinition | undefined {
    const plain = this.byName.get(name);
    if (plain) return plain;
    for (const g of scope) {
      const found = this.groups.get(g)?.find((t) => t.name === name);
      if (found) return found;
    }
    return undefined;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Specs of the named tools and groups for the model; names with no definition are skipped (reported at run time). */
  specs(names: string[]): ToolSpec[] {
    const tools = names.flatMap((n) => this.groups.get(n) ?? (this.byName.has(n) ? [this.byName.get(n)!] : []));
    return tools.map((t) => ({ name: t.name, description: t.description, parameters: this.parameters(t) }));
  }

  // Converting a zod schema takes longer than a scripted model turn: each tool's is converted once (definitions are fixed).
  private readonly converted = new WeakMap<ToolDefinition, Record<string, unknown>>();

  private parameters(t: ToolDefinition): Record<string, unknown> {
    let parameters = this.converted.get(t);
    if (!parameters) {
      const { $schema: _ignored, ...rest } = t.jsonSchema ?? (z.toJSONSchema(t.schema) as Record<string, unknown>);
      this.converted.set(t, (parameters = rest));
    }
    return parameters;
  }
}
