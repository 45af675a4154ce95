import { FailureType } from '../../core/failures.js';
import { ApplicationFailure } from '@temporalio/common';
import type {
  HookContext,
  MiddlewareDefinition,
  ModelCallRequest,
  ModelCallResponse,
  ToolCallRequest,
  ToolCallResult,
} from '../../core/middleware/define.js';
import { Hook, inHookOrder, type MiddlewareRef } from '../../core/middleware/spec.js';
import type { RunContext } from '../../core/runs.js';
import type { ActivityDeps } from '../deps.js';
import type { FiredLog } from './fired.js';

// wrap* hooks run inside the model or tool activity, nested with the first middleware outermost, and run again
// when that activity retries (they are not steps: nothing is checkpointed between layers). The innermost handler
// of wrapToolCall runs the tool itself, so a wrapper may call it again (tool_retry).

type Wrapped<Q, R> = (req: Q) => Promise<R>;

function definitions(deps: ActivityDeps, refs: MiddlewareRef[] | undefined, hook: Hook): [MiddlewareRef, MiddlewareDefinition][] {
  return inHookOrder(refs, hook).map((r) => {
    const def = deps.middleware?.get(r.name);
    if (!def)
      throw ApplicationFailure.nonRetryable(
        `Middleware "${r.name}" is not registered with this worker`,
        FailureType.middlewareNotRegistered,
      );
    return [r, def];
  });
}

function context(
  ref: MiddlewareRef,
  run: RunContext,
  fired: FiredLog,
  hook: Hook,
  userId?: string,
  signal?: AbortSignal,
): HookContext<Record<string, unknown>> {
  return {
    id: ref.id,
    options: ref.options,
    run,
    fire: fired.by(ref.id, hook),
    ...(userId ? { userId } : {}),
    ...(signal ? { signal } : {}),
  };
}

export function wrapModelCall(
  deps: ActivityDeps,
  refs: MiddlewareRef[] | undefined,
  run: RunContext,
  fired: FiredLog,
  handler: Wrapped<ModelCallRequest, ModelCallResponse>,
  userId?: string,
): Wrapped<ModelCallRequest, ModelCallResponse> {
  return definitions(deps, refs, Hook.wrapModelCall).reduceRight<Wrapped<ModelCallRequest, ModelCallResponse>>(
    (inner, [ref, def]) =>
      (req) =>
        def.wrapModelCall!(req, inner, context(ref, run, fired, Hook.wrapModelCall, userId)),
    handler,
  );
}

export function wrapToolCall(
  deps: ActivityDeps,
  refs: MiddlewareRef[] | undefined,
  run: RunContext,
  fired: FiredLog,
  handler: Wrapped<ToolCallRequest, ToolCallResult>,
  userId?: string,
  signal?: AbortSignal,
): Wrapped<ToolCallRequest, ToolCallResult> {
  return definitions(deps, refs, Hook.wrapToolCall).reduceRight<Wrapped<ToolCallRequest, ToolCallResult>>(
    (inner, [ref, def]) =>
      (req) =>
        def.wrapToolCall!(req, inner, context(ref, run, fired, Hook.wrapToolCall, userId, signal)),
    handler,
  );
}

/** Some middleware must see a whole response before any of it streams (output redaction): tokens are held back. */
export function buffersOutput(deps: ActivityDeps, refs: MiddlewareRef[] | undefined): boolean {
  return (refs ?? []).some((r) => deps.middleware?.get(r.name)?.buffersOutput?.(r.options) === true);
}
