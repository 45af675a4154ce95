import { describe, expect, it } from 'vitest';
import { FailureType } from '../../core/failures.js';
import { MiddlewareError, type HookContext, type ToolCallResult } from '../../core/middleware/define.js';
import { MiddlewareConfigError } from '../../core/middleware/spec.js';
import { retryDelay } from '../../activities/middleware/model-calls.js';
import { MiddlewareRegistry } from '../../activities/middleware/registry.js';
import { errorKinds, toolRetry, toolRetrySchema, type ToolRetryOptions } from '../../activities/middleware/tool-retry.js';
import { InterruptSignal, ToolError } from '../../activities/tools/types.js';
import type { RunContext } from '../../core/runs.js';

// tool_retry's options (LangChain's names, defaults and old onFailure aliases) and its loop around a handler that
// stands for the tool activity's innermost handler: what it retries, how often, and what it leaves alone.

const options = (o: Record<string, unknown> = {}) => toolRetrySchema.parse({ initialDelayMs: 0, jitter: false, ...o });
const call = { call: { id: 'call_0', name: 'flaky', args: {}, type: 'tool_call' as const } };

function context(o: ToolRetryOptions, signal?: AbortSignal) {
  const fired: { action: string; detail?: Record<string, unknown> }[] = [];
  const ctx: HookContext<ToolRetryOptions> = {
    id: 'tool_retry',
    options: o,
    run: {} as RunContext,
    fire: (f) => fired.push(f),
    ...(signal ? { signal } : {}),
  };
  return { ctx, fired };
}

/** A handler whose tool fails `failures` times (with `err`), then answers. */
function flaky(failures: number, err: unknown = new Error('upstream 503')) {
  let runs = 0;
  const handler = async (): Promise<ToolCallResult> => {
    runs++;
    if (runs <= failures) throw err instanceof ToolError || err instanceof InterruptSignal ? err : new ToolError('flaky', err);
    return { content: 'ok', status: 'success' };
  };
  return { handler, runs: () => runs };
}

const wrap = (o: ToolRetryOptions, handler: () => Promise<ToolCallResult>, signal?: AbortSignal) => {
  const { ctx, fired } = context(o, signal);
  return { result: toolRetry.wrapToolCall!(call, handler, ctx as HookContext<Record<string, unknown>>), fired };
};

describe('tool_retry options', () => {
  it('has LangChain defaults and accepts its old onFailure names', () => {
    const o = toolRetrySchema.parse({});
    expect(o).toEqual({ maxRetries: 2, backoffFactor: 2, initialDelayMs: 1000, maxDelayMs: 60_000, jitter: true, onFailure: 'continue' });
    expect(toolRetrySchema.parse({ onFailure: 'return_message' }).onFailure).toBe('continue');
    expect(toolRetrySchema.parse({ onFailure: 'raise' }).onFailure).toBe('error');
    expect(toolRetrySchema.parse({ onFailure: 'error' }).onFailure).toBe('error');
  });

  it('is refused with a message naming the option', () => {
    const registry = new MiddlewareRegistry();
    const bad = (opts: Record<string, unknown>) => () => registry.resolve([], [{ name: 'tool_retry', options: opts }]);
    expect(bad({ maxRetries: -1 })).toThrow(MiddlewareConfigError);
    expect(bad({ onFailure: 'ignore' })).toThrow(/tool_retry: onFailure/);
    expect(bad({ tools: [] })).toThrow(/tools/);
    expect(bad({ retries: 3 })).toThrow(/invalid options for tool_retry/);
    const [ref] = registry.resolve([], [{ name: 'tool_retry', options: { tools: ['flaky'], onFailure: 'raise' } }]);
    expect(ref!.hooks).toEqual(['wrap_tool_call']);
    expect(ref!.options).toMatchObject({ tools: ['flaky'], onFailure: 'error', maxRetries: 2 });
  });

  it('backs off as model_retry does: exponential, capped, ±25% jitter', () => {
    const o = options({ initialDelayMs: 100, maxDelayMs: 350 });
    expect([0, 1, 2, 3].map((n) => retryDelay(o, n))).toEqual([100, 200, 350, 350]);
    expect(retryDelay({ ...o, jitter: true }, 1, () => 0)).toBe(150);
    expect(retryDelay({ ...o, jitter: true }, 1, () => 1)).toBe(250);
  });

  it('matches retryOn against the error name, class and code', () => {
    class QuotaError extends Error {}
    expect(errorKinds(new TypeError('x'))).toEqual(['TypeError']);
    expect(errorKinds(new QuotaError('x'))).toEqual(['Error', 'QuotaError']);
    expect(errorKinds(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toEqual(['Error', 'ECONNRESET']);
    expect(errorKinds('a string')).toEqual([]);
  });
});

describe('tool_retry around the tool', () => {
  it('runs the tool again until it succeeds, firing one retry per failure', async () => {
    const tool = flaky(2);
    const { result, fired } = wrap(options({ maxRetries: 3 }), tool.handler);
    await expect(result).resolves.toEqual({ content: 'ok', status: 'success' });
    expect(tool.runs()).toBe(3);
    expect(fired.map((f) => [f.action, f.detail?.attempt])).toEqual([
      ['retry', 1],
      ['retry', 2],
    ]);
    // The error's kind is recorded, never its message (records and events are stored and streamed).
    expect(JSON.stringify(fired)).not.toContain('upstream 503');
  });

  it('gives up after maxRetries: the error is reported (continue) or fails the run as a fatal tool (error)', async () => {
    const tool = flaky(10);
    const cont = wrap(options({ maxRetries: 2 }), tool.handler);
    const reported = await cont.result.catch((e: unknown) => e);
    expect(reported).toBeInstanceOf(ToolError);
    expect((reported as ToolError).report).toBe('Error: Tool "flaky" failed after 3 attempts: upstream 503');
    expect(tool.runs()).toBe(3);
    expect(cont.fired.at(-1)).toMatchObject({ action: 'gave_up', detail: { attempts: 3, error: 'Error' } });

    const raised = await wrap(options({ maxRetries: 1, onFailure: 'raise' }), flaky(10).handler).result.catch((e: unknown) => e);
    expect(raised).toBeInstanceOf(MiddlewareError);
    expect((raised as MiddlewareError).type).toBe(FailureType.fatalTool);
  });

  it('leaves other tools, other errors, interrupts and given-up errors alone', async () => {
    const other = flaky(1);
    await expect(wrap(options({ tools: ['another'] }), other.handler).result).rejects.toBeInstanceOf(ToolError);
    expect(other.runs()).toBe(1);

    const unmatched = flaky(1, new TypeError('bad input'));
    await expect(wrap(options({ retryOn: ['ECONNRESET'] }), unmatched.handler).result).rejects.toThrow('bad input');
    expect(unmatched.runs()).toBe(1);
    const matched = flaky(1, Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await expect(wrap(options({ retryOn: ['ECONNRESET'] }), matched.handler).result).resolves.toMatchObject({ status: 'success' });

    const asking = flaky(1, new InterruptSignal({ question: 'sure?' }));
    await expect(wrap(options(), asking.handler).result).rejects.toBeInstanceOf(InterruptSignal);
    expect(asking.runs()).toBe(1);

    const givenUp = flaky(1, new ToolError('flaky', new Error('x'), 'Error: reported'));
    await expect(wrap(options(), givenUp.handler).result).rejects.toMatchObject({ report: 'Error: reported' });
    expect(givenUp.runs()).toBe(1);
  });

  it('stops waiting between attempts when the run is cancelled', async () => {
    const abort = new AbortController();
    const tool = flaky(10);
    const { result } = wrap(options({ initialDelayMs: 600_000 }), tool.handler, abort.signal);
    abort.abort(new Error('cancelled'));
    await expect(result).rejects.toThrow();
    expect(tool.runs()).toBe(1);
  });
});
