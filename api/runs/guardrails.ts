import { randomUUID } from 'node:crypto';
import type { AgentConfig } from '../../core/agent-config.js';
import { allDecisions, type ReviewConfig, type ReviewDecisionType } from '../../core/review.js';
import { MiddlewareError } from '../../core/middleware/define.js';
import { MiddlewareRegistry } from '../../activities/middleware/registry.js';
import { MiddlewareConfigError, parseMiddlewareEntries, type MiddlewareEntry, type MiddlewareRef } from '../../core/middleware/spec.js';
import { isRecord, type Message } from '../../core/messages.js';
import type { RunContext } from '../../core/runs.js';
import { normalizeWrites } from '../../core/state.js';
import { getPolicies, insertGuardrailEvents } from '../../db/guardrails.js';
import type { RunDeps } from '../deps.js';
import { invalid } from '../errors.js';

// Guardrails at run creation, the one door every mode goes through (runs routes, crons, MCP, A2A, resume):
// the run's middleware is the operator's policies (outermost, not removable) then the assistant's own list,
// validated here (a 422 names the problem); input filters (PII) rewrite the input before anything stores it.

const builtinsOnly = new MiddlewareRegistry();
export const registryOf = (deps: Pick<RunDeps, 'middleware'>) => deps.middleware ?? builtinsOnly;

export async function withMiddleware(
  deps: RunDeps,
  agent: AgentConfig,
  settings: Record<string, unknown>,
  /** The stored policies unless given (checks before a thread exists pass none: policies were checked when stored). */
  policies?: MiddlewareEntry[],
): Promise<AgentConfig> {
  try {
    const refs = registryOf(deps).resolve(policies ?? (await getPolicies(deps.db)), parseMiddlewareEntries(settings.middleware));
    if (!refs.length) return agent;
    return { ...agent, interruptOn: { ...agent.interruptOn, ...reviewsOf(refs) }, middleware: refs };
  } catch (err) {
    if (err instanceof MiddlewareConfigError) throw invalid(err.message);
    throw err;
  }
}

/** The middleware an assistant's runs get (policies first), for its graph; none when its own list is invalid. */
export async function assistantMiddleware(
  deps: Pick<RunDeps, 'db' | 'middleware'>,
  assistant: { config: { configurable?: Record<string, unknown> }; context: Record<string, unknown> },
): Promise<MiddlewareRef[]> {
  const policies = await getPolicies(deps.db);
  const settings = { ...(assistant.config.configurable ?? {}), ...assistant.context };
  try {
    return registryOf(deps).resolve(policies, parseMiddlewareEntries(settings.middleware));
  } catch {
    return registryOf(deps).resolve(policies, []);
  }
}

/** human_in_the_loop's interruptOn, in interrupt_on's terms: the tools step raises its reviews. */
function reviewsOf(refs: MiddlewareRef[]): Record<string, ReviewConfig> {
  const out: Record<string, ReviewConfig> = {};
  for (const r of refs.filter((m) => m.name === 'human_in_the_loop')) {
    const on = isRecord(r.options.interruptOn) ? r.options.interruptOn : {};
    for (const [tool, v] of Object.entries(on)) {
      if (v === false) continue;
      const o = isRecord(v) ? v : {};
      Object.defineProperty(out, tool, {
        value: {
          allowedDecisions: (o.allowedDecisions as ReviewDecisionType[] | undefined) ?? [...allDecisions],
          ...(typeof o.description === 'string' ? { description: o.description } : {}),
        },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return out;
}

/**
 * The input with every filterInput applied (PII redaction), and a record of what fired. A `block` refuses the
 * run with a 422 before anything is stored.
 */
export async function filterInput(deps: RunDeps, agent: AgentConfig, run: RunContext, input: unknown): Promise<unknown> {
  const refs = agent.middleware ?? [];
  if (!refs.length || !isRecord(input) || input.messages === undefined) return input;
  let messages: Message[];
  try {
    messages = normalizeWrites({ messages: input.messages }, randomUUID).messages as Message[];
  } catch {
    return input; // malformed input is refused later, with the usual message
  }
  try {
    const filtered = registryOf(deps).filterInput(refs, run, messages);
    if (!filtered.fired.length) return input;
    await insertGuardrailEvents(
      deps.db,
      filtered.fired.map((f, i) => ({
        run_id: run.runId,
        thread_id: run.threadId,
        middleware: f.id,
        hook: 'input',
        action: f.action,
        message_id: f.messageId ?? null,
        detail: f.detail ?? {},
        dedupe_key: `${run.runId}/input/${i}`,
      })),
    );
    return { ...input, messages: filtered.messages };
  } catch (err) {
    if (err instanceof MiddlewareError) throw invalid(err.message);
    throw err;
  }
}
